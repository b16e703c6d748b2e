"""`generation_run`: one generation from its first chunk to its one final frame.

Every generation ends with exactly one final frame (`complete`, `cancelled` or `error`), its
message in a final status and its budget settled, whatever fails on the way: when recording the
end raises, the message is failed as simply as possible and the client gets `internal_error`.
"""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import Any

from ai_chat.agent.attempts import attempts_collect
from ai_chat.agent.base import Agent, AgentError, AgentUnavailable, Usage
from ai_chat.agent.canned import CannedAgent
from ai_chat.generation.attempt import attempt_stream, attempt_validated
from ai_chat.generation.errors import internal_error, protocol_error_for
from ai_chat.generation.job import GenerationJob
from ai_chat.generation.recording import Ending, bounded_usage
from ai_chat.generation.summary import summary_refresh
from ai_chat.models import AIMessage
from ai_chat.server_frames import CancelledFrame, CompleteFrame
from ai_chat.services.answer_cache import answer_store
from ai_chat.services.streams import StreamHub
from ai_chat.stores.frames import origin_marks
from ops import metrics
from realtime.generation import ageneration_event
from sockets.server_frames import ServerFrame

logger = logging.getLogger(__name__)

# How often the text streamed so far is kept on the message (for a process that dies).
CHECKPOINT_SECONDS = 5.0
# The `model` of answers no model wrote this time.
CACHED_MODEL = "answer-cache"
FALLBACK_MODEL = "lesson-fallback"


async def generation_run(*, job: GenerationJob, agent: Agent, hub: StreamHub) -> str:
    """Run `job` to its end on `agent`, its frames going to `hub` (opened here); returns the
    outcome: `completed`, `cancelled` or `failed`."""
    attempts_collect(job.attempts)  # the chain notes each provider it asks here
    if not hub.is_local(job.message_id):
        hub.open(job.message_id)
    await _announce(job, "create", "streaming")
    streamed: list[str] = []
    spent = Spent()
    try:
        spent.usage = await summary_refresh(job, agent)
        try:
            if job.cached_answer is not None:  # the tutor's answer cache: no provider asked
                canned = CannedAgent(job.cached_answer, model=CACHED_MODEL)
                ending, final = await _answer(
                    job, canned, hub, streamed, spent, AIMessage.Origin.CACHE
                )
            else:
                ending, final = await _answer(job, agent, hub, streamed, spent, "")
        except AgentUnavailable as down:
            if job.fallback_answer is None or streamed:
                raise
            logger.warning(
                "every provider is down for %s: answering with the fallback (%s)",
                job.message_id,
                down,
            )
            canned = CannedAgent(job.fallback_answer, model=FALLBACK_MODEL)
            ending, final = await _answer(
                job, canned, hub, streamed, spent, AIMessage.Origin.FALLBACK
            )
        outcome = "completed"
    except asyncio.CancelledError:
        ending = Ending(
            status=AIMessage.Status.CANCELLED,
            content="".join(streamed),
            usage=spent.usage,
            latency_ms=job.latency_ms(),
        )
        final = CancelledFrame.make(
            conversation_id=job.conversation_uuid, message_id=job.message_uuid
        )
        outcome = "cancelled"
    except Exception as exc:  # every failure ends the message and tells its followers
        error = protocol_error_for(exc, job)
        partial = exc.partial_text if isinstance(exc, AgentError) else ""
        ending = Ending(
            status=AIMessage.Status.FAILED,
            content=partial or "".join(streamed),
            usage=spent.usage,
            error_code=error.code,
            error=error.message,
            latency_ms=job.latency_ms(),
        )
        final = error.to_frame(message_id=job.message_id)
        outcome = "failed"
    final, outcome = await _unstoppable(_record(job, ending, final, outcome))
    if outcome == "completed" and job.cache_slot is not None and not ending.origin:
        # Before the final frame: a client that asks again at once finds the answer kept.
        await _unstoppable(answer_store(job.cache_slot, ending.content))
    await hub.publish(job.message_id, final)
    metrics.generation_finished(job.kind.name, outcome)
    metrics.tokens_used(job.kind.name, *_counts(ending.usage))
    await _announce(job, "update", outcome)
    return outcome


