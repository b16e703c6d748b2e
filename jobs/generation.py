"""The one place a background job runs a lesson generation.

It drives the same pieces as the WebSocket endpoints (`turn_prepare`, then `generation_run`): a
stored conversation and message, validation and re-ask, usage against the asker's budget,
provenance. With Redis its frames are mirrored like a web process's, so a socket can follow or
`resume` a lesson that a worker writes.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.agent import build_agent
from ai_chat.generation.run import generation_run
from ai_chat.kinds.base import Target
from ai_chat.models import AIMessage
from ai_chat.services.streams import RedisMirror, StreamHub
from ai_chat.services.turns import PreparedTurn, turn_prepare
from ai_chat.services.workers import worker_id
from jobs.models import LessonJob


@dataclass(frozen=True)
class GenerationOutcome:
    """How a generation ended, read back from its stored assistant message."""

    conversation_id: str
    message_id: str
    status: str  # an AIMessage status: completed, failed, cancelled, interrupted
    data: dict[str, Any] | None
    model: str
    prompt_version: str
    error_code: str
    error: str


def _prepare(job: LessonJob, model: str) -> PreparedTurn:
    lesson = job.lesson
    return turn_prepare(
        user=job.user,
        kind_name="lesson",
        content=f"Write the lesson “{lesson.title}”.",
        context={"lesson_id": lesson.pk},
        conversation_id=None,
        refinement=False,
        model=model,
        worker=worker_id(),
        # Who may generate was checked when the job was asked for (learners included).
        target=Target(lesson),
    )


def _outcome(prepared: PreparedTurn) -> GenerationOutcome:
    message = AIMessage.objects.get(pk=prepared.job.message_id)
    return GenerationOutcome(
        conversation_id=str(prepared.conversation.pk),
        message_id=str(message.pk),
        status=message.status,
        data=message.data,
        model=message.model,
        prompt_version=message.prompt_version,
        error_code=message.error_code,
        error=message.error,
    )


async def lesson_generation_run(
    *, job: LessonJob, on_started: Any = None, agent: Any = None
) -> GenerationOutcome:
    """Generate the job's lesson to a stored message; cancelling this stops the generation.

    Raises the protocol's errors from preparing (`busy`, `quota_exceeded`). `on_started(outcome
    ids)` is awaited once the conversation and message exist, so the job can point at them.
    """
    owned = agent is None
    agent = agent or await asyncio.to_thread(build_agent)  # the configured chain
    try:
        prepared = await database_sync_to_async(_prepare)(job, agent.model)
        if on_started is not None:
            await on_started(prepared.conversation.pk, prepared.job.message_id)
        hub = _hub()
        task = asyncio.ensure_future(generation_run(job=prepared.job, agent=agent, hub=hub))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()  # generation_run records `cancelled` on the message before it ends
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            if hub.mirror is not None:
                await hub.mirror.aclose()
        return await database_sync_to_async(_outcome)(prepared)
    finally:
        if owned:
            await agent.aclose()


def _hub() -> StreamHub:
    ttl = settings.STREAM_LOG_TTL_SECONDS
    mirror = RedisMirror(settings.REDIS_URL, ttl=ttl) if settings.REDIS_URL else None
    return StreamHub(ttl=ttl, mirror=mirror)
