"""OpenAICompatibleAgent: any endpoint speaking OpenAI's chat completions (Groq, Qwen, gateways).

The one module that imports the `openai` SDK. Streams with `stream_options.include_usage` (the
last chunk then has `choices: []` and the usage). Structured output depends on the endpoint,
so each entry declares what it supports (`STRUCTURED`): `json_schema` sends the schema as
`response_format`; `json_object` asks for JSON mode and puts the schema in the instructions;
`none` puts it in the instructions only. The caller validates the text with pydantic either way.

Retries before the response are the SDK's (`max_retries`: 408, 409, 429, 5xx and connection
errors, `Retry-After` honoured). Its timeout is per read, so a stall (no chunk for
`stall_seconds`) is enforced here. An error event inside the stream is a bare `APIError`.

Readers: by default (`reader="lean"`, `AI_COMPAT_READER=lean`) openai_stream.py sends the same
request and reads the chunks with `json` (the SDK still classifies statuses and builds the
errors); `reader="sdk"` streams through `chat.completions.create` and its types. The
differential test (tests/agent/test_openai_readers.py) shows both yield the same.
"""

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from ai_chat.agent.base import (
    READERS,
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentTruncated,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    StreamEvent,
    TextChunk,
    Usage,
)
from ai_chat.agent.http_stream import ssl_context
from ai_chat.agent.openai_stream import OpenAIStreamClient, fields
from ai_chat.agent.schema import Structured, inlined

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})


class OpenAICompatibleAgent:
    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str,
        model: str,
        structured: Structured | str = Structured.NONE,
        timeout_seconds: float = 60.0,
        stall_seconds: float = 30.0,
        max_retries: int = 2,
        max_output_tokens: int = 8192,
        reader: str = "lean",
    ) -> None:
        if not (base_url and api_key and model):
            raise ValueError(f"provider {name!r} needs a base URL, an API key and a model")
        if reader not in READERS:
            raise ValueError(
                f"AI_COMPAT_READER must be one of {', '.join(READERS)}, not {reader!r}"
            )
        self.reader = reader
        self.name = name
        self.model = model
        self.structured = Structured(structured)
        self.stall_seconds = stall_seconds
        self.max_output_tokens = max_output_tokens
        self._secret = api_key
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=max_retries,
            timeout=httpx2.Timeout(timeout_seconds, connect=min(timeout_seconds, 10.0)),
        )
        self._lean = OpenAIStreamClient(
            sdk=self._client,
            base_url=base_url,
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            ssl_context=ssl_context(),
        )

    async def aclose(self) -> None:
        await self._lean.aclose()
        await self._client.close()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        pieces: list[str] = []
        usage, finish, model = Usage(), None, self.model
        chunks: Any = None
        lean = self.reader == "lean"
        try:
            if lean:
                chunks = await self._lean.open(self._arguments(request))
            else:
                chunks = await self._client.chat.completions.create(**self._arguments(request))
            while (chunk := await self._next(chunks)) is not None:
                chunk_model, chunk_usage, chunk_finish, text = (
                    fields(chunk) if lean else _sdk_fields(chunk)
                )
                model = chunk_model or model
                if chunk_usage is not None:
                    usage = Usage(
                        chunk_usage.get("prompt_tokens") or 0,
                        chunk_usage.get("completion_tokens") or 0,
                    )
                finish = chunk_finish or finish
                if text:
                    pieces.append(text)
                    yield TextChunk(text)
        except AgentError:
            raise
        except Exception as exc:
            raise self._translate(exc, "".join(pieces)) from None
        finally:
            if chunks is not None:  # on aclose() and cancellation too: the server sees the end
                await chunks.close()
        yield self._completion(finish, "".join(pieces), usage, model)

    def _arguments(self, request: GenerationRequest) -> dict[str, Any]:
        """The keyword arguments of `chat.completions.create` for this request."""
        schema = inlined(request.result_schema) if request.result_schema else None
        instructions = request.instructions
        if schema is not None and self.structured is not Structured.JSON_SCHEMA:
            instructions = (
                f"{instructions}\n\nAnswer with one JSON object only, valid against this "
                f"JSON Schema:\n{json.dumps(schema)}"
            ).strip()
        messages: list[dict[str, str]] = []
        if instructions:
            messages.append({"role": "system", "content": instructions})
        for turn in request.history:
            role = "assistant" if turn.role == "model" else "user"
            messages.append({"role": role, "content": turn.text})
        messages.append({"role": "user", "content": request.prompt})
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": request.max_output_tokens or self.max_output_tokens,
        }
        if schema is not None and self.structured is Structured.JSON_SCHEMA:
            name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "result"))[:64]
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        elif schema is not None and self.structured is Structured.JSON_OBJECT:
            arguments["response_format"] = {"type": "json_object"}
        return arguments

    async def _next(self, chunks: Any) -> Any:
        """The next chunk, or None at the end; TimeoutError after a stall."""
        async with asyncio.timeout(self.stall_seconds):
            return await anext(chunks, None)

    def _completion(self, finish: str | None, text: str, usage: Usage, model: str) -> Completion:
        if finish == "stop":
            return Completion(text=text, usage=usage, finish_reason="STOP", model=model)
        if finish == "length":
            raise AgentTruncated(f"{self.name} hit the output token limit", partial_text=text)
        if finish == "content_filter":
            raise AgentBlocked(f"{self.name} filtered the answer", partial_text=text)
        if finish is None:
            raise AgentUnavailable(
                f"{self.name}'s stream ended without a finish reason", partial_text=text
            )
        raise AgentError(f"{self.name} stopped the answer ({finish})", partial_text=text)

    def _translate(self, exc: Exception, partial: str) -> AgentError:
        """The AgentError for an exception from the SDK, with the key never in its message."""
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            what = self._redact(f"{self.name} answered {status}: {exc.message}")
            if partial or status in RETRY_STATUSES or status >= 500:
                retry_after = _retry_after(exc.response.headers)
                return AgentUnavailable(
                    what, partial_text=partial, retry_after=retry_after, status=status
                )
            return AgentInvalidRequest(what, partial_text=partial, status=status)
        if isinstance(exc, openai.APIConnectionError):  # timeouts included
            what = f"{self.name} unreachable: {type(exc).__name__}"
            return AgentUnavailable(what, partial_text=partial)
        if isinstance(exc, openai.APIError):  # an error event inside the stream
            what = self._redact(f"{self.name} failed mid-stream: {exc.message}")
            return AgentUnavailable(what, partial_text=partial)
        if isinstance(exc, TimeoutError):
            return AgentUnavailable(f"{self.name}'s stream stalled", partial_text=partial)
        logger.warning("Unexpected error from the openai SDK (%s)", type(exc).__name__)
        return AgentUnavailable(f"{self.name} failed: {type(exc).__name__}", partial_text=partial)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text


def _sdk_fields(chunk: Any) -> tuple[str | None, Any, str | None, str | None]:
    """A `ChatCompletionChunk`'s model, usage (as a dict), finish reason and text."""
    usage = None
    if chunk.usage is not None:
        usage = {
            "prompt_tokens": chunk.usage.prompt_tokens,
            "completion_tokens": chunk.usage.completion_tokens,
        }
    choice = chunk.choices[0] if chunk.choices else None
    if choice is None:
        return chunk.model, usage, None, None
    text = choice.delta.content if choice.delta else None
    return chunk.model, usage, choice.finish_reason, text


def _retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `retry-after`)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name))) / divisor
        except (TypeError, ValueError):
            continue
    return None
