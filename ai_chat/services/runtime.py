"""What a serving process holds for its event loop: the hub, the runner, limits, heartbeat.

One `Runtime` per event loop (daphne and uvicorn run one per process; tests run several), so
that connections to Redis and to the provider are never shared across loops.
"""

import asyncio
import contextlib
import contextvars
import logging
import weakref

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.agent import build_agent
from ai_chat.agent.base import Agent
from ai_chat.ratelimit import RateLimiter
from ai_chat.services import workers
from ai_chat.services.generation import GenerationRunner
from ai_chat.services.streams import RedisMirror, StreamHub

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "lectern:cancel"


class Runtime:
    def __init__(self, agent: Agent) -> None:
        mirror = (
            RedisMirror(settings.REDIS_URL, ttl=settings.STREAM_LOG_TTL_SECONDS)
            if settings.REDIS_URL
            else None
        )
        self.hub = StreamHub(ttl=settings.STREAM_LOG_TTL_SECONDS, mirror=mirror)
        self.agent = agent
        self.runner = GenerationRunner(hub=self.hub, agent=self.agent)
        self.rate = RateLimiter(settings.REDIS_URL)
        self._redis = mirror.redis if mirror else None
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(
                self._beat_forever(), name="lectern-heartbeat", context=contextvars.Context()
            )
        ]
        if self._redis is not None:
            self._tasks.append(
                loop.create_task(
                    self._listen_cancels(), name="lectern-cancels", context=contextvars.Context()
                )
            )

    async def request_cancel(self, conversation_id: str) -> bool:
        """Cancel a generation here, or ask the process that runs it (through Redis)."""
        if self.runner.cancel(conversation_id):
            return True
        if self._redis is None:
            return False
        return bool(await self._redis.publish(CANCEL_CHANNEL, conversation_id))

    async def _listen_cancels(self) -> None:
        while True:
            pubsub = self._redis.pubsub()  # type: ignore[union-attr]
            try:
                await pubsub.subscribe(CANCEL_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self.runner.cancel(message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: subscribe again
                logger.warning("cancel listener lost Redis (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _beat_forever(self) -> None:
        sweep_due = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                # Not on the shared database thread: a queue of ORM work must not delay it.
                await sync_to_async(workers.heartbeat, thread_sensitive=False)()
                if loop.time() >= sweep_due:
                    await database_sync_to_async(workers.sweep_interrupted)()
                    sweep_due = loop.time() + workers.HEARTBEAT_TTL
            except Exception as exc:
                logger.warning("heartbeat failed (%s)", type(exc).__name__)
            await asyncio.sleep(workers.HEARTBEAT_SECONDS)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.runner.shutdown()
        await self.agent.aclose()
        if self.hub.mirror is not None:
            await self.hub.mirror.aclose()


_runtimes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[Runtime]]" = (
    weakref.WeakKeyDictionary()
)


async def get_runtime() -> Runtime:
    """This loop's runtime, built on first use. The provider is built in a thread: importing
    and configuring the Gemini SDK takes about a second, which must not stall the loop."""
    loop = asyncio.get_running_loop()
    future = _runtimes.get(loop)
    if future is None:
        future = _runtimes[loop] = loop.create_future()
        try:
            agent = await asyncio.to_thread(build_agent, settings.AI_PROVIDER)
            future.set_result(Runtime(agent))
        except BaseException as exc:
            del _runtimes[loop]
            future.set_exception(exc)
            future.exception()  # retrieved: waiters see it; no "never retrieved" warning
            raise
    return await asyncio.shield(future)
