"""Who is in a course or lesson room now, counted per connection (tabs, devices).

A user joins a room with their first connection to it and leaves with their last; `join` and
`leave` say when that happens, so the caller publishes `presence` `create` and `delete`.

Embedded: dictionaries in this process (a process that dies takes its sockets with it, and
daphne closes a dead connection after its ping timeout, which runs `leave`).

With Redis, each room has a sorted set of `{user_id}|{connection_id}` scored by expiry time,
a hash of connections per user, and the set of rooms with anyone in them. Each process renews
its own connections on every heartbeat (`refresh`); `sweep` drops the entries of a process
that stopped renewing them (killed) and reports the users that left. Every change runs as one
Lua script, so when several processes sweep at once exactly one of them reports each leave.
"""

import time
from collections import defaultdict
from typing import Any

KEY = "lectern:presence:{}"
USERS_KEY = "lectern:presence:{}:users"
ROOMS_KEY = "lectern:presence:rooms"

_PURGE = """
local function purge(z, h, now)
  local left = {}
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', now)) do
    redis.call('ZREM', z, m)
    local uid = string.match(m, '^(%d+)|')
    if redis.call('HINCRBY', h, uid, -1) <= 0 then
      redis.call('HDEL', h, uid)
      table.insert(left, uid)
    end
  end
  return left
end
local function tidy(z, h, r, room)
  if redis.call('ZCARD', z) == 0 then
    redis.call('DEL', h)
    redis.call('SREM', r, room)
  end
end
"""
# KEYS: zset, users hash, rooms set. ARGV: now, expiry, room, members...
# Returns {users who joined, users who left}.
_JOIN = (
    _PURGE
    + """
local left = purge(KEYS[1], KEYS[2], ARGV[1])
local joined = {}
for i = 4, #ARGV do
  if redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i]) == 1 then
    local uid = string.match(ARGV[i], '^(%d+)|')
    if redis.call('HINCRBY', KEYS[2], uid, 1) == 1 then table.insert(joined, uid) end
  end
end
if #ARGV >= 4 then redis.call('SADD', KEYS[3], ARGV[3]) end
tidy(KEYS[1], KEYS[2], KEYS[3], ARGV[3])
return {joined, left}
"""
)
# KEYS as above. ARGV: now, room, member (optional). Returns the users who left.
_LEAVE = (
    _PURGE
    + """
local left = purge(KEYS[1], KEYS[2], ARGV[1])
if ARGV[3] and redis.call('ZREM', KEYS[1], ARGV[3]) == 1 then
  local uid = string.match(ARGV[3], '^(%d+)|')
  if redis.call('HINCRBY', KEYS[2], uid, -1) <= 0 then
    redis.call('HDEL', KEYS[2], uid)
    table.insert(left, uid)
  end
end
tidy(KEYS[1], KEYS[2], KEYS[3], ARGV[2])
return left
"""
)

Changes = dict[str, tuple[list[int], list[int]]]  # room -> (joined, left)


class LocalPresence:
    """Presence in this process only (the embedded run mode)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[int, set[str]]] = defaultdict(dict)

    async def join(self, room: str, user_id: int, connection_id: str) -> tuple[bool, list[int]]:
        """Add a connection; (whether the user just arrived, users found gone)."""
        connections = self._rooms[room].setdefault(user_id, set())
        first = not connections
        connections.add(connection_id)
        return first, []

    async def leave(self, room: str, user_id: int, connection_id: str) -> list[int]:
        """Remove a connection; the users who left (this one, if it was their last)."""
        users = self._rooms.get(room, {})
        connections = users.get(user_id, set())
        if connection_id not in connections:
            return []
        connections.discard(connection_id)
        if connections:
            return []
        del users[user_id]
        if not users:
            self._rooms.pop(room, None)
        return [user_id]

    async def users(self, room: str) -> list[int]:
        return sorted(self._rooms.get(room, {}))

    async def counts(self, rooms: list[str]) -> dict[str, int]:
        return {room: len(self._rooms.get(room, {})) for room in rooms}

    async def users_of(self, rooms: list[str]) -> dict[str, list[int]]:
        return {room: sorted(self._rooms.get(room, {})) for room in rooms}

    async def refresh(self) -> Changes:
        return {}

    async def sweep(self) -> Changes:
        return {}


class RedisPresence:
    """Presence shared by every process through Redis, with expiring entries."""

    def __init__(self, redis: Any, ttl: float) -> None:
        self.redis = redis
        self.ttl = ttl
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._mine: dict[str, set[str]] = defaultdict(set)  # room -> this process's members

    def _keys(self, room: str) -> list[str]:
        return [KEY.format(room), USERS_KEY.format(room), ROOMS_KEY]

    async def join(self, room: str, user_id: int, connection_id: str) -> tuple[bool, list[int]]:
        member = f"{user_id}|{connection_id}"
        self._mine[room].add(member)
        now = time.time()
        joined, left = await self._join(
            keys=self._keys(room), args=[now, now + self.ttl, room, member]
        )
        return bool(joined), _ids(left)

    async def leave(self, room: str, user_id: int, connection_id: str) -> list[int]:
        member = f"{user_id}|{connection_id}"
        mine = self._mine.get(room)
        if mine is not None:
            mine.discard(member)
            if not mine:
                del self._mine[room]
        return _ids(await self._leave(keys=self._keys(room), args=[time.time(), room, member]))

    async def users(self, room: str) -> list[int]:
        return sorted(_ids(await self.redis.hkeys(USERS_KEY.format(room))))

    async def users_of(self, rooms: list[str]) -> dict[str, list[int]]:
        """The users viewing each room, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for room in rooms:
            pipe.hkeys(USERS_KEY.format(room))
        found = await pipe.execute()
        return {room: sorted(_ids(keys)) for room, keys in zip(rooms, found, strict=True)}

    async def counts(self, rooms: list[str]) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        for room in rooms:
            pipe.hlen(USERS_KEY.format(room))
        return dict(zip(rooms, [int(n) for n in await pipe.execute()], strict=True))

    async def refresh(self) -> Changes:
        """Renew this process's connections; re-add any a sweep took (a stalled process)."""
        changes: Changes = {}
        now = time.time()
        for room, members in list(self._mine.items()):
            joined, left = await self._join(
                keys=self._keys(room), args=[now, now + self.ttl, room, *members]
            )
            if joined or left:
                changes[room] = (_ids(joined), _ids(left))
        return changes

    async def sweep(self) -> Changes:
        """Drop expired connections in every room; the users who left, per room."""
        changes: Changes = {}
        for raw in await self.redis.smembers(ROOMS_KEY):
            room = raw.decode()
            left = _ids(await self._leave(keys=self._keys(room), args=[time.time(), room]))
            if left:
                changes[room] = ([], left)
        return changes


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values]
