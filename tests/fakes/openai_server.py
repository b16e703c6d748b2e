"""A fake OpenAI-compatible chat completions server on 127.0.0.1, scriptable per request.

It speaks what the `openai` SDK sends and parses (and what Groq, Qwen and gateways serve):
`POST /v1/chat/completions` with `stream: true` answered with `data: {chunk}` events, then, when
the request asked for `stream_options.include_usage`, a last chunk with `choices: []` and the
usage, then `data: [DONE]`; errors as `{"error": {"message", "type", "param", "code"}}` with
their HTTP status. Tests queue `Reply`s (one per request, in order; the default reply once the
queue is empty) and read back what was received. The default answers a `response_format` of
`json_schema` with a sample of that schema, anything else with a short text.

Standalone, for demos and end-to-end runs against `AI_PROVIDER_<NAME>_BASE_URL`:

    python -m tests.fakes.openai_server --port 8766     # base URL http://127.0.0.1:8766/v1
"""

import argparse
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from tests.fakes.gemini_server import STREAMS, sample_from_schema
from tests.fakes.http_fake import (
    Disconnected,
    EventHandler,
    FakeServer,
    Received,
    recorded_events,
)

__all__ = ["FakeOpenAIServer", "Received", "Reply", "error_body"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}

Ending = Literal["finish", "error", "drop", "stall"]


def error_body(code: int, message: str = "") -> dict[str, Any]:
    """OpenAI's JSON error body for an HTTP status."""
    kind = ERROR_TYPES.get(code, "server_error")
    return {
        "error": {"message": message or f"fake {kind}", "type": kind, "param": None, "code": kind}
    }


@dataclass
class Reply:
    """One scripted answer.

    `status` other than 200 answers with `error` (or `error_body(status)`) as a JSON body. A
    200 streams one chunk per item of `chunks` (`pause` seconds apart; the first one carries
    the assistant role), then by `ending`: "finish" sends `finish_reason` (None: the stream
    ends without one), the usage chunk and `[DONE]`; "error" sends `error` as an event; "drop"
    cuts the connection; "stall" hangs until the client goes away.
    """

    chunks: list[str] = field(default_factory=list)
    pause: float = 0.0
    finish_reason: str | None = "stop"
    ending: Ending = "finish"
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"prompt_tokens": 13, "completion_tokens": 9}
    )
    model: str | None = "fake-openai-001"
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # A recorded stream's events (or pieces of it), sent as they are before anything else.
    sse: list[str | bytes] = field(default_factory=list)

    @classmethod
    def recorded(cls, name: str, **kwargs: Any) -> "Reply":
        """The recorded stream tests/fakes/streams/openai/`name`.sse, as it is (its `[DONE]`
        included)."""
        events: list[str | bytes] = list(
            recorded_events(os.path.join(STREAMS, "openai", f"{name}.sse"))
        )
        return cls(sse=events, finish_reason=None, usage=None, **kwargs)

    @classmethod
    def text(cls, text: str, *, size: int = 16, **kwargs: Any) -> "Reply":
        """The whole `text`, streamed in pieces of `size` characters."""
        return cls(chunks=[text[i : i + size] for i in range(0, len(text), size)], **kwargs)

    @classmethod
    def http_error(cls, status: int, message: str = "", **kwargs: Any) -> "Reply":
        return cls(status=status, error=error_body(status, message), **kwargs)


class FakeOpenAIServer(FakeServer[Reply]):
    """A threaded HTTP server answering each chat completion with the next queued `Reply`."""

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(_Handler, sample_reply, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def make_agent(self, **overrides: Any) -> Any:
        """An OpenAICompatibleAgent pointed here, with short timeouts and no SDK retries."""
        from ai_chat.agent.openai_compat import OpenAICompatibleAgent

        options: dict[str, Any] = {
            "name": "compat",
            "base_url": self.base_url,
            "api_key": "sk-test-key",
            "model": "compat-test",
            "structured": "json_schema",
            "timeout_seconds": 5.0,
            "stall_seconds": 1.0,
            "max_retries": 0,
        }
        return OpenAICompatibleAgent(**{**options, **overrides})


class _Handler(EventHandler):
    server_version = "FakeOpenAI/1.0"

    def do_GET(self) -> None:
        self.send_json(404, error_body(404, "fake server: only POST is served"))

    def do_POST(self) -> None:
        received = self.receive_json()
        if received is None:
            return
        if received.path != "/v1/chat/completions":
            self.send_json(404, error_body(404, f"no route {received.path}"))
            return
        reply = self.fake.next_reply(received.body)
        try:
            self.wait(reply.delay)
            if reply.status != 200:
                self.send_json(reply.status, reply.error or error_body(reply.status), reply.headers)
            elif received.body.get("stream"):
                self._stream(reply, received.body)
            else:
                self.send_json(200, _whole(reply, received.body), reply.headers)
        except Disconnected:
            self.fake.record_disconnect()
            self.close_connection = True

    def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
        self.start_events(reply.headers)
        if reply.sse:
            self.write_blocks(reply.sse, reply.pause)
            if reply.ending == "drop":
                self.drop()
            else:
                self.end_events()
            return
        for index, chunk in enumerate(_chunks(reply, body)):
            if index and reply.pause:
                self.wait(reply.pause)
            self.write_event(json.dumps(chunk))
        if reply.ending == "error":
            self.write_event(json.dumps(reply.error or error_body(500, "fake mid-stream error")))
        elif reply.ending == "drop":
            self.drop()
            return
        elif reply.ending == "stall":
            self.wait(300.0)
            return
        self.write_event("[DONE]")
        self.end_events()


def _chunk(reply: Reply, body: dict[str, Any], choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model or body.get("model", ""),
        "choices": choices,
    }


def _chunks(reply: Reply, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk`s of a 200 stream, as OpenAI shapes them."""
    for index, text in enumerate(reply.chunks):
        delta = {"role": "assistant", "content": text} if index == 0 else {"content": text}
        yield _chunk(reply, body, [{"index": 0, "delta": delta, "finish_reason": None}])
    if reply.ending != "finish":
        return
    if reply.finish_reason:
        yield _chunk(reply, body, [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}])
    if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
        usage = {**reply.usage}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        yield {**_chunk(reply, body, []), "usage": usage}


def _whole(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming answer: every chunk in one message."""
    message = {"role": "assistant", "content": "".join(reply.chunks)}
    choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
    answer = {**_chunk(reply, body, [choice]), "object": "chat.completion"}
    if reply.usage:
        answer["usage"] = {**reply.usage, "total_tokens": sum(reply.usage.values())}
    return answer


def sample_reply(body: dict[str, Any]) -> Reply:
    """The default: a sample of the `json_schema` asked for, or a short text."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = response_format["json_schema"]["schema"]
        return Reply.text(json.dumps(sample_from_schema(schema, schema)), size=40, pause=0.01)
    if response_format.get("type") == "json_object":
        return Reply.text("{}")
    return Reply.text("This answer comes from the fake OpenAI server; no model was involved.")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A running fake OpenAI-compatible server for one test."""
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
async def openai_agent(openai_server: FakeOpenAIServer) -> AsyncIterator[Any]:
    """An OpenAICompatibleAgent talking to `openai_server`, closed after the test."""
    agent = openai_server.make_agent()
    yield agent
    await agent.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI chat completions API.")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(port=args.port).start()
    print(f"fake OpenAI serving at {server.base_url} (base URL)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
