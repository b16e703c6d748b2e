"""The offline provider: deterministic, schema-valid placeholder results, streamed in chunks.

It is to Gemini what Django's console e-mail backend is to SMTP: every screen and frame can be
tried without a key. It says so in its model name and in every result it writes.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from ai_chat.agent.base import Completion, GenerationRequest, StreamEvent, TextChunk, Usage

logger = logging.getLogger(__name__)

OFFLINE_MODEL = "offline-placeholder"
# The offline summary keeps this many of the latest questions, in at most this many characters.
SUMMARY_QUESTIONS = 12
SUMMARY_CHARS = 1600


class OfflineAgent:
    name = "offline"
    model = OFFLINE_MODEL

    def __init__(self, *, chunk_size: int = 24, chunk_delay: float = 0.015) -> None:
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        logger.warning(
            "AI provider is OFFLINE: results are placeholder content, no model is involved. "
            "Set GEMINI_API_KEY to use Gemini."
        )

    def render(self, request: GenerationRequest) -> str:
        """The placeholder for the user's own words; a refinement keeps the previous result."""
        from ai_chat.kinds import get_kind

        if request.purpose == "summary":
            return offline_summary(request)
        previous = previous_result(request) if request.refinement else None
        if previous is not None:  # no model is here to revise it: the result stands as it was
            return json.dumps(previous, indent=1, ensure_ascii=False)
        words = request.user_text or request.prompt
        data = get_kind(request.kind).placeholder(prompt=words, context=request.context)
        if request.result_schema is None:
            return str(data["text"])
        return json.dumps(data, indent=1, ensure_ascii=False)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        text = self.render(request)
        for start in range(0, len(text), self.chunk_size):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield TextChunk(text[start : start + self.chunk_size])
        words_in = len(request.instructions.split()) + len(request.prompt.split())
        words_in += sum(len(turn.text.split()) for turn in request.history)
        yield Completion(
            text=text,
            usage=Usage(input_tokens=words_in, output_tokens=max(1, len(text) // 4)),
            finish_reason="STOP",
            model=self.model,
        )

    async def aclose(self) -> None:
        return None


def offline_summary(request: GenerationRequest) -> str:
    """A summary without a model: the earlier summary, then the questions asked, each shortened
    (deterministic, bounded: the latest questions are kept when there are many)."""
    asked = [" ".join(t.text.split())[:80] for t in request.history if t.role == "user"]
    questions = "; ".join(asked[-SUMMARY_QUESTIONS:])
    earlier = f"{request.user_text} " if request.user_text else ""
    return f"{earlier}Earlier the user asked: {questions}."[-SUMMARY_CHARS:]


def previous_result(request: GenerationRequest) -> dict[str, Any] | None:
    """The latest structured result in the history, when there is one that parses."""
    if request.result_schema is None:
        return None
    for turn in reversed(request.history):
        if turn.role == "model":
            try:
                data = json.loads(turn.text)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None
