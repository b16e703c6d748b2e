"""FallbackAgent: an ordered chain of providers behind the one `Agent` interface.

Each provider is asked in turn until one answers. A provider hands over to the next only when it
fails before its first chunk (after its own retries): once a chunk has reached the caller, the
answer cannot be spliced from two models, so a failure mid-stream goes to the caller as it is.
A request the provider refused as invalid (400, 413, 422...) would fail everywhere and is not
handed over either; 401, 403 and 404 are about the entry (its key, its model name), not the
request, so the next provider is asked. A provider whose breaker is open is skipped.
"""

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ai_chat.agent.attempts import Outcome, ProviderAttempt, attempt_note
from ai_chat.agent.base import (
    Agent,
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentTruncated,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    StreamEvent,
    TextChunk,
)
from ai_chat.agent.breaker import CircuitBreaker

logger = logging.getLogger(__name__)

# Refusals that say the entry is misconfigured rather than the request malformed.
ENTRY_STATUSES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Link:
    """One provider of the chain with its breaker."""

    agent: Agent
    breaker: CircuitBreaker


@dataclass
class _Clock:
    """The timings and outcome of one attempt."""

    link: Link
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    first_chunk: float | None = None
    model: str = ""

    def note(self, outcome: Outcome, error: AgentError | None = None, code: str = "") -> None:
        now = time.monotonic()
        first = None if self.first_chunk is None else int((self.first_chunk - self.started) * 1000)
        attempt_note(
            ProviderAttempt(
                provider=self.link.agent.name,
                model=self.model or self.link.agent.model,
                outcome=outcome,
                started_at=self.started_at,
                error_code=code or (error_code(error) if error is not None else ""),
                error=str(error)[:500] if error is not None else "",
                first_chunk_ms=first,
                total_ms=int((now - self.started) * 1000),
            )
        )


def error_code(error: AgentError) -> str:
    """A short, stable name for what went wrong: `http_503`, `unavailable`, `invalid_request`."""
    if error.status is not None:
        return f"http_{error.status}"
    if isinstance(error, AgentUnavailable):
        return "unavailable"
    if isinstance(error, AgentInvalidRequest):
        return "invalid_request"
    if isinstance(error, AgentBlocked):
        return "blocked"
    if isinstance(error, AgentTruncated):
        return "truncated"
    return "error"


def hands_over(error: AgentError) -> bool:
    """Whether a failure before the first chunk lets the next provider try."""
    if isinstance(error, AgentUnavailable):
        return True
    return isinstance(error, AgentInvalidRequest) and error.status in ENTRY_STATUSES


class FallbackAgent:
    """Asks each provider in order; see the module docstring for when it moves on."""

    def __init__(self, links: Sequence[Link]) -> None:
        if not links:
            raise ValueError("FallbackAgent needs at least one provider")
        self.links = tuple(links)
        self.name = ",".join(link.agent.name for link in self.links)
        # The model expected to answer; the Completion names the one that did.
        self.model = self.links[0].agent.model

    async def aclose(self) -> None:
        for link in self.links:
            await link.agent.aclose()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        failures: list[AgentError] = []
        for link in self.links:
            if not link.breaker.allow():
                failures.append(self._skip(link))
                continue
            clock = _Clock(link)
            try:
                async with aclosing(self._ask(clock, request)) as events:
                    async for event in events:
                        yield event
                return
            except AgentError as exc:
                if clock.first_chunk is not None or not hands_over(exc):
                    raise
                failures.append(exc)
                logger.warning("provider %s unavailable (%s); next", link.agent.name, exc)
        raise _exhausted(failures)

    async def _ask(
        self, clock: _Clock, request: GenerationRequest
    ) -> AsyncGenerator[StreamEvent, None]:
        """One provider's stream, noted as an attempt and reported to its breaker."""
        breaker = clock.link.breaker
        verdict = False
        try:
            async with aclosing(clock.link.agent.stream(request)) as events:  # type: ignore[type-var]
                async for event in events:
                    if isinstance(event, TextChunk) and clock.first_chunk is None:
                        clock.first_chunk = time.monotonic()
                    if isinstance(event, Completion):
                        clock.model = event.model
                        clock.note(Outcome.ANSWERED)
                        breaker.succeeded()
                        verdict = True
                    yield event
            if not verdict:
                raise AgentUnavailable("The provider ended the stream without finishing.")
        except AgentError as exc:
            if verdict:
                raise
            verdict = True
            self._judge(clock, exc)
            raise
        except Exception as exc:  # a bug, not an outage: noted, not counted, not handed over
            if not verdict:
                verdict = True
                clock.note(Outcome.FAILED, AgentError(type(exc).__name__), code="internal")
                breaker.released()
            raise
        finally:
            if not verdict:  # the caller stopped reading (cancelled, or closed the stream)
                clock.note(Outcome.CANCELLED)
                breaker.released()

    def _judge(self, clock: _Clock, error: AgentError) -> None:
        """Note a failed attempt and tell the breaker what it says of the provider's health."""
        started = clock.first_chunk is not None
        if not started and hands_over(error):
            clock.note(Outcome.UNAVAILABLE, error)
        else:
            clock.note(Outcome.FAILED, error)
        if isinstance(error, AgentBlocked | AgentTruncated):
            clock.link.breaker.succeeded()  # the model answered; the answer was the problem
        elif isinstance(error, AgentUnavailable) or hands_over(error):
            clock.link.breaker.failed()
        else:
            clock.link.breaker.released()

    def _skip(self, link: Link) -> AgentUnavailable:
        retry_in = link.breaker.retry_in()
        error = AgentUnavailable(
            f"{link.agent.name} is skipped: it failed repeatedly", retry_after=retry_in
        )
        clock = _Clock(link)
        clock.note(Outcome.SKIPPED, error, code="circuit_open")
        return error


def _exhausted(failures: list[AgentError]) -> AgentError:
    """The error when no provider of the chain could answer (a chain of one: its own)."""
    if len(failures) == 1:
        return failures[0]
    hints = [f.retry_after for f in failures if isinstance(f, AgentUnavailable) and f.retry_after]
    reasons = "; ".join(str(f) for f in failures)
    return AgentUnavailable(
        f"No AI provider could answer: {reasons}", retry_after=min(hints) if hints else None
    )
