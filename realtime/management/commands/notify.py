"""`manage.py notify USER_ID --title TITLE [--body BODY]`: store and send a notification.

With `REDIS_URL` the user hears it at once on `user:{id}`, in whichever server process holds
their sockets. Without it, the in-memory layer reaches only this command's process: a running
server finds the stored row within `NOTIFICATIONS_POLL_SECONDS` and sends it to the open pages
(realtime/notification_poll.py). The output says which.
"""

from typing import Any

from django.conf import settings
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
        self.stdout.write(f"notification {notification.pk} stored for user:{user.pk}; {delivery()}")


def delivery() -> str:
    """How the stored notification reaches open pages, in this configuration."""
    if settings.REDIS_URL:
        return "sent to their open pages through Redis"
    if settings.NOTIFICATIONS_POLL_SECONDS > 0:
        return (
            "no REDIS_URL: a running server sends it to their open pages within "
            f"{settings.NOTIFICATIONS_POLL_SECONDS:g} s (it polls for new notifications)"
        )
    return "not sent live (no REDIS_URL, NOTIFICATIONS_POLL_SECONDS=0): pages see it on reload"
