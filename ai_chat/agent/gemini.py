"""GeminiAgent: the one module that talks to Gemini, through the google-genai SDK.

Readers: by default (`reader="lean"`, `GEMINI_READER=lean`) the stream is sent and read by
gemini_stream.py (httpx2 and `json`, the SDK's errors), at a fraction of the SDK's CPU per
chunk; `reader="sdk"` streams through `generate_content_stream` and the SDK's types. Both feed
the same retry, stall and finish-reason handling here, and the differential test
(tests/agent/test_gemini_readers.py) shows they yield the same.

Transport: the SDK streams through an httpx2 client here (we pass an httpx2 transport, so it
stays on httpx2 even if aiohttp becomes importable). On httpx2, `HttpOptions.timeout`
(milliseconds) is a per-operation timeout (connect, each read, write, pool), not a deadline for
the whole stream; on aiohttp it would be a total deadline. A stall (no chunk for
`stall_seconds`) is enforced here, around each chunk, whatever the transport.

Retries are ours, not `HttpRetryOptions`: the same statuses, only before the first chunk, but
with `Retry-After` honoured and carried, and logged here.
"""

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextvars import ContextVar
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

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
from ai_chat.agent.gemini_stream import GeminiStreamClient, Progress, grounding_of, observe
from ai_chat.agent.gemini_stream import request_body as lean_request_body
from ai_chat.agent.http_stream import ssl_context as shared_ssl_context
from ai_chat.agent.schema import inline_refs

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Finish reasons that are a refusal (retrying the same request will not help).
BLOCKED_FINISH_REASONS = frozenset(
    "SAFETY RECITATION BLOCKLIST PROHIBITED_CONTENT SPII LANGUAGE MODEL_ARMOR "
    "IMAGE_SAFETY IMAGE_PROHIBITED_CONTENT IMAGE_RECITATION".split()
)

# The HTTP responses opened by the stream being read in this context. The SDK nests several
# async generators and does not close the inner ones when the outer one is closed early, so
# the response (and its connection) would wait for the garbage collector; we close it ourselves.
_opened: ContextVar[list[Any] | None] = ContextVar("gemini_opened_responses", default=None)


async def _track_response(response: Any) -> None:
    """httpx2 response hook: note the response for the stream that sent the request."""
    opened = _opened.get()
    if opened is not None:
        opened.append(response)


