"""Provider faults end to end: consumer -> runner -> GeminiAgent -> google-genai -> fake Gemini.

The provider is configured through settings exactly as in production (`AI_PROVIDER=gemini`,
`GEMINI_BASE_URL` pointing at the fake); only the agent's retry delays are shortened, since
they are not settings.
"""

import json

import pytest

from ai_chat.kinds import get_kind
from ai_chat.models import AIDailyUsage, AIMessage
from tests.consumers.conftest import FINAL_TYPES, streaming
from tests.fakes.gemini_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

VALID_COURSE = json.dumps(
    get_kind("course").placeholder(prompt="Request: Java", context={"level": "beginner"})
)


async def test_a_valid_answer_completes(connect, user, gemini):
    """A streamed valid answer ends in `complete` with the server's model and usage."""
    gemini.push(Reply.text(VALID_COURSE, size=64))
    client = await connect("course", user)
    frames = await client.generate("Java")
    complete = frames[-1]
    assert complete["type"] == "complete", complete
    assert complete["model"] == "fake-gemini-001"
    assert complete["usage"] == {"input_tokens": 11, "output_tokens": 7}
    assert "".join(f["chunk"] for f in streaming(frames)) == VALID_COURSE
    assert [r.model for r in gemini.requests] == ["gemini-test"]
    assert gemini.requests[0].path == "/v1beta/models/gemini-test:streamGenerateContent"


async def test_429_then_success_completes(connect, user, gemini):
    """A 429 before the first chunk is retried; the retry's answer completes."""
    gemini.push(Reply.http_error(429), Reply.text(VALID_COURSE, size=64))
    client = await connect("course", user)
    frames = await client.generate("Java")
    assert frames[-1]["type"] == "complete", frames[-1]
    assert len(gemini.requests) == 2
    indexes = [f["index"] for f in streaming(frames)]
    assert indexes == list(range(len(indexes)))


async def test_5xx_until_retries_run_out_is_ai_unavailable(connect, user, gemini, settings):
    """Server errors on every attempt: `error` ai_unavailable, retryable; the socket stays."""
    settings.GEMINI_MAX_RETRIES = 1
    gemini.push(Reply.http_error(503), Reply.http_error(500))
    client = await connect("course", user)
    frames = await client.generate("Java", request_id="g")
    error = frames[-1]
    assert (error["type"], error["code"], error["retryable"]) == ("error", "ai_unavailable", True)
    assert (error["conversation_id"], error["request_id"]) == (frames[0]["conversation_id"], "g")
    assert streaming(frames) == []
    assert len(gemini.requests) == 2
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert (message.status, message.error_code) == ("failed", "ai_unavailable")
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    await client.assert_open()


async def test_error_mid_stream_is_ai_unavailable_and_keeps_the_partial_text(connect, user, gemini):
    """An error event after some chunks: `error` ai_unavailable; the streamed text is stored."""
    head = VALID_COURSE[:300]
    gemini.push(Reply(chunks=[head[:150], head[150:]], ending="error"))
    client = await connect("course", user)
    frames = await client.generate("Java")
    assert (frames[-1]["type"], frames[-1]["code"]) == ("error", "ai_unavailable")
    assert "".join(f["chunk"] for f in streaming(frames)) == head
    assert len(gemini.requests) == 1  # no retry once chunks were sent
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert (message.status, message.content) == ("failed", head)
    await client.assert_open()


async def test_stall_mid_stream_is_ai_unavailable(connect, user, gemini, settings):
    """A stream that goes silent past GEMINI_STALL_SECONDS ends in ai_unavailable."""
    settings.GEMINI_STALL_SECONDS = 0.3
    gemini.push(Reply(chunks=[VALID_COURSE[:100]], ending="stall"))
    client = await connect("course", user)
    frames = await client.generate("Java")
    assert (frames[-1]["type"], frames[-1]["code"]) == ("error", "ai_unavailable")
    assert gemini.wait_for_disconnect(5)


async def test_invalid_output_twice_is_ai_invalid_output(connect, user, gemini):
    """An invalid answer is asked again once; invalid again: `error` ai_invalid_output."""
    gemini.push(Reply.text('{"title": "Java"}'), Reply.text("Sorry, here is prose."))
    client = await connect("course", user)
    frames = await client.generate("Java")
    error = frames[-1]
    assert (error["type"], error["code"], error["retryable"]) == (
        "error",
        "ai_invalid_output",
        True,
    )
    assert len(gemini.requests) == 2
    reask = json.dumps(gemini.requests[1].body)
    assert "failed validation" in reask
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert (message.status, message.error_code) == ("failed", "ai_invalid_output")
    await client.assert_open()


async def test_invalid_then_valid_output_completes(connect, user, gemini):
    """An invalid answer, then a valid one on the re-ask: `complete` with the valid result."""
    gemini.push(Reply.text('{"title": "Java"}'), Reply.text(VALID_COURSE, size=64))
    client = await connect("course", user)
    frames = await client.generate("Java")
    complete = frames[-1]
    assert complete["type"] == "complete", complete
    assert complete["data"]["title"] == json.loads(VALID_COURSE)["title"]
    # Usage covers both calls.
    assert complete["usage"] == {"input_tokens": 22, "output_tokens": 14}
    assert [f["type"] for f in frames].count("complete") == 1
    message = await AIMessage.objects.aget(pk=complete["message_id"])
    assert message.status == "completed" and message.data == complete["data"]


async def test_refused_request_is_ai_unavailable_without_retry(connect, user, gemini):
    """A 400 from the provider is not retried and ends in ai_unavailable."""
    gemini.push(Reply.http_error(400, "bad schema"))
    client = await connect("course", user)
    frames = await client.generate("Java")
    assert (frames[-1]["type"], frames[-1]["code"]) == ("error", "ai_unavailable")
    assert "bad schema" not in frames[-1]["message"]
    assert len(gemini.requests) == 1


async def test_cancel_closes_the_provider_stream(connect, user, gemini):
    """`cancel` during a Gemini stream ends it `cancelled` and drops the HTTP stream."""
    gemini.push(Reply.text(VALID_COURSE, size=32, pause=0.05))
    client = await connect("course", user)
    await client.send(type="message", content="Java")
    head = await client.until("streaming")
    await client.send(type="cancel", conversation_id=head[0]["conversation_id"])
    assert (await client.until(*FINAL_TYPES))[-1]["type"] == "cancelled"
    assert gemini.wait_for_disconnect(5)
    message = await AIMessage.objects.aget(pk=head[1]["message_id"])
    assert message.status == "cancelled" and message.content


async def test_disconnect_does_not_stop_a_gemini_generation(connect, user, gemini):
    """A client leaving mid-stream does not stop the provider call: the result is stored."""
    gemini.push(Reply.text(VALID_COURSE, size=64, pause=0.01))
    client = await connect("course", user)
    await client.send(type="message", content="Java")
    head = await client.until("streaming")
    await client.close()
    other = await connect("course", user)
    await other.send(type="resume", conversation_id=head[0]["conversation_id"])
    assert (await other.until(*FINAL_TYPES))[-1]["type"] == "complete"
    assert gemini.disconnects == 0
