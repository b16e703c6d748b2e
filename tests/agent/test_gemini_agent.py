"""GeminiAgent against the fake Gemini server, through the real google-genai SDK."""

import asyncio
import json
import logging
import socket
import time

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
from ai_chat.agent.gemini import GeminiAgent, inline_refs
from ai_chat.kinds import get_kind
from ai_chat.kinds.base import ResultInvalid
from tests.fakes import gemini_server as fake
from tests.fakes.gemini_server import Reply, error_body

# The fake's fixtures, bound here so this module does not depend on tests/conftest.py.
gemini_server = fake.gemini_server
gemini_agent = fake.gemini_agent

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


async def test_chunks_arrive_in_order_then_one_completion(gemini_server, gemini_agent):
    """Chunks arrive in order, then one Completion with the whole text, usage and model."""
    gemini_server.push(
        Reply(
            chunks=["Once ", "upon ", "a time."],
            pause=0.01,
            usage={"promptTokenCount": 12, "candidatesTokenCount": 5, "thoughtsTokenCount": 3},
            model_version="gemini-2.5-flash-001",
        )
    )
    events, error = await collect(gemini_agent)
    assert error is None
    assert events == [
        TextChunk("Once "),
        TextChunk("upon "),
        TextChunk("a time."),
        Completion(
            text="Once upon a time.",
            usage=Usage(input_tokens=12, output_tokens=8),
            finish_reason="STOP",
            model="gemini-2.5-flash-001",
        ),
    ]


async def test_completion_names_the_configured_model_when_the_server_does_not(
    gemini_server, gemini_agent
):
    """Without modelVersion in the response, the Completion names the configured model."""
    gemini_server.push(Reply(chunks=["Hi."], model_version=None))
    events, _ = await collect(gemini_agent)
    assert events[-1].model == "gemini-test"


async def test_structured_result_text_validates_with_the_kind(gemini_server, gemini_agent):
    """A structured answer streamed in pieces reassembles into a result the kind accepts."""
    kind = get_kind("quiz")
    context = kind.context_model.model_validate({"lesson_id": 1, "question_count": 2})
    data = kind.placeholder(prompt="Loops", context=context.model_dump())
    gemini_server.push(Reply.text(json.dumps(data), size=25))
    request = GenerationRequest(
        kind="quiz",
        instructions=kind.instructions,
        prompt="Loops",
        result_schema=kind.result_schema(),
    )
    events, error = await collect(gemini_agent, request)
    assert error is None and len(events) > 3
    assert kind.parse_result(events[-1].text, context) == data
    sent = gemini_server.requests[0].body["generationConfig"]["responseJsonSchema"]
    assert sent == inline_refs(kind.result_schema())
    assert "$ref" not in json.dumps(sent) and "$defs" not in sent


async def test_invalid_json_text_is_passed_through_for_the_caller_to_judge(
    gemini_server, gemini_agent
):
    """A STOP answer that is not valid JSON completes as is; validating it is the kind's job."""
    gemini_server.push(Reply(chunks=['{"questions": [', '{"type": "essay"']))
    kind = get_kind("quiz")
    context = kind.context_model.model_validate({"lesson_id": 1})
    events, error = await collect(gemini_agent)
    assert error is None
    assert events[-1].text == '{"questions": [{"type": "essay"'
    with pytest.raises(ResultInvalid):
        kind.parse_result(events[-1].text, context)


async def test_request_carries_instructions_history_schema_and_config(gemini_server, gemini_agent):
    """The request names the model and carries instructions, history in order, schema, config."""
    gemini_server.push(Reply(chunks=["{}"]))
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    request = GenerationRequest(
        kind="course",
        instructions="You write courses.",
        prompt="Now make it shorter.",
        history=(Turn("user", "A course on Java."), Turn("model", '{"title": "Java"}')),
        result_schema=schema,
        max_output_tokens=512,
    )
    await collect(gemini_agent, request)
    received = gemini_server.requests[0]
    assert received.path == "/v1beta/models/gemini-test:streamGenerateContent"
    assert received.query == "alt=sse"
    assert received.headers["x-goog-api-key"] == "test-key"
    assert received.body["systemInstruction"]["parts"] == [{"text": "You write courses."}]
    assert [(c["role"], c["parts"][0]["text"]) for c in received.body["contents"]] == [
        ("user", "A course on Java."),
        ("model", '{"title": "Java"}'),
        ("user", "Now make it shorter."),
    ]
    assert received.body["generationConfig"] == {
        "maxOutputTokens": 512,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }


