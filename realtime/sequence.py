"""Per-room sequence numbers: each event in a room carries the next one.

A client that sees a room's `seq` jump by more than one has missed an event and subscribes to
the room again for a fresh snapshot; an event whose `seq` is not above the last one it knows is
already reflected in its snapshot and is ignored.

With `REDIS_URL` the number is a Redis counter (`lectern:seq:{room}`), atomic across
processes. A counter that does not exist yet (a new room, or Redis restarted without its data)
starts at the current time in milliseconds, so numbers never go backwards: after a Redis
restart, clients see a jump and re-sync instead of ignoring every later event. Embedded, it is
a counter in this process, starting at zero.
"""

import threading
import time

from sockets.redis import async_redis, sync_redis

KEY = "lectern:seq:{}"

# INCRBY 0 reads the number (starting the counter if needed); INCRBY 1 takes the next one.
_NEXT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCRBY', KEYS[1], ARGV[2])
"""

_lock = threading.Lock()
_local: dict[str, int] = {}


def _base() -> int:
    return int(time.time() * 1000)


def _local_step(room: str, step: int) -> int:
    with _lock:
        value = _local.get(room, 0) + step
        _local[room] = value
        return value


def next_seq(room: str) -> int:
    """The room's next number (synchronous: workers, commands, `on_commit` callbacks)."""
    client = sync_redis()
    if client is None:
        return _local_step(room, 1)
    return int(client.eval(_NEXT_LUA, 1, KEY.format(room), _base(), 1))


def current_seq(room: str) -> int:
    """The number of the room's latest event (synchronous)."""
    client = sync_redis()
    if client is None:
        return _local_step(room, 0)
    return int(client.eval(_NEXT_LUA, 1, KEY.format(room), _base(), 0))


async def anext_seq(room: str) -> int:
    """The room's next number (on the event loop)."""
    client = async_redis()
    if client is None:
        return _local_step(room, 1)
    return int(await client.eval(_NEXT_LUA, 1, KEY.format(room), _base(), 1))


async def acurrent_seq(room: str) -> int:
    """The number of the room's latest event (on the event loop)."""
    client = async_redis()
    if client is None:
        return _local_step(room, 0)
    return int(await client.eval(_NEXT_LUA, 1, KEY.format(room), _base(), 0))
