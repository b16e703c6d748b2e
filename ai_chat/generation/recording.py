"""How a generation's end is recorded: the message in its final status and the budget settled,
together, whatever failed on the way.

A `Recorder` is what the generation's store gave its job: `DatabaseRecorder` writes the message
and settles the token reservation in one transaction; the anonymous chat's memory store records
in the connection. What the model returned is sanitised before it is stored (no NUL, which
PostgreSQL refuses in text and JSON) and its usage bounded (a provider may report nonsense).
"""

import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.db import transaction

from ai_chat.agent.attempts import ProviderAttempt
from ai_chat.agent.base import Usage
from ai_chat.models import AIConversation, AIMessage
from ai_chat.services import quota
from ai_chat.services.conversations import message_finish
from ai_chat.services.provider_attempts import attempts_record

logger = logging.getLogger(__name__)

# No answer is anywhere near this many tokens: a larger count is a provider's error.
MAX_REPORTED_TOKENS = 10_000_000


@dataclass(frozen=True)
class Ending:
    """How a generation ended, as it is recorded."""

    status: str  # an AIMessage.Status
    content: str
    usage: Usage
    data: dict[str, Any] | None = None
    model: str = ""
    error_code: str = ""
    error: str = ""
    latency_ms: int | None = None
    # The providers asked for it (the fallback chain's register), stored with the message.
    attempts: tuple[ProviderAttempt, ...] = ()
    # Not the model's: `cache` (the tutor's answer cache) or `fallback` (providers down).
    origin: str = ""


class Recorder(Protocol):
    async def record(self, ending: Ending) -> None:
        """Store the end of the generation; raises if it could not."""

    async def record_failure(self, ending: Ending) -> None:
        """Last resort after `record` raised: end the message and release the budget with as
        little as can go wrong (no content, no data)."""

    async def checkpoint(self, text: str) -> None:
        """Keep what has streamed so far (called at most every CHECKPOINT_SECONDS)."""

    async def record_summary(self, summary: str, through: int) -> None:
        """Keep the conversation's new summary, covering its first `through` turns."""


def clean_text(text: str) -> str:
    """Text that every database stores: without NUL characters."""
    return text.replace("\x00", "") if "\x00" in text else text


def clean_data(value: Any) -> Any:
    """`clean_text` through a JSON value, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    return value


def bounded_usage(usage: Usage) -> Usage:
    """Token counts a provider reported, within 0 and `MAX_REPORTED_TOKENS`."""

    def bound(count: Any) -> int:
        return min(max(count, 0), MAX_REPORTED_TOKENS) if isinstance(count, int) else 0

    return Usage(bound(usage.input_tokens), bound(usage.output_tokens))


@dataclass
class DatabaseRecorder:
    """Records a stored conversation's generation: `message_finish` and the quota, atomically."""

    message_id: str
    reservation: quota.Reservation | None

    async def record(self, ending: Ending) -> None:
        await database_sync_to_async(self._record)(ending)

    async def record_failure(self, ending: Ending) -> None:
        await database_sync_to_async(self._record)(
            Ending(
                status=AIMessage.Status.FAILED,
                content="",
                usage=bounded_usage(ending.usage),
                error_code=ending.error_code,
                error=clean_text(ending.error),
            )
        )

    @transaction.atomic  # the message and the budget settle together, or not at all
    def _record(self, ending: Ending) -> None:
        usage = bounded_usage(ending.usage)
        # Still holding the reservation? A sweep that took this process for dead has given it
        # back already; then only the usage is added (settled exactly once either way).
        held = message_finish(
            message_id=uuid.UUID(self.message_id),
            status=ending.status,
            content=clean_text(ending.content),
            data=clean_data(ending.data),
            usage=usage,
            model=clean_text(ending.model)[:100],
            latency_ms=ending.latency_ms,
            error_code=ending.error_code,
            error=clean_text(ending.error),
            origin=ending.origin,
        )
        if ending.attempts:
            attempts_record(message_id=self.message_id, attempts=ending.attempts)
        if self.reservation is not None:
            reservation = self.reservation if held else replace(self.reservation, tokens=0)
            quota.quota_settle(
                reservation=reservation, used_tokens=usage.input_tokens + usage.output_tokens
            )

    async def checkpoint(self, text: str) -> None:
        """Keep what has streamed so far on the message: if the process dies, the interrupted
        message keeps what its client saw. Bounded by the caller (not per chunk)."""
        await database_sync_to_async(
            lambda: AIMessage.objects.filter(
                pk=self.message_id, status=AIMessage.Status.STREAMING
            ).update(content=clean_text(text))
        )()

    async def record_summary(self, summary: str, through: int) -> None:
        """Store the summary on the message's conversation, for every later turn to re-use."""
        await database_sync_to_async(
            lambda: AIConversation.objects.filter(
                pk__in=AIMessage.objects.filter(pk=self.message_id).values("conversation_id")
            ).update(summary=clean_text(summary), summary_turns=through)
        )()
