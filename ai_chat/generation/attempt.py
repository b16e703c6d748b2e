"""One call to the agent: its chunks published as `streaming` frames, its text and usage kept."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from pydantic_core import from_json

from ai_chat.agent.base import (
    Agent,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    TextChunk,
    Turn,
    Usage,
)
from ai_chat.generation.job import GenerationJob
from ai_chat.kinds.base import ResultInvalid
from ai_chat.server_frames import StreamingFrame
from ops import metrics

# `partial` is re-parsed only after the text grew by this share (and at least PARTIAL_MIN_BYTES):
# the parsing work stays linear in the answer's length however small the chunks are.
PARTIAL_GROWTH = 0.25
PARTIAL_MIN_BYTES = 256

Publish = Callable[[StreamingFrame], Awaitable[None]]


@dataclass
class Attempt:
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
            partial = from_json(text[start:], allow_partial="trailing-strings")
        except ValueError:
            return None
        return partial if isinstance(partial, dict) else None


async def attempt_stream(
    job: GenerationJob,
    agent: Agent,
    request: GenerationRequest,
    *,
    streamed: list[str] | None,
    publish: Publish | None,
) -> Attempt:
    """Call the agent once; with `publish`, each chunk goes out as a `streaming` frame and is
    appended to `streamed` (what the client has seen, kept if the generation ends early)."""
    parser = PartialParser() if job.kind.structured and publish is not None else None
    text: list[str] = []
    length = 0
    frame_of = StreamingFrame.chunks_of(job.conversation_uuid, job.message_uuid)
    stream = agent.stream(request)
    try:
        async for event in stream:
            if isinstance(event, Completion):
                return Attempt(event.text, event.usage, event.model)
            assert isinstance(event, TextChunk)
            text.append(event.text)
            if publish is None or streamed is None:
                continue
            index = len(streamed)
            streamed.append(event.text)
            metrics.chunk_received(job.message_id, index)
            partial = None
            length += len(event.text)
            if parser is not None and length >= parser.next_at:
                partial = parser.maybe_parse("".join(streamed))
            await publish(frame_of(index, event.text, partial))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]  # closes the HTTP stream
    raise AgentUnavailable("The provider ended the stream without finishing.")


async def attempt_validated(
    job: GenerationJob, agent: Agent, first: Attempt
) -> tuple[dict[str, Any], Attempt, Usage]:
    """The validated result; re-asks the model with the errors, a bounded number of times.
    Returns the data, the attempt that produced it, and the usage of every attempt."""
    attempt, usage = first, first.usage
    retries = settings.AI_MAX_VALIDATION_RETRIES
    while True:
        try:
            return job.kind.parse_result(attempt.text, job.context), attempt, usage
        except ResultInvalid as invalid:
            if retries <= 0:
                raise
            retries -= 1
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
            attempt = await attempt_stream(job, agent, request, streamed=None, publish=None)
            usage = usage + attempt.usage
