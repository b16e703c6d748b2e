"""`manage.py jobs_sweep`: requeue or fail jobs whose worker died, once."""

from typing import Any

from django.core.management.base import BaseCommand

from jobs.services.sweep import jobs_sweep


class Command(BaseCommand):
    help = "Requeue or fail lesson jobs whose worker stopped renewing its lease."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = jobs_sweep()
        self.stdout.write(", ".join(f"{name} {count}" for name, count in counts.items()))
