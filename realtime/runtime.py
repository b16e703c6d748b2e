"""Presence for realtime rooms, and its heartbeat: a component of the loop's `ProcessRuntime`.

With Redis, every `PRESENCE_HEARTBEAT_SECONDS` (default 10) the process renews its own
connections and sweeps every room for connections nobody renewed within three beats (a killed
process); the users who left are announced with `presence` `delete`. So a viewer held by a
dead process leaves within about four beats.
"""

import asyncio
import logging
from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.conf import settings

from realtime.presence import Changes, LocalPresence, RedisPresence
from realtime.publish import apublish_event
from realtime.rooms import parse_room
from realtime.snapshots import lesson_instructors, user_names
from sockets.redis import redis_errors
from sockets.runtime import ProcessRuntime, runtime

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return max(float(settings.PRESENCE_HEARTBEAT_SECONDS), 0.1)


class RealtimeRuntime:
    def __init__(self, process: ProcessRuntime) -> None:
        redis = process.redis
        self.presence: LocalPresence | RedisPresence
        if redis is None:
            self.presence = LocalPresence()
        else:
            self.presence = RedisPresence(redis, ttl=3 * heartbeat_seconds())
            process.spawn(self._beat_forever(), name="lectern-presence")

    @classmethod
    async def start(cls, process: ProcessRuntime) -> "RealtimeRuntime":
        return cls(process)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(heartbeat_seconds())
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except redis_errors() as exc:
                logger.warning("presence heartbeat: Redis unavailable (%s)", type(exc).__name__)
            except Exception:
                logger.exception("presence heartbeat failed")

    async def beat(self) -> None:
        """Renew this process's connections, then announce who left from any process."""
        await self.announce_changes(await self.presence.refresh())
        await self.announce_changes(await self.presence.sweep())

    async def announce_changes(self, changes: Changes) -> None:
        for room, (joined, left) in changes.items():
            await self.announce(room, joined=joined, left=left)

    async def announce(
        self, room_name: str, *, joined: Iterable[int] = (), left: Iterable[int] = ()
    ) -> None:
        """Publish `presence` for the users who left, then for those who joined; on a lesson
        room, the new viewer count to the course's instructors (`analytics`)."""
        joined, left = list(joined), list(left)
        if not joined and not left:
            return
        names = await database_sync_to_async(user_names)([*left, *joined])
        for action, ids in (("delete", left), ("create", joined)):
            for user_id in ids:
                await apublish_event(
                    room=room_name,
                    event="presence",
                    action=action,
                    payload={"user_id": user_id, "display_name": names.get(user_id, "")},
                )
        room = parse_room(room_name)
        if room.kind == "lesson":
            found = await database_sync_to_async(lesson_instructors)(room.id)
            if found is None:
                return
            course_id, instructors = found
            viewers = (await self.presence.counts([room_name]))[room_name]
            payload = {"lesson_id": room.id, "course_id": course_id, "viewers": viewers}
            for user_id in instructors:
                target = f"instructor:{user_id}"
                await apublish_event(
                    room=target, event="analytics", action="update", payload=payload
                )

    async def aclose(self) -> None:
        """Nothing of its own to close: the runtime stops the heartbeat and closes Redis."""


async def realtime_service() -> RealtimeRuntime:
    """The running loop's realtime component, made on first use."""
    return await runtime().component(RealtimeRuntime)
