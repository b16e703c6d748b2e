"""Limits that protect users and the bill: message rate and connections per user.

The message rate is a GCRA (generic cell rate algorithm): a smooth token bucket that allows a
burst of `per_minute` and then one message every `60 / per_minute` seconds, with no fixed
window to double up at a boundary. With `REDIS_URL` it runs atomically in Redis (one Lua call),
so every process shares it; embedded, it runs in memory. While Redis is unreachable (a
restart), both limits fall back to this process's own count rather than refusing everyone.
"""

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import defaultdict
from typing import Any

from sockets.redis import redis_errors

_GCRA_LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local over = tat - now - (burst - 1) * interval
if over > 0 then
  return tostring(over)
end
local new_tat = tat + interval
redis.call('SET', key, tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""


logger = logging.getLogger(__name__)


def _gcra(tat: float, now: float, interval: float, burst: int) -> tuple[float, float]:
    """(retry_after, new_tat): retry_after 0 means allowed."""
    tat = max(tat, now)
    over = tat - now - (burst - 1) * interval
    if over > 0:
        return over, tat
    return 0.0, tat + interval


class RateLimiter:
    """Messages per minute per key (a user, an address): in Redis when given a client."""

    def __init__(self, redis: Any | None = None) -> None:
        self._tat: dict[str, float] = {}
        self._script = redis.register_script(_GCRA_LUA) if redis is not None else None

    async def hit(self, key: str, per_minute: int) -> float:
        """Count one message; return 0 when allowed, else seconds until the next is allowed."""
        interval = 60.0 / per_minute
        now = time.time()
        if self._script is not None:
            try:
                result = await self._script(
                    keys=[f"lectern:rate:{key}"], args=[now, interval, per_minute]
                )
                return float(result)
            except redis_errors() as exc:
                logger.warning(
                    "rate limit: Redis unavailable (%s); counting locally", type(exc).__name__
                )
        retry_after, self._tat[key] = _gcra(self._tat.get(key, now), now, interval, per_minute)
        return retry_after


class ConnectionCounter:
    """Open connections per user (or anonymous address), across processes with Redis (entries
    expire if a process dies)."""

    TTL = 60

    def __init__(self, redis: Any | None = None) -> None:
        self._local: dict[int | str, set[str]] = defaultdict(set)
        self._refresher: asyncio.Task[None] | None = None
        self._redis = redis

    async def add(self, user_id: int | str, connection_id: str) -> int:
        """Register a connection of a user (or an `anon:{address}` key); return how many it
        now has."""
        self._local[user_id].add(connection_id)
        self._ensure_refreshing()
        if self._redis is None:
            return len(self._local[user_id])
        key, now = f"lectern:conns:{user_id}", time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, now)
        pipe.zadd(key, {connection_id: now + self.TTL})
        pipe.expire(key, self.TTL)
        pipe.zcard(key)
        try:
            return int((await pipe.execute())[-1])
        except redis_errors() as exc:
            logger.warning(
                "connections: Redis unavailable (%s); counting locally", type(exc).__name__
            )
            return len(self._local[user_id])

    async def remove(self, user_id: int | str, connection_id: str) -> None:
        self._local[user_id].discard(connection_id)
        if not self._local[user_id]:
            self._local.pop(user_id, None)
        if self._redis is not None:
            try:
                await self._redis.zrem(f"lectern:conns:{user_id}", connection_id)
            except redis_errors():
                pass  # the entry expires on its own within TTL

    def _ensure_refreshing(self) -> None:
        if self._redis is not None and (self._refresher is None or self._refresher.done()):
            self._refresher = asyncio.get_running_loop().create_task(
                self._refresh_forever(), context=contextvars.Context()
            )

    async def _refresh_forever(self) -> None:
        while self._local:
            await asyncio.sleep(self.TTL / 3)
            try:
                await self.refresh()
            except redis_errors() as exc:
                logger.warning("connections: refresh failed (%s)", type(exc).__name__)

    async def aclose(self) -> None:
        """Stop refreshing (the runtime is shutting down; Redis entries expire on their own)."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher

    async def refresh(self) -> None:
        """Keep this process's connections alive in Redis (entries not refreshed expire)."""
        if self._redis is None or not self._local:
            return
        expires = time.time() + self.TTL
        pipe = self._redis.pipeline(transaction=False)
        for user_id, ids in self._local.items():
            pipe.zadd(f"lectern:conns:{user_id}", dict.fromkeys(ids, expires))
            pipe.expire(f"lectern:conns:{user_id}", self.TTL)
        await pipe.execute()
