"""A fake Gemini REST server on 127.0.0.1, scriptable per request.

It speaks what google-genai 3.3 sends and parses: `POST /{version}/models/{model}:
streamGenerateContent?alt=sse` answered with `data: {json}\\r\\n\\r\\n` events over a chunked
HTTP/1.1 body, `:generateContent` answered with one JSON document, and errors as Google's JSON
body `{"error": {"code", "message", "status"}}`. A request with the `google_search` tool is
answered with `groundingMetadata` on its last candidate (`Reply.grounding`; by default
`sample_grounding`), and refused with Gemini 2.x's 400 when it also asks for a JSON response
schema on a model before Gemini 3 (as the real service does). Tests queue `Reply`s (one per
request, in order; the default reply once the queue is empty) and read back what was received.

Standalone, for demos and end-to-end runs against `GEMINI_BASE_URL`:

    python -m tests.fakes.gemini_server --port 8765 [--script replies.json]

The script file is a JSON list of `Reply` fields (or `{"replies": [...], "default": {...}}`).
Without one, each request gets the placeholder result of the kind whose schema it sent (Django
is set up for that), or a short text for free-text requests; `--generic` answers with a plain
sample of the `responseJsonSchema` instead (it may fail cross-field checks, like quiz counts).
"""

import argparse
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import pytest

from tests.fakes.http_fake import (
    Disconnected,
    EventHandler,
    FakeServer,
    Received,
    recorded_events,
)

__all__ = ["FakeGeminiServer", "Received", "Reply", "error_body", "sample_reply"]

# Recorded streams (Gemini's wire shape, `data: {json}` events), served by `Reply.recorded`.
STREAMS = os.path.join(os.path.dirname(__file__), "streams")

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

Ending = Literal["finish", "error", "drop", "stall"]


def error_body(code: int, message: str = "", retry_delay: str | None = None) -> dict[str, Any]:
    """Google's JSON error body for an HTTP status, with a RetryInfo if `retry_delay` ("2s")."""
    status = STATUS_NAMES.get(code, "UNKNOWN")
    error: dict[str, Any] = {"code": code, "message": message or f"fake {status}", "status": status}
    if retry_delay is not None:
        info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        error["details"] = [info]
    return {"error": error}