async def test_free_text_request_asks_for_no_json(gemini_server, gemini_agent):
    """Without a result schema, no JSON mime type or schema is sent; the default limit is."""
    gemini_server.push(Reply(chunks=["Sure."]))
    await collect(gemini_agent)
    assert gemini_server.requests[0].body["generationConfig"] == {"maxOutputTokens": 8192}


async def test_429_then_success_retries_once(gemini_server, gemini_agent, caplog):
    """A 429 before any chunk is retried; the second attempt's answer is returned."""
    gemini_server.push(Reply.http_error(429), Reply(chunks=["Fine."]))
    with caplog.at_level(logging.WARNING, logger="ai_chat.agent.gemini"):
        events, error = await collect(gemini_agent)
    assert error is None and events[-1].text == "Fine."
    assert len(gemini_server.requests) == 2
    assert len(caplog.records) == 1 and "429" in caplog.text
    assert "test-key" not in caplog.text


async def test_5xx_until_retries_are_exhausted_raises_unavailable(gemini_server, gemini_agent):
    """500, 502, 503 on every attempt: 1 + max_retries requests, then AgentUnavailable."""
    gemini_server.push(Reply.http_error(500), Reply.http_error(502), Reply.http_error(503))
    events, error = await collect(gemini_agent)
    assert isinstance(error, AgentUnavailable) and "503" in str(error)
    assert events == [] and error.partial_text == ""
    assert len(gemini_server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_raise_invalid_request_without_retry(
    gemini_server, gemini_agent, status
):
    """400, 401, 403 and 404 raise AgentInvalidRequest after a single request."""
    gemini_server.push(Reply.http_error(status, "bad request body"))
    _, error = await collect(gemini_agent)
    assert isinstance(error, AgentInvalidRequest) and "bad request body" in str(error)
    assert len(gemini_server.requests) == 1


async def test_retry_delay_from_retry_info_is_waited_for(gemini_server):
    """A 429 whose RetryInfo asks for 0.3s is retried no sooner than that."""
    agent = gemini_server.make_agent(retry_max_delay=1.0)
    gemini_server.push(Reply.http_error(429, retry_delay="0.3s"), Reply(chunks=["ok"]))
    started = time.monotonic()
    try:
        events, error = await collect(agent)
    finally:
        await agent.aclose()
    assert error is None and events[-1].text == "ok"
    assert time.monotonic() - started >= 0.3
    assert len(gemini_server.requests) == 2


async def test_long_retry_after_gives_up_and_carries_it(gemini_server, gemini_agent):
    """A Retry-After longer than the agent would wait is not slept on; the error carries it."""
    gemini_server.push(Reply.http_error(429, headers={"Retry-After": "120"}))
    _, error = await collect(gemini_agent)
    assert isinstance(error, AgentUnavailable) and error.retry_after == 120.0
    assert len(gemini_server.requests) == 1


async def test_error_event_mid_stream_raises_unavailable_with_partial_text(
    gemini_server, gemini_agent
):
    """An error event after some chunks raises AgentUnavailable with what arrived; no retry."""
    gemini_server.push(Reply(chunks=["Par", "tial"], ending="error", error=error_body(503)))
    events, error = await collect(gemini_agent)
    assert events == [TextChunk("Par"), TextChunk("tial")]
    assert isinstance(error, AgentUnavailable) and error.partial_text == "Partial"
    assert len(gemini_server.requests) == 1


async def test_dropped_connection_mid_stream_raises_unavailable_with_partial_text(
    gemini_server, gemini_agent
):
    """A connection cut mid-stream raises AgentUnavailable with what arrived, never a Completion."""
    gemini_server.push(Reply(chunks=["Half ", "an answer"], ending="drop"))
    events, error = await collect(gemini_agent)
    assert not any(isinstance(event, Completion) for event in events)
    assert isinstance(error, AgentUnavailable) and error.partial_text == "Half an answer"


async def test_stream_ending_without_finish_reason_raises_unavailable(gemini_server, gemini_agent):
    """A stream that ends cleanly but without a finish reason is an error, not a short answer."""
    gemini_server.push(Reply(chunks=["Trunc"], finish_reason=None))
    _, error = await collect(gemini_agent)
    assert isinstance(error, AgentUnavailable) and error.partial_text == "Trunc"


async def test_invalid_json_event_raises_unavailable(gemini_server, gemini_agent):
    """An SSE event that is not JSON raises AgentUnavailable."""
    gemini_server.push(Reply(raw=["{this is not json"], chunks=["never seen"]))
    events, error = await collect(gemini_agent)
    assert events == [] and isinstance(error, AgentUnavailable)


async def test_stall_mid_stream_raises_unavailable_within_bounded_time(gemini_server):
    """No chunk for stall_seconds raises AgentUnavailable soon after, and drops the stream."""
    agent = gemini_server.make_agent(stall_seconds=0.3, timeout_seconds=30)
    gemini_server.push(Reply(chunks=["Begun"], ending="stall"))
    try:
        events, error = await collect(agent)
    finally:
        await agent.aclose()
    assert events == [TextChunk("Begun")]
    # "stalled", not the 30 s whole-request timeout: the stall bound is what ended it.
    assert isinstance(error, AgentUnavailable) and "stalled" in str(error)
    assert error.partial_text == "Begun"
    assert await asyncio.to_thread(gemini_server.wait_for_disconnect, 10.0)


async def test_stall_before_the_first_chunk_raises_unavailable(gemini_server):
    """A server that accepts the request but never answers trips the stall timeout too."""
    agent = gemini_server.make_agent(stall_seconds=0.3, timeout_seconds=30, max_retries=0)
    gemini_server.push(Reply(chunks=["late"], delay=10))
    try:
        _, error = await collect(agent)
    finally:
        await agent.aclose()
    assert isinstance(error, AgentUnavailable) and "stalled" in str(error)


async def test_max_tokens_raises_truncated_with_partial_text(gemini_server, gemini_agent):
    """MAX_TOKENS raises AgentTruncated carrying the text so far."""
    gemini_server.push(Reply(chunks=['{"title": "Ja'], finish_reason="MAX_TOKENS"))
    _, error = await collect(gemini_agent)
    assert isinstance(error, AgentTruncated) and error.partial_text == '{"title": "Ja'


async def test_safety_finish_raises_blocked(gemini_server, gemini_agent):
    """A SAFETY finish reason raises AgentBlocked."""
    gemini_server.push(Reply(chunks=["Well"], finish_reason="SAFETY"))
    _, error = await collect(gemini_agent)
    assert isinstance(error, AgentBlocked) and "SAFETY" in str(error)
    assert error.partial_text == "Well"


async def test_blocked_prompt_raises_blocked(gemini_server, gemini_agent):
    """A prompt_feedback.block_reason raises AgentBlocked before any text."""
    gemini_server.push(Reply(block_reason="PROHIBITED_CONTENT"))
    events, error = await collect(gemini_agent)
    assert events == [] and isinstance(error, AgentBlocked)
    assert "PROHIBITED_CONTENT" in str(error)


async def test_other_finish_reason_raises_agent_error(gemini_server, gemini_agent):
    """An unexpected finish reason (MALFORMED_RESPONSE) raises a plain AgentError."""
    gemini_server.push(Reply(chunks=["x"], finish_reason="MALFORMED_RESPONSE"))
    _, error = await collect(gemini_agent)
    assert type(error) is AgentError and error.partial_text == "x"


async def test_closing_the_stream_early_drops_the_http_connection(gemini_server, gemini_agent):
    """aclose() after the first chunk closes the HTTP stream: the server sees it go."""
    gemini_server.push(Reply(chunks=["one", "two", "three"], pause=5))
    stream = gemini_agent.stream(REQUEST)
    assert await anext(stream) == TextChunk("one")
    await stream.aclose()
    assert await asyncio.to_thread(gemini_server.wait_for_disconnect, 10.0)


async def test_cancelling_the_consumer_drops_the_http_connection(gemini_server, gemini_agent):
    """Cancelling the task reading the stream closes the HTTP stream: the server sees it go."""
    gemini_server.push(Reply(chunks=["one", "two", "three"], pause=5))
    first = asyncio.Event()

    async def consume():
        async for _ in gemini_agent.stream(REQUEST):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(gemini_server.wait_for_disconnect, 10.0)


async def test_client_and_connection_are_reused_across_calls(gemini_server, gemini_agent):
    """Two generations use the same SDK client and the same kept-alive TCP connection."""
    client = gemini_agent._client
    gemini_server.push(Reply(chunks=["a"]), Reply(chunks=["b"]))
    await collect(gemini_agent)
    await collect(gemini_agent)
    assert gemini_agent._client is client
    first, second = gemini_server.requests
    assert first.peer == second.peer


async def test_concurrent_streams_share_one_agent(gemini_server, gemini_agent):
    """Several generations stream at once through one agent, each getting its own answer."""
    gemini_server.push(*(Reply(chunks=[str(n), "."], pause=0.05) for n in range(3)))
    results = await asyncio.gather(*(collect(gemini_agent) for _ in range(3)))
    assert sorted(events[-1].text for events, _ in results) == ["0.", "1.", "2."]


async def test_connection_refused_raises_unavailable_after_retries(caplog):
    """Nothing listening: each attempt fails to connect, then AgentUnavailable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = GeminiAgent(
        api_key="test-key",
        model="gemini-test",
        base_url=f"http://127.0.0.1:{port}",
        max_retries=2,
        retry_initial_delay=0.01,
        retry_max_delay=0.02,
    )
    with caplog.at_level(logging.WARNING, logger="ai_chat.agent.gemini"):
        try:
            _, error = await collect(agent)
        finally:
            await agent.aclose()
    assert isinstance(error, AgentUnavailable) and "ConnectError" in str(error)
    assert len(caplog.records) == 2
    assert "test-key" not in caplog.text


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("course", {}),
        ("lesson", {"lesson_id": 1}),
        ("quiz", {"lesson_id": 1, "question_count": 3, "question_types": ["true_false"]}),
        ("assignment", {"assignment_id": 1, "question_count": 2, "question_types": ["essay"]}),
    ],
)
async def test_standalone_default_answers_each_kind_with_a_result_it_accepts(name, context):
    """The fake's standalone default streams a result that the requested kind validates."""
    kind = get_kind(name)
    context = kind.context_model.model_validate(context)
    prompt = "Request: loops"
    if "question_count" in type(context).model_fields:
        prompt += f"\nNumber of questions: exactly {context.question_count}"
        prompt += f"\nAllowed question types: {', '.join(context.question_types)}"
    server = fake.FakeGeminiServer(default=fake.placeholder_reply).start()
    agent = server.make_agent()
    request = GenerationRequest(
        kind=name, instructions=kind.instructions, prompt=prompt, result_schema=kind.result_schema()
    )
    try:
        events, error = await collect(agent, request)
    finally:
        await agent.aclose()
        server.stop()
    assert error is None
    kind.parse_result(events[-1].text, context)


def test_inline_refs_replaces_refs_keeps_siblings_and_refuses_cycles():
    """$refs become their definitions (sibling keywords kept), $defs go; cycles raise."""
    schema = {
        "$defs": {"Item": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
            "main": {"$ref": "#/$defs/Item", "description": "The main one"},
        },
    }
    item = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert inline_refs(schema) == {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "main": {**item, "description": "The main one"},
        },
    }
    cyclic = {
        "$defs": {"Node": {"properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    with pytest.raises(ValueError, match="recursive"):
        inline_refs(cyclic)


async def test_from_settings_reads_the_gemini_settings(settings):
    """from_settings takes key, model, URL, version, timeouts (ms in the SDK) and retries."""
    settings.GEMINI_API_KEY = "settings-key"
    settings.GEMINI_MODEL = "gemini-from-settings"
    settings.GEMINI_BASE_URL = "http://127.0.0.1:9"
    settings.GEMINI_API_VERSION = "v1beta"
    settings.GEMINI_TIMEOUT_SECONDS = 42.5
    settings.GEMINI_STALL_SECONDS = 7.0
    settings.GEMINI_MAX_RETRIES = 4
    settings.GEMINI_MAX_OUTPUT_TOKENS = 1000
    agent = GeminiAgent.from_settings()
    try:
        options = agent._client._api_client._http_options
        assert (agent.name, agent.model) == ("gemini", "gemini-from-settings")
        assert (agent.stall_seconds, agent.max_retries, agent.max_output_tokens) == (7.0, 4, 1000)
        assert (options.base_url, options.api_version, options.timeout) == (
            "http://127.0.0.1:9",
            "v1beta",
            42500,
        )
        assert options.headers["x-goog-api-key"] == "settings-key"
    finally:
        await agent.aclose()
