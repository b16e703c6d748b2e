"""Differential test: the lean reader (gemini_stream.py) and the SDK's agree on every stream.

The same recorded streams (tests/fakes/streams/*.sse, Gemini's wire shape) and the same HTTP
errors are served by the fake Gemini server to a GeminiAgent reading with `reader="sdk"`
(google-genai's generate_content_stream and types) and one with `reader="lean"` (json over
http_stream.py's asyncio client, or over httpx2 as when a proxy is configured); what each agent
yields (chunks, the Completion, or the error with its partial text, status and retry hint) must
be equal, and so must the requests they send. Each case also checks what the answer is, so
that two readers wrong the same way would still fail.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ai_chat.agent.base import (
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentTruncated,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    Grounding,
    Turn,
    WebSource,
)
from ai_chat.agent.gemini_stream import request_body
from tests.agent.differential import agree, cut, failed, text_of, transport  # noqa: F401
from tests.fakes import gemini_server as fake
from tests.fakes.gemini_server import STREAMS, Reply

gemini_server = fake.gemini_server


REQUEST = GenerationRequest(
    kind="course",
    instructions="Write a course outline.",
    prompt="Java for kids",
    history=(Turn("user", "Python for kids"), Turn("model", '{"title": "Python"}')),
    result_schema={
        "title": "Course",
        "type": "object",
        "properties": {"title": {"type": "string"}, "part": {"$ref": "#/$defs/Part"}},
        "$defs": {"Part": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    },
)
HEADERS = ("content-type", "x-goog-api-key", "user-agent", "x-goog-api-client", "x-server-timeout")


def completion(result: dict[str, Any]) -> Completion:
    assert result["error"] is None, result["error"]
    last = result["events"][-1]
    assert isinstance(last, Completion)
    return last


def stopped_with(text: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def check(result: dict[str, Any]) -> None:
        done = completion(result)
        assert done.text == text == text_of(result) and done.finish_reason == "STOP"
        for name, value in fields.items():
            assert getattr(done, name) == value

    return check


def structured(result: dict[str, Any]) -> None:
    import json

    done = completion(result)
    assert json.loads(done.text)["title"] == "Java for kids"
    assert len(result["events"]) == 31  # 30 chunks, then the Completion


GROUNDING = Grounding(
    sources=(
        WebSource(
            "oracle.com", "https://vertexaisearch.cloud.google.com/grounding-api-redirect/AAA"
        ),
        WebSource(
            "codeforkids.org", "https://vertexaisearch.cloud.google.com/grounding-api-redirect/BBB"
        ),
    ),
    queries=("java for kids course", "teach java to children"),
    search_entry_point=(
        '<style>.container{}</style><div class="container"><a class="chip" '
        'href="https://www.google.com/search?q=java+for+kids">java for kids</a></div>'
    ),
)

EXPECTED: dict[str, Callable[[dict[str, Any]], None]] = {
    "text_stop": stopped_with("Once upon a time, a café — 🦉.", model="gemini-2.5-flash"),
    "structured_30": structured,
    "thinking": stopped_with("Plan: three parts."),
    "prompt_blocked": failed(AgentBlocked),
    "candidate_safety": failed(AgentBlocked, "Here is how "),
    "recitation": failed(AgentBlocked, "To be or not to be"),
    "max_tokens": failed(AgentTruncated, "A long answer that runs out"),
    "other_finish": failed(AgentError, "Odd end"),
    "no_finish": failed(AgentUnavailable, "Cut short"),
    "error_midstream": failed(AgentUnavailable, "Half an answer"),
    "error_first": failed(AgentUnavailable),  # a 503 event: retried once, then given up
    "grounded": stopped_with("Java runs everywhere, even on toasters.", grounding=GROUNDING),
    "empty_parts": stopped_with("Only this."),
}


def test_every_recorded_stream_has_an_expectation():
    assert sorted(EXPECTED) == sorted(p.stem for p in Path(STREAMS).glob("*.sse"))


def replies_for(case: str, split: int | None) -> list[Reply]:
    reply = cut(Reply.recorded(case), split)
    # error_first is retried once (a 503 before any chunk): the retry gets the same stream.
    return [reply, Reply.recorded(case)] if case == "error_first" else [reply]


@pytest.mark.parametrize("split", [None, 7], ids=["by-event", "7-byte-pieces"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
async def test_readers_agree_on_recorded_streams(gemini_server, transport, case, split):  # noqa: F811
    await agree(
        gemini_server,
        replies_for(case, None),
        replies_for(case, split),
        REQUEST,
        HEADERS,
        EXPECTED[case],
    )


HTTP_CASES: dict[str, tuple[list[Reply], Callable[[dict[str, Any]], None]]] = {
    "400 refused": ([Reply.http_error(400, "bad schema")], failed(AgentInvalidRequest)),
    "403 key": ([Reply.http_error(403, "API key not valid")], failed(AgentInvalidRequest)),
    "404 model": ([Reply.http_error(404, "models/x is not found")], failed(AgentInvalidRequest)),
    "429 twice, RetryInfo": (
        [Reply.http_error(429, "quota", retry_delay="0.01s")] * 2,
        failed(AgentUnavailable),
    ),
    "503 then a stream": (
        [Reply.http_error(503), Reply.recorded("text_stop")],
        stopped_with("Once upon a time, a café — 🦉."),
    ),
    "500 with Retry-After": (
        [Reply.http_error(500, headers={"Retry-After": "0.02"})] * 2,
        failed(AgentUnavailable),
    ),
    "dropped mid-stream": (
        [Reply.recorded("no_finish", ending="drop")],
        failed(AgentUnavailable, "Cut short"),
    ),
}


@pytest.mark.parametrize("case", sorted(HTTP_CASES))
async def test_readers_agree_on_http_errors(gemini_server, transport, case):  # noqa: F811
    replies, expect = HTTP_CASES[case]
    lean = await agree(gemini_server, replies, replies, REQUEST, HEADERS, expect)
    if case.startswith("429"):
        assert lean["error"]["status"] == 429 and lean["error"]["retry_after"] == 0.01


def test_request_body_is_the_sdks():
    """The body the lean reader sends is what the SDK builds (the end-to-end cases compare the
    bytes on the wire; this one names the fields)."""
    body = request_body(REQUEST, 8192)
    assert body["contents"][-1] == {"parts": [{"text": "Java for kids"}], "role": "user"}
    assert body["generationConfig"]["responseJsonSchema"]["properties"]["part"] == {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
    }


async def test_readers_send_the_same_google_search_request(gemini_server, transport):  # noqa: F811
    """`search` adds Gemini's `google_search` tool; both readers send the same body and both
    return the grounding of the answer."""
    from dataclasses import replace

    request = replace(REQUEST, result_schema=None, search=True)
    sent = {}
    for reader in ("sdk", "lean"):
        agent = gemini_server.make_agent(reader=reader, max_retries=0)
        gemini_server.push(Reply.recorded("grounded"))
        before = len(gemini_server.requests)
        try:
            events = [event async for event in agent.stream(request)]
        finally:
            await agent.aclose()
        sent[reader] = gemini_server.requests[before].body
        assert events[-1].grounding == GROUNDING
    assert sent["lean"] == sent["sdk"]
    assert sent["lean"]["tools"] == [{"googleSearch": {}}]
    assert "tools" not in request_body(REQUEST, 8192)
