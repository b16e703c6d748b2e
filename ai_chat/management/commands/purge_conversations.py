"""`manage.py purge_conversations --older-than DAYS`: retention of conversations."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai_chat.services.conversations import conversations_purge


class Command(BaseCommand):
    help = "Delete conversations (and their messages) not updated for DAYS days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        count = conversations_purge(older_than_days=days)
        self.stdout.write(f"deleted {count} conversations not updated for {days} days")
