"""`CannedAgent`: streams a text that is already known (a cached or fallback answer) through
the same path as a model's, so that its frames, recording and `resume` are the usual ones. It
costs no tokens."""

from collections.abc import AsyncIterator

from ai_chat.agent.base import Completion, GenerationRequest, StreamEvent, TextChunk, Usage

CHUNK = 200


class CannedAgent:
    name = "canned"

    def __init__(self, text: str, *, model: str) -> None:
        self.text = text
        self.model = model

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        for start in range(0, len(self.text), CHUNK):
            yield TextChunk(self.text[start : start + CHUNK])
        yield Completion(text=self.text, usage=Usage(), finish_reason="STOP", model=self.model)

    async def aclose(self) -> None:
        return None