@dataclass
class Reply:
    """One scripted answer.

    `status` other than 200 answers with `error` (or `error_body(status)`) as a JSON body. A
    200 streams the `sse` event blocks byte for byte (a recorded stream), then `raw` data
    payloads verbatim, then one event per chunk of `chunks` (`pause`
    seconds apart), then by `ending`: "finish" sends `finish_reason` (None: the stream just
    ends), "error" sends `error` as an event, "drop" cuts the connection, "stall" hangs until
    the client goes away.
    """

    chunks: list[str] = field(default_factory=list)
    pause: float = 0.0
    finish_reason: str | None = "STOP"
    ending: Ending = "finish"
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"promptTokenCount": 11, "candidatesTokenCount": 7}
    )
    model_version: str | None = "fake-gemini-001"
    block_reason: str | None = None
    raw: list[str] = field(default_factory=list)
    sse: list[str | bytes] = field(default_factory=list)
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # `groundingMetadata` of the last candidate (Gemini's JSON shape), for grounded answers.
    grounding: dict[str, Any] | None = None

    @classmethod
    def text(cls, text: str, *, size: int = 16, **kwargs: Any) -> "Reply":
        """The whole `text`, streamed in pieces of `size` characters."""
        return cls(chunks=[text[i : i + size] for i in range(0, len(text), size)], **kwargs)

    @classmethod
    def recorded(cls, name: str, **kwargs: Any) -> "Reply":
        """The recorded stream tests/fakes/streams/`name`.sse, event by event, as it is."""
        events: list[str | bytes] = list(recorded_events(os.path.join(STREAMS, f"{name}.sse")))
        return cls(sse=events, finish_reason=None, usage=None, model_version=None, **kwargs)

    @classmethod
    def http_error(
        cls, status: int, message: str = "", *, retry_delay: str | None = None, **kwargs: Any
    ) -> "Reply":
        return cls(status=status, error=error_body(status, message, retry_delay), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reply":
        if "text" in data:
            data = dict(data)
            text = data.pop("text")
            return cls.text(text if isinstance(text, str) else json.dumps(text), **data)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class FakeGeminiServer(FakeServer[Reply]):
    """A threaded HTTP server answering each request with the next queued `Reply`."""

    def __init__(self, *, port: int = 0, default: Callable[[dict], Reply] | None = None):
        super().__init__(_Handler, default or sample_reply, port=port)

    def make_agent(self, **overrides: Any) -> Any:
        """A GeminiAgent pointed here, with short timeouts and retry delays."""
        from ai_chat.agent.gemini import GeminiAgent

        options: dict[str, Any] = {
            "api_key": "test-key",
            "model": "gemini-test",
            "base_url": self.url,
            "timeout_seconds": 5.0,
            "stall_seconds": 1.0,
            "max_retries": 2,
            "retry_initial_delay": 0.01,
            "retry_max_delay": 0.05,
        }
        return GeminiAgent(**{**options, **overrides})


class _Handler(EventHandler):
    server_version = "FakeGemini/1.0"

    def do_GET(self) -> None:
        self.send_json(404, error_body(404, "fake server: only POST is served"))

    def bad_json_body(self) -> dict[str, Any]:
        return error_body(400, "request body is not JSON")

    def do_POST(self) -> None:
        received = self.receive_json()
        if received is None:
            return
        refusal = _search_with_schema_refused(received)
        reply = refusal or self.fake.next_reply(received.body)
        try:
            self.wait(reply.delay)
            if reply.status != 200:
                self.send_json(reply.status, reply.error or error_body(reply.status), reply.headers)
            elif received.path.endswith(":streamGenerateContent"):
                self._stream(reply)
            else:
                self.send_json(200, _merged(reply), reply.headers)
        except Disconnected:
            self.fake.record_disconnect()
            self.close_connection = True

    def _stream(self, reply: Reply) -> None:
        self.start_events(reply.headers)
        self.write_blocks(reply.sse, reply.pause)
        for payload in reply.raw:
            self.write_event(payload)
        for index, event in enumerate(_events(reply)):
            if index and reply.pause:
                self.wait(reply.pause)
            self.write_event(json.dumps(event))
        if reply.ending == "error":
            self.write_event(json.dumps(reply.error or error_body(500, "fake mid-stream error")))
        elif reply.ending == "drop":
            self.drop()
            return
        elif reply.ending == "stall":
            self.wait(300.0)
            return
        self.end_events()


def uses_search(body: dict[str, Any]) -> bool:
    """Whether a request asked for the `google_search` tool."""
    return any("googleSearch" in tool for tool in body.get("tools") or ())


def _search_with_schema_refused(received: Received) -> Reply | None:
    """Gemini before 3 refuses the search tool together with a JSON response schema."""
    body = received.body
    config = body.get("generationConfig") or {}
    match = re.match(r"gemini-(\d+)", received.model)
    major = int(match.group(1)) if match else 0
    if uses_search(body) and config.get("responseMimeType") == "application/json" and major < 3:
        message = "Tool use with a response mime type: 'application/json' is unsupported"
        return Reply.http_error(400, message)
    return None


def sample_grounding(topic: str = "the lesson") -> dict[str, Any]:
    """Grounding metadata as Gemini sends it for a Google Search grounded answer."""
    redirect = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
    query = topic.replace(" ", "+")
    return {
        "webSearchQueries": [f"{topic} explained", f"{topic} examples"],
        "searchEntryPoint": {
            "renderedContent": (
                "<style>.container{display:flex}.chip{border:1px solid #ccc;"
                "border-radius:16px;padding:4px 12px}</style>"
                '<div class="container"><a class="chip" '
                f'href="https://www.google.com/search?q={query}+explained">'
                f"{topic} explained</a></div>"
            )
        },
        "groundingChunks": [
            {"web": {"uri": f"{redirect}AUZIYQ-fake-1", "title": "en.wikipedia.org"}},
            {"web": {"uri": f"{redirect}AUZIYQ-fake-2", "title": "docs.python.org"}},
        ],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": 20, "text": "Grounded sentence."},
                "groundingChunkIndices": [0, 1],
                "confidenceScores": [0.9, 0.8],
            }
        ],
    }


def _events(reply: Reply) -> Iterator[dict[str, Any]]:
    """The SSE payloads of a 200 reply, as Gemini shapes them."""
    if reply.block_reason:
        yield {"promptFeedback": {"blockReason": reply.block_reason}, **_meta(reply, True)}
        return
    finish = reply.finish_reason if reply.ending == "finish" else None
    for index, text in enumerate(reply.chunks):
        last = index == len(reply.chunks) - 1
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
        if last and finish:
            candidate["finishReason"] = finish
        if last and reply.grounding:
            candidate["groundingMetadata"] = reply.grounding
        yield {"candidates": [{**candidate, "index": 0}], **_meta(reply, last)}
    if finish and not reply.chunks:
        yield {"candidates": [{"finishReason": finish, "index": 0}], **_meta(reply, True)}


