"""The rooms one `/ws/events/` socket is in: joining (with presence and the snapshot) and
leaving, on behalf of its signed-in user."""

import logging
from typing import Any

from channels.db import database_sync_to_async

from realtime.rooms import Room, room_may_join
from realtime.runtime import RealtimeRuntime
from realtime.sequence import acurrent_seq
from realtime.snapshots import snapshot_build
from sockets.errors import Forbidden

logger = logging.getLogger(__name__)


class Membership:
    """One socket's rooms, by name; each joined room's group delivers its events here."""

    def __init__(self, *, socket: Any, runtime: RealtimeRuntime) -> None:
        self.socket = socket
        self.runtime = runtime
        self.rooms: dict[str, Room] = {}

    def __contains__(self, room_name: object) -> bool:
        return room_name in self.rooms

    async def join(self, room: Room) -> dict[str, Any]:
        """Join (once) and return `subscribed` with the room's seq and snapshot: also the
        re-sync path."""
        user = self.socket.user
        if not await database_sync_to_async(room_may_join)(user=user, room=room):
            raise Forbidden("You may not join this room, or it does not exist.")
        if room.name not in self.rooms:
            await self.socket.channel_layer.group_add(room.group, self.socket.channel_name)
            self.rooms[room.name] = room
            if room.has_presence:
                presence = self.runtime.presence
                joined, left = await presence.join(room.name, user.pk, self.socket.connection_id)
                await self.runtime.announce(
                    room.name, joined=[user.pk] if joined else [], left=left
                )
        # The seq before the snapshot: every event numbered after it reaches this socket (the
        # group is joined), and every event up to it is in the snapshot.
        seq = await acurrent_seq(room.name)
        snapshot = await snapshot_build(user=user, room=room, presence=self.runtime.presence)
        return {"type": "subscribed", "room": room.name, "snapshot": snapshot, "seq": seq}

    async def leave(self, room: Room) -> None:
        """Leave a room if this socket is in it."""
        if self.rooms.pop(room.name, None) is None:
            return
        await self.socket.channel_layer.group_discard(room.group, self.socket.channel_name)
        if room.has_presence:
            user_id, connection_id = self.socket.user.pk, self.socket.connection_id
            left = await self.runtime.presence.leave(room.name, user_id, connection_id)
            await self.runtime.announce(room.name, left=left)

    async def leave_all(self) -> None:
        """Leave every room, each on its own (the socket closed)."""
        for room in list(self.rooms.values()):
            try:
                await self.leave(room)
            except Exception:  # one room failing must not keep the others
                logger.exception("leaving %s failed", room)