class GeminiAgent:
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        api_version: str = "v1beta",
        timeout_seconds: float = 60.0,
        stall_seconds: float = 30.0,
        max_retries: int = 3,
        max_output_tokens: int = 8192,
        retry_initial_delay: float = 1.0,
        retry_max_delay: float = 20.0,
        reader: str = "lean",
    ) -> None:
        if not api_key:
            raise ValueError("GeminiAgent needs an API key (GEMINI_API_KEY)")
        if reader not in READERS:
            raise ValueError(f"GEMINI_READER must be one of {', '.join(READERS)}, not {reader!r}")
        self.reader = reader
        self.model = model
        self.stall_seconds = stall_seconds
        self.max_retries = max_retries
        self.max_output_tokens = max_output_tokens
        self.retry_initial_delay = retry_initial_delay
        self.retry_max_delay = retry_max_delay
        # Our own httpx2 transport pins the SDK to httpx2; the SDK reuses `verify` for its
        # sync client. Loading CA certificates costs tens of milliseconds, so it is done once.
        ssl_context = shared_ssl_context()
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=base_url or None,
                api_version=api_version,
                timeout=int(timeout_seconds * 1000),
                async_client_args={
                    "verify": ssl_context,
                    "transport": httpx2.AsyncHTTPTransport(verify=ssl_context),
                    "event_hooks": {"response": [_track_response]},
                },
            ),
        )
        self._lean = GeminiStreamClient(
            api_key=api_key,
            base_url=base_url,
            api_version=api_version,
            timeout_seconds=timeout_seconds,
            ssl_context=ssl_context,
        )

    @classmethod
    def from_settings(cls) -> "GeminiAgent":
        from django.conf import settings

        return cls(
            api_key=settings.GEMINI_API_KEY,
            model=settings.GEMINI_MODEL,
            base_url=settings.GEMINI_BASE_URL or None,
            api_version=settings.GEMINI_API_VERSION or "v1beta",
            timeout_seconds=settings.GEMINI_TIMEOUT_SECONDS,
            stall_seconds=settings.GEMINI_STALL_SECONDS,
            max_retries=settings.GEMINI_MAX_RETRIES,
            max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS,
            reader=settings.GEMINI_READER,
        )

    async def aclose(self) -> None:
        await self._lean.aclose()
        await self._client.aio.aclose()
        self._client.close()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        pieces: list[str] = []
        attempt = 0
        while True:
            attempt += 1
            progress = Progress(model=self.model)
            failure: AgentError | None = None
            cause: BaseException | None = None
            reading = self._lean_attempt if self.reader == "lean" else self._sdk_attempt
            texts = reading(request, progress, pieces)
            try:
                async for text in texts:
                    if text:
                        pieces.append(text)
                        yield TextChunk(text)
            except AgentError:
                raise
            except Exception as exc:
                failure, cause = _translate(exc, "".join(pieces)), exc
            finally:
                # Runs on aclose() and cancellation too: the server must see the stream end.
                await texts.aclose()
            if failure is None:
                break
            delay = self._retry_delay(failure, cause, attempt, started=bool(pieces))
            if delay is None:
                raise failure from cause
            logger.warning(
                "Gemini attempt %d failed (%s); retrying in %.2fs", attempt, failure, delay
            )
            await asyncio.sleep(delay)
        yield _completion(progress, "".join(pieces))

    async def _lean_attempt(
        self, request: GenerationRequest, progress: Progress, pieces: list[str]
    ) -> AsyncGenerator[str]:
        """One request read by gemini_stream.py: the answer text of each event."""
        body = lean_request_body(request, self.max_output_tokens)
        events = self._lean.events(self.model, body)
        try:
            while True:
                async with asyncio.timeout(self.stall_seconds):
                    payload = await anext(events, None)
                if payload is None:
                    return
                yield observe(payload, progress, pieces)
        finally:
            await events.aclose()

    async def _sdk_attempt(
        self, request: GenerationRequest, progress: Progress, pieces: list[str]
    ) -> AsyncGenerator[str]:
        """One request through the SDK's `generate_content_stream` and its types."""
        contents = [
            types.Content(role=turn.role, parts=[types.Part(text=turn.text)])
            for turn in request.history
        ]
        contents.append(types.Content(role="user", parts=[types.Part(text=request.prompt)]))
        opened: list[Any] = []
        responses: Any = None
        try:
            responses = await self._client.aio.models.generate_content_stream(
                model=self.model, contents=contents, config=self._config(request)
            )
            while (response := await self._next(responses, opened)) is not None:
                yield _observe(response, progress, "".join(pieces))
        finally:
            if responses is not None:
                await responses.aclose()
            for response in opened:
                await response.aclose()

    def _config(self, request: GenerationRequest) -> types.GenerateContentConfig:
        schema = request.result_schema
        return types.GenerateContentConfig(
            system_instruction=request.instructions or None,
            max_output_tokens=request.max_output_tokens or self.max_output_tokens,
            response_mime_type="application/json" if schema is not None else None,
            response_json_schema=inline_refs(schema) if schema is not None else None,
            # One HTTP request per attempt: no function calling, no silent continuation hops.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
            tools=[types.Tool(google_search=types.GoogleSearch())] if request.search else None,
        )

    async def _next(self, responses: Any, opened: list[Any]) -> Any:
        """The next response chunk, or None at the end; TimeoutError after a stall."""
        token = _opened.set(opened)
        try:
            async with asyncio.timeout(self.stall_seconds):
                return await anext(responses, None)
        finally:
            _opened.reset(token)

    def _retry_delay(
        self, failure: AgentError, cause: BaseException | None, attempt: int, *, started: bool
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        transient = isinstance(cause, httpx2.ConnectError | httpx2.ConnectTimeout) or (
            isinstance(cause, errors.APIError) and cause.code in RETRY_STATUSES
        )
        if started or not transient or attempt > self.max_retries:
            return None
        delay = min(self.retry_max_delay, self.retry_initial_delay * 2 ** (attempt - 1))
        delay = delay / 2 + random.uniform(0, delay / 2)
        retry_after = getattr(failure, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.retry_max_delay:
                return None
            delay = max(delay, retry_after)
        return delay


def _observe(response: types.GenerateContentResponse, progress: Progress, partial: str) -> str:
    """Record what a chunk says about the stream; return its answer text."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        reason = _name(feedback.block_reason)
        raise AgentBlocked(f"Gemini blocked the prompt ({reason})", partial_text=partial)
    if response.model_version:
        progress.model = response.model_version
    meta = response.usage_metadata
    if meta is not None:
        progress.usage = Usage(
            input_tokens=meta.prompt_token_count or 0,
            # Thinking tokens are billed as output, so they count as output here.
            output_tokens=(meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0),
        )
    if not response.candidates:
        return ""
    candidate = response.candidates[0]
    if candidate.finish_reason:
        progress.finish_reason = _name(candidate.finish_reason)
    if candidate.grounding_metadata is not None:
        progress.grounding = grounding_of(candidate.grounding_metadata.model_dump(by_alias=True))
    parts = candidate.content.parts if candidate.content else None
    return "".join(part.text for part in parts or () if part.text and not part.thought)


def _completion(progress: Progress, text: str) -> Completion:
    reason = progress.finish_reason
    if reason == "STOP":
        return Completion(
            text=text,
            usage=progress.usage,
            finish_reason=reason,
            model=progress.model,
            grounding=progress.grounding,
        )
    if reason == "MAX_TOKENS":
        raise AgentTruncated("Gemini hit the output token limit", partial_text=text)
    if reason in BLOCKED_FINISH_REASONS:
        raise AgentBlocked(f"Gemini stopped the answer ({reason})", partial_text=text)
    if reason is None:
        raise AgentUnavailable("Gemini's stream ended without a finish reason", partial_text=text)
    raise AgentError(f"Gemini stopped the answer ({reason})", partial_text=text)


def _translate(exc: Exception, partial: str) -> AgentError:
    """The AgentError for an exception from the SDK or its transport."""
    if isinstance(exc, errors.APIError):
        what = f"Gemini answered {exc.code} {exc.status or ''}".rstrip()
        if exc.message:
            what = f"{what}: {exc.message}"
        if partial or exc.code in RETRY_STATUSES or not 400 <= (exc.code or 0) < 500:
            return AgentUnavailable(
                what, partial_text=partial, retry_after=_retry_after(exc), status=exc.code
            )
        return AgentInvalidRequest(what, partial_text=partial, status=exc.code)
    if isinstance(exc, TimeoutError):
        return AgentUnavailable("Gemini's stream stalled", partial_text=partial)
    if not isinstance(exc, httpx2.HTTPError | errors.UnknownApiResponseError):
        logger.warning("Unexpected error from the Gemini SDK", exc_info=exc)
    return AgentUnavailable(f"Gemini unreachable: {type(exc).__name__}", partial_text=partial)


def _retry_after(exc: errors.APIError) -> float | None:
    """Seconds the server asked us to wait: a Retry-After header, or RetryInfo's retryDelay."""
    headers = getattr(exc.response, "headers", None) or {}
    body = exc.details.get("error", {}) if isinstance(exc.details, dict) else {}
    hints = [headers.get("retry-after")] + [
        str(detail.get("retryDelay", "")).removesuffix("s")
        for detail in body.get("details", [])
        if isinstance(detail, dict)
    ]
    for hint in hints:
        try:
            return max(0.0, float(hint))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return None


def _name(value: Any) -> str:
    return str(getattr(value, "value", value))
