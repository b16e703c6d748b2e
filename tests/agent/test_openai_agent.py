"""OpenAICompatibleAgent against the fake OpenAI server, through the real `openai` SDK."""

import json
import logging

import pytest

from ai_chat.agent.base import (
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentTruncated,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    TextChunk,
    Turn,
    Usage,
)
from ai_chat.agent.schema import inline_refs
from ai_chat.kinds import get_kind
from tests.fakes import openai_server as fake
from tests.fakes.openai_server import Reply, error_body

openai_server = fake.openai_server
openai_agent = fake.openai_agent

REQUEST = GenerationRequest(kind="chat", instructions="Be brief.", prompt="Hello?")


async def collect(agent, request=REQUEST):
    """Every event of one stream, or the events so far and the error that ended it."""
    events = []
    try:
        async for event in agent.stream(request):
            events.append(event)
    except AgentError as exc:
        return events, exc
    return events, None


def quiz_request():
    kind = get_kind("quiz")
    return kind, GenerationRequest(
        kind="quiz",
        instructions=kind.instructions,
        prompt="Loops",
        result_schema=kind.result_schema(),
    )


async def test_chunks_arrive_in_order_then_one_completion_with_usage(openai_server, openai_agent):
    """Chunks in order, then a Completion with the whole text, the usage chunk and the model."""
    openai_server.push(Reply(chunks=["Once ", "upon ", "a time."], pause=0.01))
    events, error = await collect(openai_agent)
    assert error is None
    assert events == [
        TextChunk("Once "),
        TextChunk("upon "),
        TextChunk("a time."),
        Completion(
            text="Once upon a time.",
            usage=Usage(input_tokens=13, output_tokens=9),
            finish_reason="STOP",
            model="fake-openai-001",
        ),
    ]


async def test_request_carries_messages_stream_options_and_limit(openai_server, openai_agent):
    """System instructions, history as user/assistant, usage asked for, the token limit."""
    openai_server.push(Reply(chunks=["Sure."]))
    request = GenerationRequest(
        kind="chat",
        instructions="You tutor.",
        prompt="And now?",
        history=(Turn("user", "Hi"), Turn("model", "Hello")),
        max_output_tokens=300,
    )
    await collect(openai_agent, request)
    received = openai_server.requests[0]
    assert received.path == "/v1/chat/completions"
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["authorization"] == "Bearer sk-test-key"
    body = received.body
    assert body["model"] == "compat-test" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 300
    assert body["messages"] == [
        {"role": "system", "content": "You tutor."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "And now?"},
    ]
    assert "response_format" not in body


async def test_json_schema_entry_sends_the_schema_as_response_format(openai_server, openai_agent):
    """`json_schema`: the kind's schema (refs inlined) goes as response_format; the streamed
    result validates with the kind."""
    kind, request = quiz_request()
    context = kind.context_model.model_validate({"lesson_id": 1, "question_count": 2})
    data = kind.placeholder(prompt="Loops", context=context.model_dump())
    openai_server.push(Reply.text(json.dumps(data), size=25))
    events, error = await collect(openai_agent, request)
    assert error is None and len(events) > 3
    assert kind.parse_result(events[-1].text, context) == data
    sent = openai_server.requests[0].body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"] == inline_refs(kind.result_schema())
    assert sent["json_schema"]["strict"] is False
    assert "JSON Schema" not in openai_server.requests[0].body["messages"][0]["content"]


@pytest.mark.parametrize("structured", ["json_object", "none"])
async def test_other_entries_carry_the_schema_in_the_instructions(openai_server, structured):
    """`json_object` asks for JSON mode, `none` for nothing; both put the schema in the
    system message, so the model still knows the shape the result is validated against."""
    agent = openai_server.make_agent(structured=structured)
    openai_server.push(Reply(chunks=["{}"]))
    try:
        await collect(agent, quiz_request()[1])
    finally:
        await agent.aclose()
    body = openai_server.requests[0].body
    system = body["messages"][0]["content"]
    assert "JSON Schema" in system and '"questions"' in system
    if structured == "json_object":
        assert body["response_format"] == {"type": "json_object"}
    else:
        assert "response_format" not in body


