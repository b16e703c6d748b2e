"""One runtime per process and event loop: what serving sockets holds beyond a single socket.

A `ProcessRuntime` owns the loop's Redis client, the connection counter and rate limiter that
every endpoint shares, the background loops, and the components apps register (the generation
service of `ai_chat`, the presence of `realtime`): each is built on first use and closed by
`shutdown()`, in reverse order. daphne and uvicorn run one loop per process; tests run several,
which is why the runtime is per loop: connections to Redis and providers never cross loops.

A component is a class with an `async` classmethod `start(runtime)` that builds it and an
`async` method `aclose()`; code asks for it with `await runtime().component(GenerationService)`
and gets the loop's one instance.
"""

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import Coroutine
from typing import Any, Protocol

from sockets.limits import ConnectionCounter, RateLimiter
from sockets.redis import new_async_redis

logger = logging.getLogger(__name__)


class Component(Protocol):
    """What the runtime holds: built by `start`, closed by `aclose`."""

    @classmethod
    async def start(cls, runtime: "ProcessRuntime") -> Any: ...

    async def aclose(self) -> None: ...


class ProcessRuntime:
    """The loop's shared clients, limits, background loops and components."""

    def __init__(self) -> None:
        self.redis = new_async_redis()
        self.connections = ConnectionCounter(self.redis)
        self.rate = RateLimiter(self.redis)
        self._components: dict[type, asyncio.Future[Any]] = {}
        self._order: list[Any] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    async def component[C: Component](self, key: type[C]) -> C:
        """The loop's one `key` component, built on first use (concurrent callers share
        one build; a failed build is retried by the next caller)."""
        future = self._components.get(key)
        if future is None:
            future = self._components[key] = asyncio.get_running_loop().create_future()
            try:
                built = await key.start(self)
            except BaseException as exc:
                del self._components[key]
                future.set_exception(exc)
                future.exception()  # retrieved: waiters see it; no "never retrieved" warning
                raise
            self._order.append(built)
            future.set_result(built)
        result: C = await asyncio.shield(future)
        return result

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run a background loop owned by this runtime (cancelled by `shutdown()`), in a fresh
        context so that it carries no socket's log reference."""
        task = asyncio.get_running_loop().create_task(
            coroutine, name=name, context=contextvars.Context()
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self) -> None:
        """Stop the background loops, close the components (last built first), then Redis."""
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for component in reversed(self._order):
            try:
                await component.aclose()
            except Exception:
                logger.exception("closing %s failed", type(component).__name__)
        self._order.clear()
        self._components.clear()
        await self.connections.aclose()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()


_runtimes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ProcessRuntime]" = (
    weakref.WeakKeyDictionary()
)


def runtime() -> ProcessRuntime:
    """The running loop's runtime, made on first use."""
    loop = asyncio.get_running_loop()
    found = _runtimes.get(loop)
    if found is None or found.closed:
        found = _runtimes[loop] = ProcessRuntime()
    return found


async def shutdown_runtime() -> None:
    """Shut the running loop's runtime down (tests, management commands, worker tasks; a
    server process simply exits). A later `runtime()` makes a new one."""
    found = _runtimes.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.shutdown()
