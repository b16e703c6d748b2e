"""The register of provider attempts: what each provider of the chain did for a generation.

The fallback agent notes every attempt (one per provider it tried or skipped) in the list that
the current task is collecting into. The runner starts collecting with `attempts_collect` at the
start of a generation's task (each asyncio task has its own context, so concurrent generations
never mix) and hands the list to `attempts_record` where it stores the message: no database
write per chunk, and nothing here touches the database.
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ops import metrics

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    ANSWERED = "answered"  # the provider finished the answer (whatever its finish reason)
    UNAVAILABLE = "unavailable"  # failed before its first chunk: the next provider was asked
    FAILED = "failed"  # failed after its first chunk, or refused the request: the caller was told
    SKIPPED = "skipped"  # its circuit breaker was open: not asked at all
    CANCELLED = "cancelled"  # the caller stopped reading


@dataclass(frozen=True)
class ProviderAttempt:
    """One provider asked (or skipped) for one stream."""

    provider: str
    model: str
    outcome: Outcome
    started_at: datetime
    error_code: str = ""
    error: str = ""
    first_chunk_ms: int | None = None
    total_ms: int = 0


_collecting: ContextVar[list[ProviderAttempt] | None] = ContextVar(
    "ai_provider_attempts", default=None
)


def attempts_collect(into: list[ProviderAttempt]) -> list[ProviderAttempt]:
    """Called at the start of a generation's task: the attempts of its streams go to `into`."""
    _collecting.set(into)
    return into


def attempt_note(attempt: ProviderAttempt) -> None:
    """Called by the fallback agent after each attempt: log it, and collect it if asked to."""
    logger.info(
        "provider %s (%s): %s%s in %d ms",
        attempt.provider,
        attempt.model,
        attempt.outcome.value,
        f" [{attempt.error_code}]" if attempt.error_code else "",
        attempt.total_ms,
    )
    metrics.provider_attempt(attempt.provider, attempt.outcome.value)
    collected = _collecting.get()
    if collected is not None:
        collected.append(attempt)
