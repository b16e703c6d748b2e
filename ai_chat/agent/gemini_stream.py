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

from google.genai import errors
from google.genai.version import __version__ as SDK_VERSION

from ai_chat.agent.base import AgentBlocked, GenerationRequest, Grounding, Usage, WebSource
from ai_chat.agent.http_stream import EventStream, sse_data
from ai_chat.agent.schema import inlined

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
        config["responseJsonSchema"] = inlined(request.result_schema)
    body["generationConfig"] = config
    if request.search:
        body["tools"] = [{"googleSearch": {}}]
    return body


class GeminiStreamClient:
    """Sends streamGenerateContent requests over pooled keep-alive connections."""

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
        headers = {
            "Content-Type": "application/json",
            "x-goog-api-key": api_key,
            "user-agent": CLIENT_HEADER,
            "x-goog-api-client": CLIENT_HEADER,
        }
        if timeout_seconds:
            headers["X-Server-Timeout"] = str(-int(-timeout_seconds // 1))
        self._http = EventStream(
            f"{root}/{api_version}/",
            headers=headers,
            ssl_context=ssl_context,
            timeout=timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def events(self, model: str, body: dict[str, Any]) -> AsyncGenerator[Any]:
        """The JSON events of one request; `errors.APIError` when it is answered with an error.

        The request is sent on the first `anext` (so a stall limit around each `anext` covers
        the wait for the response too); closing the generator (or cancelling it) closes the
        response, so the server sees the stream end.
        """
        if not model.startswith(("models/", "tunedModels/")):
            model = f"models/{model}"
        path = f"{model}:streamGenerateContent?alt=sse"
        response = await self._http.open(path, json.dumps(body).encode())
        try:
            if response.status_code != 200:
                failed = await self._http.read_error(response, path)
                await errors.APIError.raise_for_async_response(failed)
            async for data in sse_data(response):
                yield await _payload(data, response)
        finally:
            await response.aclose()


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
