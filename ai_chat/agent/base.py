"""The agent interface: what the rest of the code knows of a model provider.

A provider streams one generation as `TextChunk`s followed by exactly one `Completion`, or
raises one of the `AgentError`s below. Nothing outside `ai_chat/agent/` knows which SDK (if
any) is behind it.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["user", "model"]

# How a provider's answer stream is read: `lean` (json over http_stream.py) or `sdk` (the SDK's
# own stream and types). GEMINI_READER and AI_COMPAT_READER name one.
READERS = ("lean", "sdk")


@dataclass(frozen=True)
class Turn:
    """One earlier turn of the conversation."""

    role: Role
    text: str


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a provider needs for one generation."""

    kind: str
    instructions: str
    prompt: str
    history: tuple[Turn, ...] = ()
    # JSON Schema of the structured result; None for free text (the tutor chat).
    result_schema: dict[str, Any] | None = None
    # The validated context of the request (the offline provider builds its placeholder from it).
    context: dict[str, Any] = field(default_factory=dict)
    max_output_tokens: int | None = None
    # What the user typed this turn. `prompt` wraps it in instructions (a refinement's "Revise
    # your previous result...", a validation retry's errors); a provider without a model (the
    # offline one) answers from these words, so no prompt text ends up in saved rows.
    user_text: str = ""
    # This turn revises the latest result in `history` (a `refinement` frame).
    refinement: bool = False
    # Ground the answer in Google Search (Gemini's `google_search` tool; its Completion then
    # carries the `grounding`). Only the grounded Gemini agent sets it (ai_chat/agent/grounding.py).
    search: bool = False
    # `summary`: summarise `history` (and the earlier summary in `prompt`) in free text, to
    # keep a long conversation's context bounded; the offline provider writes one without a
    # model.
    purpose: Literal["answer", "summary"] = "answer"


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class WebSource:
    """A web page a grounded answer drew on."""

    title: str
    uri: str


@dataclass(frozen=True)
class Grounding:
    """What a grounded answer was based on (Gemini's Google Search grounding)."""

    sources: tuple[WebSource, ...] = ()
    queries: tuple[str, ...] = ()
    # Google's search suggestions (HTML), which its terms require to be shown with the answer.
    search_entry_point: str = ""


@dataclass(frozen=True)
class Completion:
    """The end of a stream: the whole text, its usage and why the model stopped."""

    text: str
    usage: Usage
    finish_reason: str
    model: str
    # Set when the provider grounded the answer (a search tool was in the request).
    grounding: Grounding | None = None


StreamEvent = TextChunk | Completion


class AgentError(Exception):
    """A generation failed in the provider."""

    def __init__(self, message: str, *, partial_text: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        # The provider's HTTP status, when it answered with one (the fallback chain reads it).
        self.status = status


class AgentUnavailable(AgentError):
    """The provider could not answer: timeout, stall, 429 or 5xx after retries, network."""

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message, partial_text=partial_text, status=status)
        self.retry_after = retry_after


class AgentInvalidRequest(AgentError):
    """The provider refused the request itself (400, 401, 403, 404): retrying will not help."""


class AgentBlocked(AgentError):
    """The provider stopped the answer for safety, recitation or policy reasons."""


class AgentTruncated(AgentError):
    """The answer hit the output token limit before it was complete."""


class Agent(Protocol):
    """A model provider."""

    name: str
    model: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream one generation: `TextChunk`s, then one `Completion`; or raise `AgentError`."""
        ...

    async def aclose(self) -> None:
        """Release connections held by the provider."""
        ...
