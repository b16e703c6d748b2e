"""Publish an event to a room: the one way events leave the server.

The caller names the room, so the caller decides exactly who receives the event (a security
decision, taken where the data is). Inside a transaction the event waits for the commit, and a
rollback drops it; outside one it is sent at once. `publish_event` is for synchronous code
(services, Celery workers, management commands); `apublish_event` for code on the event loop.

Each event gets the room's next sequence number when it is sent (after the commit), then goes
out through the channel layer to the room's group, in every process. A send that fails (Redis
down) is logged; clients notice the gap in `seq` at the room's next event and re-sync.
"""

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from ops import metrics
from realtime import registry, relay, sequence
from realtime.rooms import Room, parse_room

logger = logging.getLogger(__name__)

ACTIONS = frozenset({"create", "update", "delete"})
# The Channels message type; EventsConsumer.room_event handles it.
MESSAGE_TYPE = "room.event"


@dataclass(frozen=True, slots=True)
class Event:
    """An event ready to send, all but its sequence number."""

    room: Room
    event: str
    action: str
    payload: dict[str, Any]
    timestamp: str

    def frame(self, seq: int) -> dict[str, Any]:
        return {
            "type": "event",
            "room": self.room.name,
            "event": self.event,
            "action": self.action,
            "payload": self.payload,
            "timestamp": self.timestamp,
            "seq": seq,
        }


def build_event(*, room: str, event: str, action: str, payload: Mapping[str, Any]) -> Event:
    """Check the names and make the payload plain JSON; raise ValueError or TypeError early."""
    known = registry.event_names()
    if event not in known:
        raise ValueError(f"unknown event {event!r}; expected one of {known}")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {sorted(ACTIONS)}")
    plain = json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder))
    return Event(
        room=parse_room(room),
        event=event,
        action=action,
        payload=plain,
        timestamp=iso_now(),
    )


def iso_now() -> str:
    """Now as ISO 8601 UTC with a `Z`, to the millisecond."""
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def publish_event(*, room: str, event: str, action: str, payload: Mapping[str, Any]) -> None:
    """Send an event to a room once the current transaction commits (now, outside one)."""
    _refuse_event_loop()
    prepared = build_event(room=room, event=event, action=action, payload=payload)
    transaction.on_commit(lambda: send_now(prepared), robust=True)


async def apublish_event(*, room: str, event: str, action: str, payload: Mapping[str, Any]) -> None:
    """Send an event to a room now, from the event loop.

    Code on the event loop holds no transaction (the ORM runs in worker threads, one call at a
    time), so there is no commit to wait for; writes done through `database_sync_to_async`
    have committed when it returns. Publish from inside that synchronous code with
    `publish_event` to tie an event to its transaction.
    """
    prepared = build_event(room=room, event=event, action=action, payload=payload)
    await asend(prepared)


def send_now(event: Event) -> None:
    """Number and send an event from synchronous code; a failure is logged, never raised.

    In a worker on the in-memory layer the event is stored for the web process instead
    (realtime/relay.py)."""
    try:
        if relay.relaying():
            relay.relay_store(
                room=event.room.name,
                event=event.event,
                action=event.action,
                payload=event.payload,
                timestamp=event.timestamp,
            )
            return
        seq = sequence.next_seq(event.room.name)
        async_to_sync(_group_send)(event, seq)
    except Exception:
        logger.exception("event %s/%s to %s was not sent", event.event, event.action, event.room)


async def asend(event: Event) -> None:
    """Number and send an event from the event loop; a failure is logged, never raised."""
    try:
        seq = await sequence.anext_seq(event.room.name)
        await _group_send(event, seq)
    except Exception:
        logger.exception("event %s/%s to %s was not sent", event.event, event.action, event.room)


async def _group_send(event: Event, seq: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        logger.warning("no channel layer configured: event to %s dropped", event.room)
        return
    await layer.group_send(event.room.group, {"type": MESSAGE_TYPE, "frame": event.frame(seq)})
    metrics.event_published(event.event)


def _refuse_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("publish_event called on the event loop; use apublish_event")
