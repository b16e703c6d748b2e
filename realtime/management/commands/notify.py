"""`manage.py notify USER_ID --title TITLE [--body BODY]`: store and send a notification.

The user hears it live on `user:{id}` in whichever server process holds their sockets, when
`REDIS_URL` is set (the embedded in-memory layer reaches only this process).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime.notifications import notification_create


class Command(BaseCommand):
    help = "Store a notification for a user and send it to their `user:{id}` room."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", type=int)
        parser.add_argument("--title", required=True)
        parser.add_argument("--body", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(pk=options["user_id"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user with id {options['user_id']}")
        if not options["title"].strip():
            raise CommandError("--title must not be blank")
        notification = notification_create(user=user, title=options["title"], body=options["body"])
        self.stdout.write(f"notification {notification.pk} sent to user:{user.pk}")
