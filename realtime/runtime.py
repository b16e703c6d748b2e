"""Presence for realtime rooms, and its heartbeat: a component of the loop's `ProcessRuntime`.

A change of who is in a room is published as `presence` events, then handed to the room kind's
`on_presence` hook, if it declared one (learning tells instructors a lesson's viewer count).

With Redis, every `PRESENCE_HEARTBEAT_SECONDS` (default 10) the process renews its own
connections and sweeps every room for connections nobody renewed within three beats (a killed
process); the users who left are announced with `presence` `delete`. So a viewer held by a
dead process leaves within about four beats.

Without Redis (the in-memory layer reaches this process only), it polls for notifications that
other processes stored (`manage.py notify`) and the events workers stored, and publishes them
here: realtime/notification_poll.py and realtime/relay.py.
"""

import asyncio
import logging
from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.conf import settings

from realtime import registry
from realtime.notification_poll import NotificationPoll
from realtime.people import user_names
from realtime.presence import Changes, LocalPresence, RedisPresence
from realtime.publish import apublish_event
from realtime.relay import EventRelayPoll
from realtime.rooms import parse_room
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
            if settings.NOTIFICATIONS_POLL_SECONDS > 0:
                process.spawn(NotificationPoll().run_forever(), name="lectern-notification-poll")
                process.spawn(EventRelayPoll().run_forever(), name="lectern-event-relay")
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
        """Publish `presence` for the users who left, then for those who joined; then the
        room kind's `on_presence` hook, if any."""
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
        kind = registry.room_kind_get(room.kind)
        if kind is not None and kind.on_presence is not None:
            await kind.on_presence(room=room, presence=self.presence)

    async def aclose(self) -> None:
        """Nothing of its own to close: the runtime stops the heartbeat and closes Redis."""


async def realtime_service() -> RealtimeRuntime:
    """The running loop's realtime component, made on first use."""
    return await runtime().component(RealtimeRuntime)
