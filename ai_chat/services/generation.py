"""Runs generations apart from any socket.

A generation is an asyncio task owned by the process, not by the consumer that asked for it: a
client that goes away does not stop it. It streams from the agent, numbers each chunk, publishes
frames to the stream hub (which feeds every follower and keeps the log for `resume`), validates
the result (asking the model again, bounded, when it fails), stores the assistant message once,
and ends with exactly one of `complete`, `cancelled` or `error`. Chunks never touch the database.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from pydantic_core import from_json

from ai_chat.agent.base import (
    Agent,
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentTruncated,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    TextChunk,
    Turn,
    Usage,
)
from ai_chat.exceptions import AIInvalidOutput, AIUnavailable
from ai_chat.kinds.base import ContextSchema, Kind, ResultInvalid
from ai_chat.models import AIMessage
from ai_chat.services import quota
from ai_chat.services.conversations import message_finish
from ai_chat.services.streams import StreamHub
from ops import metrics
from realtime.generation import ageneration_event
from sockets.errors import InternalError, ProtocolError

logger = logging.getLogger(__name__)

# `partial` is re-parsed only after the text grew by this share (and at least PARTIAL_MIN_BYTES):
# the parsing work stays linear in the answer's length however small the chunks are.
PARTIAL_GROWTH = 0.25
PARTIAL_MIN_BYTES = 256


@dataclass
class GenerationJob:
    user_id: int
    conversation_id: str
    message_id: str
    kind: Kind
    context: ContextSchema
    request: GenerationRequest
    reservation: quota.Reservation | None = None
    # Anonymous tutor chats are not kept: nothing of them reaches the database.
    persist: bool = True
    started_at: float = field(default_factory=time.monotonic)


@dataclass
class _Attempt:
    text: str
    usage: Usage
    model: str


class PartialParser:
    """The structured result parsed so far, at a bounded rate."""

    def __init__(self) -> None:
        self.next_at = PARTIAL_MIN_BYTES

    def maybe_parse(self, text: str) -> Any | None:
        if len(text) < self.next_at:
            return None
        self.next_at = max(len(text) + PARTIAL_MIN_BYTES, int(len(text) * (1 + PARTIAL_GROWTH)))
        start = text.find("{")
        if start < 0:
            return None
        try:
            return from_json(text[start:], allow_partial="trailing-strings")
        except ValueError:
            return None


async def _unstoppable[T](awaitable: Awaitable[T]) -> T:
    """Await to the end through cancellation: once a generation's end is being stored, a late
    or second `cancel` must not leave it half-recorded (usage settled twice) and its followers
    without a final frame."""
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


class GenerationRunner:
    """Starts, tracks and cancels the generations of this process."""

    def __init__(self, *, hub: StreamHub, agent: Agent) -> None:
        self.hub = hub
        self.agent = agent
        self._running: dict[str, tuple[str, asyncio.Task[None], int]] = {}

    def start(self, job: GenerationJob) -> asyncio.Task[None]:
        self.hub.open(job.message_id)
        task = asyncio.get_running_loop().create_task(
            self._run(job), name=f"generation:{job.message_id}"
        )
        self._running[job.conversation_id] = (job.message_id, task, job.user_id)
        task.add_done_callback(lambda _t: self._running.pop(job.conversation_id, None))
        return task

    def running_message(self, conversation_id: str) -> str | None:
        entry = self._running.get(conversation_id)
        return entry[0] if entry else None

    def cancel(self, conversation_id: str) -> bool:
        entry = self._running.get(conversation_id)
        if entry is None:
            return False
        entry[1].cancel()
        return True

    async def shutdown(self) -> None:
        """Cancel every running generation and wait for them to record it."""
        tasks = [task for _m, task, _u in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: GenerationJob) -> None:
        ids = {"conversation_id": job.conversation_id, "message_id": job.message_id}
        streamed: list[str] = []
        usage = Usage()
        await self._announce(job, "create", "streaming")
        try:
            attempt = await self._attempt(job, job.request, streamed=streamed, ids=ids)
            usage = attempt.usage
            data, attempt, usage = await self._validated(job, attempt, usage)
            await _unstoppable(
                database_sync_to_async(self._record_success)(job, attempt, data, usage)
            )
            await self.hub.publish(
                job.message_id,
                {
                    "type": "complete",
                    **ids,
                    "data": data,
                    "usage": {
                        "input_tokens": usage.input_tokens,
                        "output_tokens": usage.output_tokens,
                    },
                    "model": attempt.model,
                },
            )
            outcome = "completed"
        except asyncio.CancelledError:
            await _unstoppable(
                database_sync_to_async(self._record_end)(
                    job, AIMessage.Status.CANCELLED, "".join(streamed), usage, "", ""
                )
            )
            await self.hub.publish(job.message_id, {"type": "cancelled", **ids})
            outcome = "cancelled"
        except Exception as exc:  # every failure ends the message and tells its followers
            error = self._to_protocol_error(exc, job)
            partial = exc.partial_text if isinstance(exc, AgentError) else ""
            await _unstoppable(
                database_sync_to_async(self._record_end)(
                    job,
                    AIMessage.Status.FAILED,
                    partial or "".join(streamed),
                    usage,
                    error.code,
                    error.message,
                )
            )
            # `message_id` tells this generation's end apart from other errors of the conversation.
            await self.hub.publish(
                job.message_id, {**error.to_frame(), "message_id": job.message_id}
            )
            outcome = "failed"
        metrics.generation_finished(job.kind.name, outcome)
        await self._announce(job, "update", outcome)
        metrics.tokens_used(job.kind.name, usage.input_tokens, usage.output_tokens)

    async def _announce(self, job: GenerationJob, action: str, status: str) -> None:
        """Tell the user's other sockets (`user:{id}` on /ws/events/) how a generation stands."""
        if not job.persist:
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

    async def _attempt(
        self,
        job: GenerationJob,
        request: GenerationRequest,
        *,
        streamed: list[str] | None,
        ids: dict[str, str],
    ) -> _Attempt:
        """One call to the agent; with `streamed` given, its chunks are published as they come."""
        parser = PartialParser() if job.kind.structured else None
        text: list[str] = []
        index = 0
        stream = self.agent.stream(request)
        try:
            async for event in stream:
                if isinstance(event, Completion):
                    return _Attempt(event.text, event.usage, event.model)
                assert isinstance(event, TextChunk)
                text.append(event.text)
                if streamed is None:
                    continue
                streamed.append(event.text)
                metrics.chunk_received(job.message_id, index)
                frame: dict[str, Any] = {
                    "type": "streaming",
                    **ids,
                    "index": index,
                    "chunk": event.text,
                }
                if parser is not None:
                    partial = parser.maybe_parse("".join(streamed))
                    if partial is not None:
                        frame["partial"] = partial
                index += 1
                await self.hub.publish(job.message_id, frame)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # closes the HTTP stream
        raise AgentUnavailable("The provider ended the stream without finishing.")

    async def _validated(
        self, job: GenerationJob, attempt: _Attempt, usage: Usage
    ) -> tuple[dict[str, Any], _Attempt, Usage]:
        """The validated result; re-asks the model with the errors, a bounded number of times."""
        retries = settings.AI_MAX_VALIDATION_RETRIES
        while True:
            try:
                return job.kind.parse_result(attempt.text, job.context), attempt, usage
            except ResultInvalid as invalid:
                if retries <= 0:
                    raise
                retries -= 1
                logger.info(
                    "result of %s failed validation (%s); asking again", job.message_id, invalid
                )
                request = replace(
                    job.request,
                    history=(
                        *job.request.history,
                        Turn("user", job.request.prompt),
                        Turn("model", attempt.text),
                    ),
                    prompt=(
                        "Your answer failed validation: "
                        + "; ".join(invalid.errors[:20])
                        + ". Answer again with the complete corrected result only."
                    ),
                )
                attempt = await self._attempt(job, request, streamed=None, ids={})
                usage = Usage(
                    usage.input_tokens + attempt.usage.input_tokens,
                    usage.output_tokens + attempt.usage.output_tokens,
                )

    def _to_protocol_error(self, exc: BaseException, job: GenerationJob) -> ProtocolError:
        cid = job.conversation_id
        if isinstance(exc, ProtocolError):
            exc.conversation_id = job.conversation_id
            return exc
        if isinstance(exc, ResultInvalid):
            return AIInvalidOutput(conversation_id=cid)
        if isinstance(exc, AgentTruncated):
            return AIInvalidOutput(
                "The answer was too long and was cut off; ask for less.", conversation_id=cid
            )
        if isinstance(exc, AgentBlocked):
            return AIInvalidOutput(
                "The model declined to answer this request.", conversation_id=cid
            )
        if isinstance(exc, AgentUnavailable):
            return AIUnavailable(retry_after=exc.retry_after, conversation_id=cid)
        if isinstance(exc, AgentInvalidRequest):
            logger.error("provider refused the request for %s: %s", job.message_id, exc)
            return AIUnavailable("The AI provider refused the request.", conversation_id=cid)
        reference = uuid.uuid4().hex[:12]
        logger.exception("generation %s failed [ref %s]", job.message_id, reference)
        return InternalError(f"Internal error (reference {reference}).", conversation_id=cid)

    def _latency_ms(self, job: GenerationJob) -> int:
        return int((time.monotonic() - job.started_at) * 1000)

    @transaction.atomic  # the message and the budget settle together, or not at all
    def _record_success(
        self, job: GenerationJob, attempt: _Attempt, data: dict[str, Any], usage: Usage
    ) -> None:
        if not job.persist:
            return
        message_finish(
            message_id=uuid.UUID(job.message_id),
            status=AIMessage.Status.COMPLETED,
            content=attempt.text,
            data=data,
            usage=usage,
            model=attempt.model,
            latency_ms=self._latency_ms(job),
        )
        if job.reservation is not None:
            quota.quota_settle(
                reservation=job.reservation,
                used_tokens=usage.input_tokens + usage.output_tokens,
            )

    @transaction.atomic
    def _record_end(
        self,
        job: GenerationJob,
        status: str,
        content: str,
        usage: Usage,
        error_code: str,
        error: str,
    ) -> None:
        if not job.persist:
            return
        message_finish(
            message_id=uuid.UUID(job.message_id),
            status=status,
            content=content,
            usage=usage,
            latency_ms=self._latency_ms(job),
            error_code=error_code,
            error=error,
        )
        if job.reservation is not None:
            quota.quota_refund(
                reservation=job.reservation, used_tokens=usage.input_tokens + usage.output_tokens
            )
