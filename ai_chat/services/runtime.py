"""The generation service of a serving process: the stream hub, the runner, the agent, and the
loops that keep them honest (heartbeat and dead-process sweep; cross-process cancels).

A component of the loop's `sockets.runtime.ProcessRuntime` (one per event loop, closed by its
`shutdown()`), so connections to Redis and to the provider are never shared across loops.
"""

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.agent import build_agent
from ai_chat.agent.base import Agent
from ai_chat.generation.runner import GenerationRunner
from ai_chat.services import workers
from ai_chat.services.streams import RedisMirror, StreamHub
from sockets.runtime import ProcessRuntime, runtime

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "lectern:cancel"


class GenerationService:
    """Runs, follows and cancels this process's generations."""

    def __init__(self, process: ProcessRuntime, agent: Agent) -> None:
        mirror = (
            RedisMirror(settings.REDIS_URL, ttl=settings.STREAM_LOG_TTL_SECONDS)
            if settings.REDIS_URL
            else None
        )
        self.hub = StreamHub(ttl=settings.STREAM_LOG_TTL_SECONDS, mirror=mirror)
        self.agent = agent
        self.runner = GenerationRunner(hub=self.hub, agent=self.agent)
        self._redis = process.redis
        process.spawn(self._beat_forever(), name="lectern-heartbeat")
        if self._redis is not None:
            process.spawn(self._listen_cancels(), name="lectern-cancels")

    @classmethod
    async def start(cls, process: ProcessRuntime) -> "GenerationService":
        """Build the provider in a thread: importing and configuring the Gemini SDK takes
        about a second, which must not stall the loop."""
        agent = await asyncio.to_thread(build_agent)  # the configured chain
        return cls(process, agent)

    async def request_cancel(self, conversation_id: str, *, across_processes: bool) -> bool:
        """Cancel a generation here, or (`across_processes`) ask the process that runs it,
        through Redis; whether anyone took the request."""
        if self.runner.cancel(conversation_id):
            return True
        if self._redis is None or not across_processes:
            return False
        return bool(await self._redis.publish(CANCEL_CHANNEL, conversation_id))

    async def _listen_cancels(self) -> None:
        redis: Any = self._redis
        while True:
            pubsub = redis.pubsub()
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
                # On the process's database thread like every write: SQLite allows one writer,
                # and a beat delayed by queued ORM work has three beats of slack.
                await database_sync_to_async(workers.heartbeat)()
                if loop.time() >= sweep_due:
                    await database_sync_to_async(workers.sweep_interrupted)()
                    sweep_due = loop.time() + workers.HEARTBEAT_TTL
            except Exception as exc:
                logger.warning("heartbeat failed (%s)", type(exc).__name__)
            await asyncio.sleep(workers.HEARTBEAT_SECONDS)

    async def aclose(self) -> None:
        await self.runner.shutdown()
        await self.agent.aclose()
        if self.hub.mirror is not None:
            await self.hub.mirror.aclose()


async def generation_service() -> GenerationService:
    """The running loop's generation service, started on first use."""
    return await runtime().component(GenerationService)
