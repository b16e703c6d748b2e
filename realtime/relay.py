"""Without Redis, events a worker publishes still reach the web process's sockets.

On the embedded defaults (no `REDIS_URL`) the channel layer is in memory, one per process: an
event a Celery worker publishes (a lesson's `generation` status, an import's progress) would
reach no socket. So a worker on that layer stores what it publishes (`relay_enable`, called
when the worker starts), and a web server on that layer reads what was stored every
`NOTIFICATIONS_POLL_SECONDS` and sends it to its rooms, numbered there (`EventRelayPoll`).
Notifications are left out: the server already sends stored notifications
(realtime/notification_poll.py). With Redis nothing here runs: the layer is shared.
"""

import logging
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from realtime.models import RelayedEvent
from realtime.polling import poll_forever

logger = logging.getLogger(__name__)

# Rows are read within a poll or two; older ones are deleted by the server that reads them.
KEEP = timedelta(minutes=5)

_relaying = False


def layer_is_in_memory() -> bool:
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    return str(backend).endswith("InMemoryChannelLayer")


def relay_enable() -> bool:
    """In a process that serves no socket (a worker): store events instead of sending them into
    an in-memory layer nobody listens to. Returns whether relaying is on."""
    global _relaying
    _relaying = layer_is_in_memory()
    return _relaying


def relaying() -> bool:
    return _relaying


def relay_store(
    *, room: str, event: str, action: str, payload: dict[str, Any], timestamp: str
) -> None:
    """Keep an event for the web process (called after the publishing transaction commits)."""
    if event == "notification":
        return  # sent from the stored Notification row by the notification poll
    RelayedEvent.objects.create(
        room=room, event=event, action=action, payload=payload, timestamp=timestamp
    )


def relayed_since(last_id: int) -> list[RelayedEvent]:
    return list(RelayedEvent.objects.filter(pk__gt=last_id).order_by("pk")[:500])


def relayed_last_id() -> int:
    last = RelayedEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def relayed_prune() -> int:
    deleted, _ = RelayedEvent.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted


class EventRelayPoll:
    """Sends, on this event loop, the events workers stored since this server started."""

    def __init__(self) -> None:
        self.last_id: int | None = None

    async def run_forever(self) -> None:
        await poll_forever(self.poll, failing="relaying the workers' events failed")

    async def poll(self) -> int:
        """Send what was stored since the last poll; return how many were sent."""
        from realtime.publish import Event, asend
        from realtime.rooms import parse_room

        if self.last_id is None:  # events stored before this server started are stale
            self.last_id = await database_sync_to_async(relayed_last_id)()
            await database_sync_to_async(relayed_prune)()
            return 0
        rows = await database_sync_to_async(relayed_since)(self.last_id)
        for row in rows:
            self.last_id = row.pk
            await asend(
                Event(
                    room=parse_room(row.room),
                    event=row.event,
                    action=row.action,
                    payload=row.payload,
                    timestamp=row.timestamp,
                )
            )
        if rows:
            await database_sync_to_async(relayed_prune)()
        return len(rows)
