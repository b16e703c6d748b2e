"""The readiness checks behind `/healthz`: database, Redis, channel layer, and the checks apps
register (`register_check`: ai_chat's provider check), so ops imports no feature app.

Each check runs concurrently with the others, is bounded by `HEALTHZ_TIMEOUT_SECONDS` (default
2), and reports `ok` plus how long it took; a failure reports the exception's class name only,
never its message (messages can hold hosts, users or passwords). No model request is made: the
provider check reads configuration.
"""

import asyncio
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connections

DEFAULT_TIMEOUT = 2.0
Check = dict[str, Any]

# Database pings run on their own two threads: a database that hangs holds at most these, not
# the loop's default executor that the rest of the process shares.
_db_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lectern-healthz")


def check_timeout() -> float:
    return float(getattr(settings, "HEALTHZ_TIMEOUT_SECONDS", DEFAULT_TIMEOUT))


CheckFunction = Callable[[float], Awaitable[Check]]
_registered: dict[str, CheckFunction] = {}


def register_check(name: str, check: CheckFunction) -> None:
    """Add an app's check to /healthz (called from its `AppConfig.ready`)."""
    _registered[name] = check


def checks() -> dict[str, CheckFunction]:
    """Every check by name: the built-in ones, then the registered ones."""
    return {
        "database": database_check,
        "redis": redis_check,
        "channel_layer": channel_layer_check,
        **_registered,
    }


async def run_checks() -> tuple[bool, dict[str, Check]]:
    """Every check's result, and whether all of them passed."""
    timeout = check_timeout()
    named = checks()
    results = await asyncio.gather(*(_timed(check, timeout) for check in named.values()))
    checks_by_name = dict(zip(named, results, strict=True))
    return all(result["ok"] for result in results), checks_by_name


async def _timed(check: Callable[[float], Awaitable[Check]], timeout: float) -> Check:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            result = await check(timeout)
    except TimeoutError:
        result = {"ok": False, "error": "timeout"}
    except Exception as exc:
        result = {"ok": False, "error": type(exc).__name__}
    result.setdefault("ok", True)
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


# --- database -------------------------------------------------------------------------------


def database_ping(deadline: float) -> None:
    """`SELECT 1` on the default database (skipped when the check has already timed out)."""
    if time.monotonic() > deadline:
        return
    close_old_connections()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        close_old_connections()  # CONN_MAX_AGE 0: no connection left open in this thread


async def database_check(timeout: float) -> Check:
    ping = sync_to_async(database_ping, thread_sensitive=False, executor=_db_executor)
    await ping(time.monotonic() + timeout)
    return {"ok": True}


# --- Redis ----------------------------------------------------------------------------------


async def redis_check(timeout: float) -> Check:
    """PING on REDIS_URL with a fresh connection; `configured: false` when there is none."""
    url = settings.REDIS_URL
    if not url:
        return {"ok": True, "configured": False}
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        await client.ping()
    finally:
        await client.aclose()
    return {"ok": True, "configured": True}


# --- channel layer --------------------------------------------------------------------------

PROBE_PREFIX = "lectern-healthz."

# One reply channel per event loop, reused: the pub/sub layer keeps a subscription for every
# channel it has received on, so a new channel per check would leak subscriptions.
_probes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, asyncio.Lock]]" = (
    weakref.WeakKeyDictionary()
)


async def channel_layer_check(timeout: float) -> Check:
    """Send a message to this process's probe channel and receive it back."""
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "not configured"}
    backend = type(layer).__name__
    loop = asyncio.get_running_loop()
    nonce = uuid.uuid4().hex
    try:
        probe = _probes.get(loop)
        if probe is None:
            probe = (await layer.new_channel(prefix=PROBE_PREFIX), asyncio.Lock())
            _probes[loop] = probe
        channel, lock = probe
        async with lock:
            await layer.send(channel, {"type": "healthz.probe", "nonce": nonce})
            while (await layer.receive(channel)).get("nonce") != nonce:
                pass  # an answer to an earlier check that timed out
    except BaseException:
        _forget_probes(layer, loop)
        raise
    return {"ok": True, "backend": backend}


def _forget_probes(layer: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Use a new channel next time, and drop the empty queues of earlier probe channels (the
    in-memory and pub/sub layers keep one per channel received on; the pub/sub layer already
    unsubscribes a receive that was cancelled)."""
    _probes.pop(loop, None)
    queues = getattr(layer, "channels", None)
    if isinstance(queues, dict):
        for name in [n for n in queues if PROBE_PREFIX in n]:
            if queues[name].empty():
                del queues[name]
