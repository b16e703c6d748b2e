"""Redis clients: one synchronous client per process, and the event loop's asynchronous one.

redis-py's asyncio connections belong to the loop that opened them, so the asynchronous client
is owned by the loop's `ProcessRuntime` (and closed by its `shutdown()`). Both exist only when
`REDIS_URL` is set; embedded, every app keeps its state in memory.
"""

import threading
from typing import Any

from django.conf import settings

_sync_lock = threading.Lock()
_sync_clients: dict[str, Any] = {}


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


def new_async_redis() -> Any | None:
    """A new asynchronous client for the running loop, or None embedded."""
    if not settings.REDIS_URL:
        return None
    import redis.asyncio as aredis

    return aredis.Redis.from_url(settings.REDIS_URL)


def async_redis() -> Any | None:
    """The running loop's asynchronous client (its runtime's), or None embedded."""
    from sockets.runtime import runtime

    return runtime().redis
