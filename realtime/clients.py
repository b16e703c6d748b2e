"""Redis clients for the realtime app: one synchronous client per process, one asynchronous
client per event loop (redis-py's asyncio connections belong to the loop that opened them).

Both exist only when `REDIS_URL` is set; embedded, the realtime app keeps its state in memory.
"""

import asyncio
import threading
import weakref
from typing import Any

from django.conf import settings

_sync_lock = threading.Lock()
_sync_clients: dict[str, Any] = {}
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = (
    weakref.WeakKeyDictionary()
)


def redis_errors() -> tuple[type[Exception], ...]:
    """What a Redis outage raises (a restart: connection refused, reset, timeouts)."""
    import redis

    return (redis.RedisError, OSError)


def sync_redis() -> Any | None:
    """This process's synchronous client (thread-safe connection pool), or None embedded."""
    url = settings.REDIS_URL
    if not url:
        return None
    client = _sync_clients.get(url)
    if client is None:
        with _sync_lock:
            client = _sync_clients.get(url)
            if client is None:
                import redis

                client = _sync_clients[url] = redis.Redis.from_url(url)
    return client


def async_redis() -> Any | None:
    """This event loop's asynchronous client, or None embedded."""
    url = settings.REDIS_URL
    if not url:
        return None
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio as aredis

        client = _async_clients[loop] = aredis.Redis.from_url(url)
    return client


async def aclose_async_redis() -> None:
    """Close this loop's client (at shutdown, and between tests)."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