def _meta(reply: Reply, last: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"responseId": "fake-response"}
    if reply.model_version:
        meta["modelVersion"] = reply.model_version
    if reply.usage:
        usage = reply.usage if last else {"promptTokenCount": reply.usage["promptTokenCount"]}
        meta["usageMetadata"] = usage
    return meta


def _merged(reply: Reply) -> dict[str, Any]:
    """The non-streaming answer: every chunk in one candidate."""
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": "".join(reply.chunks)}]},
        "index": 0,
    }
    if reply.finish_reason:
        candidate["finishReason"] = reply.finish_reason
    if reply.grounding:
        candidate["groundingMetadata"] = reply.grounding
    return {"candidates": [candidate], **_meta(reply, True)}


def sample_reply(body: dict[str, Any]) -> Reply:
    """The default: a valid sample of the requested JSON schema, or a short text; grounded
    (`sample_grounding`) when the request asked for Google Search."""
    schema = (body.get("generationConfig") or {}).get("responseJsonSchema")
    grounding = sample_grounding() if uses_search(body) else None
    if schema is None:
        text = "This answer comes from the fake Gemini server; no model was involved."
        return Reply.text(text, grounding=grounding)
    data = json.dumps(sample_from_schema(schema, schema))
    return Reply.text(data, size=40, pause=0.01, grounding=grounding)


def sample_from_schema(schema: dict[str, Any], root: dict[str, Any], name: str = "value") -> Any:
    """A small instance of a JSON schema (refs, enums, bounds and lengths honoured)."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return sample_from_schema(target, root, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return sample_from_schema(schema[key][0], root, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: sample_from_schema(sub, root, key) for key, sub in props.items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        return [sample_from_schema(schema.get("items", {}), root, name) for _ in range(count)]
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), min(schema.get("maximum", 1), 1))
    if kind == "boolean":
        return True
    text = f"Sample {schema.get('title', name)}".ljust(schema.get("minLength", 0), ".")
    return text[: schema.get("maxLength", len(text))]


@pytest.fixture
def gemini_server() -> Iterator[FakeGeminiServer]:
    """A running fake Gemini server for one test."""
    server = FakeGeminiServer().start()
    yield server
    server.stop()


@pytest.fixture
async def gemini_agent(gemini_server: FakeGeminiServer) -> AsyncIterator[Any]:
    """A GeminiAgent talking to `gemini_server`, closed after the test."""
    agent = gemini_server.make_agent()
    yield agent
    await agent.aclose()


def placeholder_reply(body: dict[str, Any]) -> Reply:
    """The standalone default: the project's own placeholder for the kind whose schema was sent.

    The kind is found by the schema's title (its result model); question counts and types are
    read from the prompts the kinds write. Falls back to `sample_reply`.
    """
    from ai_chat.kinds import KINDS

    schema = (body.get("generationConfig") or {}).get("responseJsonSchema") or {}
    kinds = [
        k for k in KINDS.values() if k.structured and k.result_model.__name__ == schema.get("title")
    ]
    if not kinds:
        return sample_reply(body)
    texts = [
        part.get("text", "")
        for content in body.get("contents", [])
        if content.get("role") == "user"
        for part in content.get("parts", [])
    ]
    prompt = "\n".join(texts)
    context: dict[str, Any] = {}
    if counts := re.findall(r"exactly (\d+)", prompt):
        context["question_count"] = int(counts[-1])
    if types := re.findall(r"Allowed question types: (.+)", prompt):
        context["question_types"] = [t.strip() for t in types[-1].split(",")]
    data = kinds[0].placeholder(prompt=texts[-1] if texts else "", context=context)
    grounding = sample_grounding() if uses_search(body) else None
    return Reply.text(json.dumps(data), size=40, pause=0.01, grounding=grounding)


def _load_script(path: str) -> tuple[list[Reply], Reply | None]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, list):
        data = {"replies": data}
    default = data.get("default")
    replies = [Reply.from_dict(item) for item in data.get("replies", [])]
    return replies, Reply.from_dict(default) if default else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Gemini REST API.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--script", help="JSON file of replies, served in order")
    parser.add_argument(
        "--generic",
        action="store_true",
        help="answer with schema samples, not the project's kind placeholders (no Django)",
    )
    args = parser.parse_args(argv)
    replies, default = _load_script(args.script) if args.script else ([], None)
    responder: Callable[[dict], Reply] = sample_reply
    if default:
        responder = lambda body: default  # noqa: E731
    elif not args.generic:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        responder = placeholder_reply
    server = FakeGeminiServer(port=args.port, default=responder)
    server.push(*replies)
    server.start()
    print(f"fake Gemini serving at {server.url} (GEMINI_BASE_URL={server.url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
