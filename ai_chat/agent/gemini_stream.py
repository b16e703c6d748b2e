"""Gemini's streamGenerateContent read lean: one HTTP request, `data:` lines parsed with `json`.

google-genai turns every server-sent event into a pydantic `GenerateContentResponse` (and
builds each request through its pydantic types), which costs the server about sixteen times
what reading the same events with `json` does (bench/provider_cpu.py). The agent only needs a
few fields of each event, so this module sends the request the SDK would send (same URL, body
and headers; tests/agent/test_gemini_readers.py compares them) over http_stream.py (asyncio
streams; httpx2 when a proxy is configured for the URL) and reads those fields from the parsed
JSON. The SDK is still what raises the HTTP errors (`errors.APIError` from the response,
so statuses, messages and `Retry-After` are mapped as before) and what the `sdk` reader
(`GEMINI_READER=sdk`) uses end to end; the differential test feeds both readers the same
recorded streams and compares what the agent yields.
"""

import json
import sys
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx2
from google.genai import errors
from google.genai.version import __version__ as SDK_VERSION

from ai_chat.agent.base import AgentBlocked, GenerationRequest, Grounding, Usage, WebSource
from ai_chat.agent.http_stream import StreamingHTTP, proxy_configured
from ai_chat.agent.schema import inline_refs

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/"
# What google-genai sends as its user agent and client header (the API reads them).
CLIENT_HEADER = f"google-genai-sdk/{SDK_VERSION} gl-python/{sys.version.split()[0]}"


@dataclass
class Progress:
    """What the events of one attempt said so far about the stream."""

    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    grounding: Grounding | None = None


# Each kind's result schema is one object built once, so its inlined form is kept by identity.
_inlined: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    kept = _inlined.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = (schema, inline_refs(schema))
        if len(_inlined) < 256:
            _inlined[id(schema)] = kept
    return kept[1]


def request_body(request: GenerationRequest, max_output_tokens: int) -> dict[str, Any]:
    """The JSON body of a streamGenerateContent request, as google-genai builds it."""
    contents = [{"parts": [{"text": turn.text}], "role": turn.role} for turn in request.history]
    contents.append({"parts": [{"text": request.prompt}], "role": "user"})
    body: dict[str, Any] = {"contents": contents}
    if request.instructions:
        body["systemInstruction"] = {"parts": [{"text": request.instructions}], "role": "user"}
    config: dict[str, Any] = {"maxOutputTokens": request.max_output_tokens or max_output_tokens}
    if request.result_schema is not None:
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = _inline(request.result_schema)
    body["generationConfig"] = config
    if request.search:
        body["tools"] = [{"googleSearch": {}}]
    return body


