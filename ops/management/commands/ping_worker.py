"""`manage.py ping_worker [--queue Q] [--timeout S]`: is a worker taking jobs from a queue?"""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.services import worker_ping_send, worker_ping_wait


class Command(BaseCommand):
    help = "Queue a ping task and wait for a worker to answer it (exit 1 if none does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue", default=settings.AI_QUEUE, choices=[settings.AI_QUEUE, settings.REPO_QUEUE]
        )
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        token = worker_ping_send(queue=options["queue"])
        answer = worker_ping_wait(token=token, timeout=options["timeout"])
        if answer is None:
            raise CommandError(
                f"no worker answered on {options['queue']} within {options['timeout']:g} s "
                "(is `celery -A config worker` running with the same broker and database?)"
            )
        elapsed = time.monotonic() - started
        self.stdout.write(f"{answer.hostname} answered on {answer.queue} in {elapsed:.2f} s")