async def test_default_reply_answers_a_schema_with_a_sample(openai_server, openai_agent):
    """Without a script, the fake answers a json_schema request with valid JSON for it."""
    _, request = quiz_request()
    events, error = await collect(openai_agent, request)
    assert error is None
    assert "questions" in json.loads(events[-1].text)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retryable_statuses_are_unavailable_with_their_status(openai_server, status):
    """429 and 5xx, after the SDK's own retries (here one), are AgentUnavailable."""
    agent = openai_server.make_agent(max_retries=1)
    openai_server.push(
        Reply.http_error(status, headers={"retry-after-ms": "10"}),
        Reply.http_error(status, headers={"retry-after": "7"}),
    )
    try:
        events, error = await collect(agent)
    finally:
        await agent.aclose()
    assert events == []
    assert isinstance(error, AgentUnavailable) and error.status == status
    assert error.retry_after == 7.0
    assert len(openai_server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_invalid_requests_without_retry(openai_server, status):
    """400, 401, 404 are AgentInvalidRequest after one request, even with retries allowed."""
    agent = openai_server.make_agent(max_retries=2)
    openai_server.push(Reply.http_error(status, "nope"))
    try:
        _, error = await collect(agent)
    finally:
        await agent.aclose()
    assert isinstance(error, AgentInvalidRequest) and error.status == status
    assert "nope" in str(error)
    assert len(openai_server.requests) == 1


async def test_the_key_never_appears_in_an_error(openai_server, openai_agent, caplog):
    """A gateway that echoes the key in its error body: the key is redacted from the error."""
    openai_server.push(Reply.http_error(401, "Incorrect API key provided: sk-test-key"))
    with caplog.at_level(logging.DEBUG):
        _, error = await collect(openai_agent)
    assert isinstance(error, AgentInvalidRequest)
    assert "sk-test-key" not in str(error) and "[redacted]" in str(error)
    assert "sk-test-key" not in caplog.text


async def test_error_event_mid_stream_keeps_the_partial_text(openai_server, openai_agent):
    """An error event after some chunks: AgentUnavailable carrying the text so far."""
    openai_server.push(
        Reply(chunks=["Half ", "an "], ending="error", error=error_body(500, "overloaded"))
    )
    events, error = await collect(openai_agent)
    assert events == [TextChunk("Half "), TextChunk("an ")]
    assert isinstance(error, AgentUnavailable) and "overloaded" in str(error)
    assert error.partial_text == "Half an "


async def test_dropped_connection_mid_stream_is_unavailable(openai_server, openai_agent):
    openai_server.push(Reply(chunks=["Half "], ending="drop"))
    events, error = await collect(openai_agent)
    assert events == [TextChunk("Half ")]
    assert isinstance(error, AgentUnavailable) and error.partial_text == "Half "


async def test_stall_is_unavailable_and_the_server_sees_the_client_leave(
    openai_server, openai_agent
):
    """No chunk for stall_seconds: AgentUnavailable, and the HTTP stream is closed."""
    openai_server.push(Reply(chunks=["Wait"], ending="stall"))
    events, error = await collect(openai_agent)
    assert events == [TextChunk("Wait")]
    assert isinstance(error, AgentUnavailable) and "stalled" in str(error)
    assert openai_server.wait_for_disconnect(5.0)


async def test_closing_the_stream_early_closes_the_http_response(openai_server, openai_agent):
    """A caller that stops reading (cancel) closes the provider's stream at once."""
    openai_server.push(Reply(chunks=["a", "b", "c"], pause=0.5))
    stream = openai_agent.stream(REQUEST)
    assert await anext(stream) == TextChunk("a")
    await stream.aclose()
    assert openai_server.wait_for_disconnect(5.0)


@pytest.mark.parametrize(
    ("finish", "error_type"),
    [("length", AgentTruncated), ("content_filter", AgentBlocked), (None, AgentUnavailable)],
)
async def test_finish_reasons_other_than_stop_are_errors(
    openai_server, openai_agent, finish, error_type
):
    """`length` is truncated, `content_filter` blocked, no finish reason unavailable."""
    openai_server.push(Reply(chunks=["Some"], finish_reason=finish))
    events, error = await collect(openai_agent)
    assert events == [TextChunk("Some")]
    assert type(error) is error_type and error.partial_text == "Some"


async def test_unreachable_endpoint_is_unavailable(openai_server):
    """Nothing listening: a connection error, AgentUnavailable, no status."""
    port = openai_server.url.rsplit(":", 1)[1]
    openai_server.stop()
    from ai_chat.agent.openai_compat import OpenAICompatibleAgent

    agent = OpenAICompatibleAgent(
        name="gone",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="k",
        model="m",
        max_retries=0,
        timeout_seconds=2.0,
    )
    try:
        _, error = await collect(agent)
    finally:
        await agent.aclose()
    assert isinstance(error, AgentUnavailable) and error.status is None
    assert "unreachable" in str(error)
