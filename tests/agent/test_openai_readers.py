"""Differential test: the lean reader (openai_stream.py) and the openai SDK's agree.

The same recorded streams (tests/fakes/streams/openai/*.sse, the chat-completions wire shape)
and the same HTTP errors are served by the fake OpenAI-compatible server to an
OpenAICompatibleAgent reading with `reader="sdk"` and one with `reader="lean"` (over
http_stream.py's client, or httpx2 as behind a proxy); what each yields (chunks, the
Completion, or the error with its partial text, status and retry hint) and the requests each
sends must be equal. Each case also checks the answer itself.
"""

import json
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
    Turn,
    Usage,
)
from tests.agent.differential import agree, cut, failed, text_of, transport  # noqa: F401
from tests.fakes import openai_server as fake
from tests.fakes.gemini_server import STREAMS
from tests.fakes.openai_server import Reply

openai_server = fake.openai_server

REQUEST = GenerationRequest(
    kind="course",
    instructions="Write a course outline.",
    prompt="Java for kids",
    history=(Turn("user", "Python for kids"), Turn("model", '{"title": "Python"}')),
    result_schema={"title": "Course", "type": "object", "properties": {"t": {"type": "string"}}},
)
HEADERS = ("content-type", "authorization", "accept")


def stopped_with(text: str, usage: Usage) -> Callable[[dict[str, Any]], None]:
    def check(result: dict[str, Any]) -> None:
        assert result["error"] is None, result["error"]
        done = result["events"][-1]
        assert isinstance(done, Completion)
        assert done.text == text == text_of(result) and done.finish_reason == "STOP"
        assert done.usage == usage and done.model == "llama-3.3-70b-versatile"

    return check


def structured(result: dict[str, Any]) -> None:
    assert json.loads(result["events"][-1].text)["title"] == "Java for kids"
    assert len(result["events"]) == 31


USAGE = Usage(31, 12)
EXPECTED: dict[str, Callable[[dict[str, Any]], None]] = {
    "text_stop": stopped_with("Once upon a café — 🦉.", USAGE),
    "structured_30": structured,
    "length": failed(AgentTruncated, "A long answer"),
    "content_filter": failed(AgentBlocked, "Here is "),
    "tool_calls": failed(AgentError),
    "no_finish": failed(AgentUnavailable, "Cut short"),
    "no_usage": stopped_with("No usage", Usage()),
    "error_midstream": failed(AgentUnavailable, "Half an answer"),
    "usage_in_last": stopped_with("Groq style", USAGE),
}


def test_every_recorded_stream_has_an_expectation():
    recorded = Path(STREAMS, "openai").glob("*.sse")
    assert sorted(EXPECTED) == sorted(p.stem for p in recorded)


def replies_for(case: str, split: int | None) -> list[Reply]:
    return [cut(Reply.recorded(case), split)]


@pytest.mark.parametrize("split", [None, 7], ids=["by-event", "7-byte-pieces"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
async def test_readers_agree_on_recorded_streams(openai_server, transport, case, split):  # noqa: F811
    await agree(
        openai_server,
        replies_for(case, None),
        replies_for(case, split),
        REQUEST,
        HEADERS,
        EXPECTED[case],
    )


HTTP_CASES: dict[str, tuple[list[Reply], Callable[[dict[str, Any]], None]]] = {
    "400 refused": ([Reply.http_error(400, "bad request")], failed(AgentInvalidRequest)),
    "401 key": ([Reply.http_error(401, "Invalid API Key")], failed(AgentInvalidRequest)),
    "404 model": ([Reply.http_error(404, "model not found")], failed(AgentInvalidRequest)),
    "429 twice, retry-after-ms": (
        [Reply.http_error(429, "slow down", headers={"retry-after-ms": "20"})] * 2,
        failed(AgentUnavailable),
    ),
    "503 then a stream": (
        [Reply.http_error(503, headers={"retry-after": "0.01"}), Reply.recorded("text_stop")],
        stopped_with("Once upon a café — 🦉.", USAGE),
    ),
    "400 with x-should-retry": (
        [
            Reply.http_error(400, headers={"x-should-retry": "true", "retry-after": "0.01"}),
            Reply.recorded("no_usage"),
        ],
        stopped_with("No usage", Usage()),
    ),
    "dropped mid-stream": (
        [Reply.recorded("no_finish", ending="drop")],
        failed(AgentUnavailable, "Cut short"),
    ),
}


@pytest.mark.parametrize("case", sorted(HTTP_CASES))
async def test_readers_agree_on_http_errors(openai_server, transport, case):  # noqa: F811
    replies, expect = HTTP_CASES[case]
    lean = await agree(openai_server, replies, replies, REQUEST, HEADERS, expect)
    if case.startswith("429"):
        assert lean["error"]["status"] == 429 and lean["error"]["retry_after"] == 0.02
