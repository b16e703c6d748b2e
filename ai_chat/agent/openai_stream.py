"""OpenAI-compatible chat completions read lean: the request sent over http_stream.py, each
`data:` chunk parsed with `json`.

The openai SDK turns every chunk into a pydantic `ChatCompletionChunk` and sends through
httpx2, several times the CPU of reading the same events with `json` (bench/provider_cpu.py).
Here the SDK client still decides what it decides well: which statuses are retried
(`_should_retry`, `x-should-retry` and `Retry-After` included) and which exception an error
answer becomes (`_make_status_error_from_response`), so OpenAICompatibleAgent maps errors as
before; the retries' backoff is the SDK's (0.5 s doubling to 8 s, up to a quarter off, a
server's `Retry-After` up to two minutes). The differential test
(tests/agent/test_openai_readers.py) feeds both readers the same streams.
"""

import asyncio
import json
import random
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai

from ai_chat.agent.http_stream import EventStream, sse_data

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0


class LeanChunks:
    """The chunks of one answer as dicts; `close()` closes the response (the server sees it)."""

    def __init__(self, response: Any, url: str) -> None:
        self._response = response
        self._url = url
        self._chunks = self._read()

    def __aiter__(self) -> "LeanChunks":
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await anext(self._chunks)

    async def close(self) -> None:
        await self._chunks.aclose()
        await self._response.aclose()

    async def _read(self) -> AsyncGenerator[dict[str, Any]]:
        events = sse_data(self._response)
        async for data in events:
            if data.startswith(b"[DONE]"):
                await _drain(events)
                return
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else None
                if not message or not isinstance(message, str):
                    message = "An error occurred during streaming"
                raise openai.APIError(message, httpx2.Request("POST", self._url), body=error)
            yield chunk


async def _drain(events: AsyncGenerator[bytes]) -> None:
    """Read a body past `[DONE]` to its end (nothing more is expected), so that the connection
    can serve the next request; a body cut short there loses nothing (the answer is whole)."""
    try:
        async for _ in events:
            pass
    except httpx2.TransportError:
        pass


class OpenAIStreamClient:
    """POSTs `chat/completions` with `stream: true` over pooled keep-alive connections."""

    def __init__(
        self,
        *,
        sdk: openai.AsyncOpenAI,
        base_url: str,
        api_key: str,
        timeout_seconds: float,
        max_retries: int,
        ssl_context: Any,
    ) -> None:
        self._sdk = sdk
        self.max_retries = max_retries
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {api_key}",
            "User-Agent": f"AsyncOpenAI/Python {openai.__version__}",
        }
        self._http = EventStream(
            base_url, headers=headers, ssl_context=ssl_context, timeout=timeout_seconds
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def open(self, arguments: dict[str, Any]) -> LeanChunks:
        """Send (retrying as the SDK would before any answer); the answer's chunks."""
        path = "chat/completions"
        body = json.dumps(arguments).encode()
        url = self._http.base_url + path
        retries = 0
        while True:
            try:
                response = await self._http.open(path, body)
            except httpx2.TransportError as exc:
                if retries < self.max_retries:
                    retries += 1
                    await asyncio.sleep(_backoff(retries, None))
                    continue
                request = httpx2.Request("POST", url)
                if isinstance(exc, httpx2.TimeoutException):
                    raise openai.APITimeoutError(request) from exc
                raise openai.APIConnectionError(request=request) from exc
            if response.status_code == 200:
                return LeanChunks(response, url)
            try:
                failed = await self._http.read_error(response, path)
            finally:
                await response.aclose()
            if retries < self.max_retries and self._sdk._should_retry(failed):
                retries += 1
                await asyncio.sleep(_backoff(retries, failed.headers))
                continue
            raise self._sdk._make_status_error_from_response(failed)


def _backoff(retry: int, headers: Any) -> float:
    """Seconds before retry number `retry`: the server's Retry-After (up to two minutes), else
    exponential backoff with jitter, as the SDK computes it."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name)) / divisor if headers is not None else None
        except (TypeError, ValueError):
            continue
        if value is not None and 0 < value <= MAX_RETRY_AFTER:
            return value
    delay = min(INITIAL_RETRY_DELAY * 2.0 ** (retry - 1), MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())


def fields(chunk: dict[str, Any]) -> tuple[str | None, Any, str | None, str | None]:
    """A chunk's model, usage (dict or None), finish reason and text."""
    choices = chunk.get("choices") or ()
    choice = choices[0] if choices else {}
    delta = choice.get("delta") or {}
    return chunk.get("model"), chunk.get("usage"), choice.get("finish_reason"), delta.get("content")
