"""How client frames of `/ws/events/` are served: realtime's own (`subscribe`, `unsubscribe`,
`mark_read`), and `service_action`, which makes an action of a synchronous service.

A service action runs in a worker thread with the signed-in user and the validated frame, and
returns the fields of its `ack`. It refuses with Django's own exceptions, which the consumer
maps to the wire in one place: `PermissionDenied` -> `forbidden`, `ObjectDoesNotExist` ->
`not_found`, `ValidationError` -> `invalid_message`.
"""

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from pydantic import BaseModel

from realtime.notifications import notifications_mark_read
from realtime.protocol import MarkReadFrame, SubscribeFrame, UnsubscribeFrame
from realtime.registry import ClientAction, frame_type
from realtime.rooms import InvalidRoom, Room, parse_room
from sockets.errors import InvalidMessage


def service_action(
    *,
    frame: type[BaseModel],
    summary: str,
    run: Callable[..., dict[str, Any]],
    ack: dict[str, tuple[Any, Any]],
) -> ClientAction:
    """An action answered `ack`: `run(*, user, frame)` (ORM) gives the ack's fields."""
    of = frame_type(frame)

    async def serve(socket: Any, received: Any) -> dict[str, Any]:
        fields = await database_sync_to_async(run)(user=socket.user, frame=received)
        return {"type": "ack", "of": of, **fields}

    return ClientAction(frame=frame, summary=summary, serve=serve, reply="ack", ack=ack)


def room_of(name: str) -> Room:
    """The room a frame names, or `invalid_message` about its `room` field."""
    try:
        return parse_room(name)
    except InvalidRoom as exc:
        raise InvalidMessage(details=[{"field": "room", "message": str(exc)}]) from None


async def subscribe(socket: Any, frame: SubscribeFrame) -> dict[str, Any]:
    """Join a room (or re-sync one): `subscribed` with its snapshot and seq."""
    return await socket.membership.join(room_of(frame.room))


async def unsubscribe(socket: Any, frame: UnsubscribeFrame) -> dict[str, Any]:
    """Leave a room; `unsubscribed` even when it was not joined."""
    room = room_of(frame.room)
    await socket.membership.leave(room)
    return {"type": "unsubscribed", "room": room.name}


def mark_read(*, user: Any, frame: MarkReadFrame) -> dict[str, Any]:
    """Mark some of the user's notifications read: the ids that were marked."""
    ids = notifications_mark_read(user=user, notification_ids=frame.notification_ids)
    return {"notification_ids": ids}