@dataclass
class Spent:
    """The tokens a generation has used so far (what a cancelled or failed one is charged)."""

    usage: Usage = field(default_factory=Usage)


async def _answer(
    job: GenerationJob,
    agent: Agent,
    hub: StreamHub,
    streamed: list[str],
    spent: Spent,
    origin: str,
) -> tuple[Ending, ServerFrame]:
    """Stream the answer from `agent` and validate it: the completed ending and its frame."""
    before = spent.usage
    first = await attempt_stream(
        job, agent, job.request, streamed=streamed, publish=_publisher(hub, job, streamed)
    )
    spent.usage = before + first.usage
    data, attempt, answered = await attempt_validated(job, agent, first)
    spent.usage = usage = before + answered
    ending = Ending(
        status=AIMessage.Status.COMPLETED,
        content=attempt.text,
        usage=usage,
        data=data,
        model=attempt.model,
        latency_ms=job.latency_ms(),
        origin=origin,
    )
    bounded = bounded_usage(usage)
    final = CompleteFrame.make(
        conversation_id=job.conversation_uuid,
        message_id=job.message_uuid,
        data=data,
        usage={"input_tokens": bounded.input_tokens, "output_tokens": bounded.output_tokens},
        model=attempt.model,
        **origin_marks(origin),
    )
    return ending, final


async def _record(
    job: GenerationJob, ending: Ending, final: ServerFrame, outcome: str
) -> tuple[ServerFrame, str]:
    """Record the end; when that fails, fail the message simply and say `internal_error`."""
    ending = replace(ending, attempts=tuple(job.attempts))
    try:
        await job.recorder.record(ending)
        return final, outcome
    except Exception as exc:
        error = internal_error(job, exc)
        try:
            await job.recorder.record_failure(
                Ending(
                    status=AIMessage.Status.FAILED,
                    content="",
                    usage=ending.usage,
                    error_code=error.code,
                    error=error.message,
                )
            )
        except Exception:
            logger.exception("could not fail message %s either", job.message_id)
        return error.to_frame(message_id=job.message_id), "failed"


def _publisher(hub: StreamHub, job: GenerationJob, streamed: list[str]) -> Any:
    """Publish each chunk; every CHECKPOINT_SECONDS keep the text so far on the message (in the
    background, one write at a time: never a database write per chunk)."""
    loop = asyncio.get_running_loop()
    due = loop.time() + CHECKPOINT_SECONDS
    pending: asyncio.Future[None] | None = None

    async def publish(frame: ServerFrame) -> None:
        nonlocal due, pending
        await hub.publish(job.message_id, frame)
        if loop.time() >= due and (pending is None or pending.done()):
            due = loop.time() + CHECKPOINT_SECONDS
            pending = asyncio.ensure_future(_checkpoint(job, "".join(streamed)))

    return publish


async def _checkpoint(job: GenerationJob, text: str) -> None:
    try:
        await job.recorder.checkpoint(text)
    except Exception as exc:  # a lost checkpoint costs nothing but what a crash would keep
        logger.warning("checkpoint of %s failed (%s)", job.message_id, type(exc).__name__)


def _counts(usage: Usage) -> tuple[int, int]:
    bounded = bounded_usage(usage)
    return bounded.input_tokens, bounded.output_tokens


async def _announce(job: GenerationJob, action: str, status: str) -> None:
    """Tell the user's other sockets (`user:{id}` on /ws/events/) how a generation stands."""
    if not job.user_id:  # anonymous: nobody to tell
        return
    payload = {
        "conversation_id": job.conversation_id,
        "message_id": job.message_id,
        "kind": job.kind.name,
        "status": status,
    }
    try:
        await ageneration_event(user_id=job.user_id, action=action, payload=payload)
    except Exception:  # an event lost must never cost the generation itself
        logger.warning("generation event for %s not sent", job.message_id, exc_info=True)


async def _unstoppable[T](awaitable: Awaitable[T]) -> T:
    """Await to the end through cancellation: once a generation's end is being recorded, a late
    or second `cancel` must not leave it half-recorded and its followers without a final
    frame."""
    task = asyncio.ensure_future(awaitable)
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            continue
        return result
