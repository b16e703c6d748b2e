"""What `subscribed` carries: the room's current state, so that no client depends on having
been connected when an event went out.

A room kind's snapshot is `presence` (for kinds whose rooms have presence: who is viewing),
then each part its apps declared (`realtime.registry.snapshot_part_register`), in order:
every part is read in one trip to the database thread, then parts that add live data (viewer
counts) complete on the event loop.
"""

from typing import Any

from channels.db import database_sync_to_async

from realtime import registry
from realtime.people import user_names
from realtime.rooms import Room


def presence_list(user_ids: list[int]) -> list[dict[str, Any]]:
    """The viewers of a room, as `presence` entries (ORM)."""
    names = user_names(user_ids)
    return [{"user_id": i, "display_name": names[i]} for i in user_ids if i in names]


async def snapshot_build(*, user: Any, room: Room, presence: Any) -> dict[str, Any]:
    """The snapshot of a room the user has been allowed to join."""
    kind = registry.room_kind_get(room.kind)
    if kind is None:
        raise ValueError(f"no room kind {room.kind!r}")
    viewers = await presence.users(room.name) if kind.presence else None

    def read() -> dict[str, Any]:
        snapshot: dict[str, Any] = {}
        if viewers is not None:
            snapshot["presence"] = presence_list(viewers)
        for part in kind.parts:
            snapshot[part.key] = part.read(user=user, room_id=room.id)
        return snapshot

    snapshot = await database_sync_to_async(read)()
    for part in kind.parts:
        if part.live is not None:
            snapshot[part.key] = await part.live(snapshot[part.key], presence)
    return snapshot
