"""What the readers' differential tests share (test_gemini_readers.py, test_openai_readers.py):
running one generation through an agent with a given reader, describing what it yielded and
what it sent, and checks on the outcome."""

from collections.abc import Callable
from typing import Any

import pytest

from ai_chat.agent import http_stream
from ai_chat.agent.base import AgentError, GenerationRequest, TextChunk

Result = dict[str, Any]


@pytest.fixture(params=["direct", "httpx2"])
def transport(request, monkeypatch):
    """The lean reader's transport: its own HTTP client, or httpx2 (used behind a proxy)."""
    monkeypatch.setattr(http_stream, "proxy_configured", lambda url: request.param == "httpx2")
    return request.param


async def run(
    server: Any, reader: str, replies: list[Any], request: GenerationRequest, headers: tuple
) -> Result:
    """One generation through a fresh agent of `server` reading with `reader`: the events, the
    error that ended it (type, message, partial text, status, retry hint) and the requests sent
    (path, query, body, the `headers` named)."""
    agent = server.make_agent(reader=reader, max_retries=1)
    before = len(server.requests)
    server.push(*replies)
    events: list[Any] = []
    error: dict[str, Any] | None = None
    try:
        async for event in agent.stream(request):
            events.append(event)
    except AgentError as exc:
        error = {
            "type": type(exc).__name__,
            "message": str(exc),
            "partial_text": exc.partial_text,
            "status": exc.status,
            "retry_after": getattr(exc, "retry_after", None),
        }
    finally:
        await agent.aclose()
    sent = [
        (
            r.path,
            r.query,
            r.body,
            {k.lower(): v for k, v in r.headers.items() if k.lower() in headers},
        )
        for r in server.requests[before:]
    ]
    return {"events": events, "error": error, "sent": sent}


async def agree(
    server: Any,
    sdk_replies: list[Any],
    lean_replies: list[Any],
    request: GenerationRequest,
    headers: tuple,
    expect: Callable[[Result], None],
) -> Result:
    """Run the SDK reader on `sdk_replies` and the lean one on `lean_replies` (the same stream,
    perhaps cut otherwise); both must yield and send the same, and pass `expect`."""
    sdk = await run(server, "sdk", sdk_replies, request, headers)
    lean = await run(server, "lean", lean_replies, request, headers)
    assert lean == sdk
    expect(lean)
    return lean


def text_of(result: Result) -> str:
    return "".join(e.text for e in result["events"] if isinstance(e, TextChunk))


def failed(kind: type[AgentError], partial: str = "") -> Callable[[Result], None]:
    """A check: the generation failed with `kind`, `partial` streamed before."""

    def check(result: Result) -> None:
        assert result["error"] is not None and result["error"]["type"] == kind.__name__
        assert result["error"]["partial_text"] == partial

    return check


def cut(reply: Any, split: int | None) -> Any:
    """`reply` (a recorded stream) with its bytes cut into `split`-byte pieces, which split
    lines, CRLFs and UTF-8 sequences; as is when `split` is None."""
    if split:
        data = b"".join(b if isinstance(b, bytes) else b.encode() for b in reply.sse)
        reply.sse = [data[i : i + split] for i in range(0, len(data), split)]
    return reply
