"""Without Redis, notifications stored by another process still reach this server's pages.

The embedded in-memory channel layer lives in one process: a notification that
`manage.py notify` (or any other process) stores is published into that process's layer, where
no socket listens. So a server without a shared layer looks for notifications stored since it
started, every `NOTIFICATIONS_POLL_SECONDS`, and publishes those it did not publish itself
(`notification` `create` to `user:{id}`). Clients key notifications by id, so one that also
arrived in a snapshot is not shown twice.
"""

import logging
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.utils import timezone

from realtime.models import Notification
from realtime.notifications import notification_payload, notifications_published_here
from realtime.polling import poll_forever
from realtime.publish import apublish_event

logger = logging.getLogger(__name__)

# A row committed late (a long transaction) is still found if it is at most this old.
LOOKBACK = timedelta(seconds=60)


def notifications_stored_since(*, since: datetime) -> list[Notification]:
    """Notifications stored at or after `since`, oldest first."""
    return list(Notification.objects.filter(created_at__gte=since).order_by("created_at", "pk"))


class NotificationPoll:
    """Publishes the notifications other processes stored, on this event loop."""

    def __init__(self) -> None:
        self.started = timezone.now()
        self.seen: dict[int, datetime] = {}

    async def run_forever(self) -> None:
        await poll_forever(self.poll, failing="looking for new notifications failed")

    async def poll(self) -> int:
        """Publish what is new since the last poll; return how many were published."""
        since = max(self.started, timezone.now() - LOOKBACK)
        rows = await database_sync_to_async(notifications_stored_since)(since=since)
        known = set(self.seen) | notifications_published_here()
        fresh = [row for row in rows if row.pk not in known]
        for row in fresh:
            self.seen[row.pk] = row.created_at
            await apublish_event(
                room=f"user:{row.user_id}",
                event="notification",
                action="create",
                payload=notification_payload(row),
            )
        self.seen = {pk: at for pk, at in self.seen.items() if at >= since}
        return len(fresh)