class GeminiStreamClient:
    """Sends streamGenerateContent requests over one pooled httpx2 client."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        api_version: str,
        timeout_seconds: float,
        ssl_context: Any,
    ) -> None:
        root = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._prefix = f"{root}/{api_version}/"
        headers = {
            "Content-Type": "application/json",
            "x-goog-api-key": api_key,
            "user-agent": CLIENT_HEADER,
            "x-goog-api-client": CLIENT_HEADER,
        }
        if timeout_seconds:
            headers["X-Server-Timeout"] = str(-int(-timeout_seconds // 1))
        self._direct: StreamingHTTP | None = None
        self._client: httpx2.AsyncClient | None = None
        if proxy_configured(self._prefix):
            self._client = httpx2.AsyncClient(
                headers=headers,
                # Per operation (connect, each read, write, pool), as the SDK's; the stall
                # between chunks is the agent's own limit.
                timeout=httpx2.Timeout(timeout_seconds),
                verify=ssl_context,  # no transport of ours: it would turn the proxy off
            )
        else:
            self._direct = StreamingHTTP(
                self._prefix, headers=headers, ssl_context=ssl_context, timeout=timeout_seconds
            )

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
        if self._client is not None:
            await self._client.aclose()

    async def events(self, model: str, body: dict[str, Any]) -> AsyncGenerator[Any]:
        """The JSON events of one request; `errors.APIError` when it is answered with an error.

        The request is sent on the first `anext` (so a stall limit around each `anext` covers
        the wait for the response too); closing the generator (or cancelling it) closes the
        response, so the server sees the stream end.
        """
        if not model.startswith(("models/", "tunedModels/")):
            model = f"models/{model}"
        path = f"{model}:streamGenerateContent?alt=sse"
        content = json.dumps(body).encode()
        response: Any
        if self._direct is not None:
            response = await self._direct.post(path, content)
        else:
            assert self._client is not None
            request = self._client.build_request("POST", self._prefix + path, content=content)
            response = await self._client.send(request, stream=True)
        try:
            if response.status_code != 200:
                failed = response
                if self._direct is not None:  # the SDK reads its errors from an httpx2 response
                    failed = httpx2.Response(
                        response.status_code,
                        headers=response.headers,
                        content=await response.aread(),
                        request=httpx2.Request("POST", self._prefix + path),
                    )
                await errors.APIError.raise_for_async_response(failed)
            async for payload in _events(response):
                yield payload
        finally:
            await response.aclose()


async def _events(response: Any) -> AsyncGenerator[Any]:
    """The JSON payload of each server-sent event; an error event raises `errors.APIError`."""
    rest = b""
    data: list[bytes] = []
    other: list[bytes] = []  # a bare JSON body (not SSE), as an error may come
    async for block in response.aiter_bytes():
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line.startswith(b"data:"):
                data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            elif not line:
                if data:
                    yield await _payload(b"\n".join(data), response)
                    data = []
            elif not line.startswith((b":", b"event:", b"id:", b"retry:")):
                other.append(line)
    if rest.startswith(b"data:"):
        data.append(rest[6:] if rest.startswith(b"data: ") else rest[5:])
    elif rest.strip():
        other.append(rest)
    if data:
        yield await _payload(b"\n".join(data), response)
    if other:
        yield await _payload(b"\n".join(other), response)


async def _payload(raw: bytes, response: Any) -> Any:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise errors.UnknownApiResponseError("Gemini sent an event that is not JSON") from None
    if not isinstance(payload, dict):
        raise errors.UnknownApiResponseError("Gemini sent an event that is not a JSON object")
    if "error" in payload:
        error = payload["error"]
        code = error.get("code") if isinstance(error, dict) else None
        await errors.APIError.raise_error_async(
            code if isinstance(code, int) else 500, payload, response
        )
    return payload


def observe(payload: dict[str, Any], progress: Progress, pieces: list[str]) -> str:
    """Record what an event says about the stream; return its answer text.

    The same reading as the SDK path's `_observe` in gemini.py, on the JSON instead of the
    SDK's types: a blocked prompt raises, the model version, usage, finish reason and grounding
    are kept (the last one sent wins), thought parts are not answer text.
    """
    feedback = payload.get("promptFeedback")
    if feedback and feedback.get("blockReason"):
        reason = feedback["blockReason"]
        raise AgentBlocked(f"Gemini blocked the prompt ({reason})", partial_text="".join(pieces))
    if version := payload.get("modelVersion"):
        progress.model = version
    meta = payload.get("usageMetadata")
    if meta is not None:
        progress.usage = Usage(
            input_tokens=meta.get("promptTokenCount") or 0,
            # Thinking tokens are billed as output, so they count as output here.
            output_tokens=(meta.get("candidatesTokenCount") or 0)
            + (meta.get("thoughtsTokenCount") or 0),
        )
    candidates = payload.get("candidates")
    if not candidates:
        return ""
    candidate = candidates[0]
    if reason := candidate.get("finishReason"):
        progress.finish_reason = reason
    if (grounding := candidate.get("groundingMetadata")) is not None:
        progress.grounding = grounding_of(grounding)
    parts = (candidate.get("content") or {}).get("parts") or ()
    return "".join(part["text"] for part in parts if part.get("text") and not part.get("thought"))


def grounding_of(metadata: dict[str, Any]) -> Grounding:
    """Gemini's `groundingMetadata` (JSON) as a `Grounding`: web sources, queries, suggestions."""
    sources = tuple(
        WebSource(title=web.get("title") or "", uri=web.get("uri") or "")
        for chunk in metadata.get("groundingChunks") or ()
        if (web := chunk.get("web"))
    )
    entry = metadata.get("searchEntryPoint") or {}
    return Grounding(
        sources=sources,
        queries=tuple(metadata.get("webSearchQueries") or ()),
        search_entry_point=entry.get("renderedContent") or "",
    )
