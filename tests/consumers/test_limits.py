"""Limits (PROTOCOL.md, "Error codes"): rate, concurrency, daily quota, connections per user."""

import pytest

from ai_chat.agent.base import AgentUnavailable, TextChunk
from ai_chat.agent.offline import OfflineAgent
from ai_chat.models import AIConversation, AIDailyUsage, AIMessage
from tests.consumers.conftest import FINAL_TYPES, streaming

pytestmark = pytest.mark.django_db(transaction=True)


async def test_messages_over_the_rate_are_rate_limited(connect, user, settings):
    """Past RATE_LIMIT_MESSAGES_PER_MINUTE messages, `message` gets rate_limited + retry_after."""
    settings.RATE_LIMIT_MESSAGES_PER_MINUTE = 3
    client = await connect("course", user)
    for n in range(3):
        assert (await client.generate(f"Course {n}"))[-1]["type"] == "complete"
    error = await client.error(type="message", content="One more", request_id="r")
    assert (error["code"], error["retryable"], error["request_id"]) == ("rate_limited", True, "r")
    assert isinstance(error["retry_after"], int) and 1 <= error["retry_after"] <= 20
    assert await AIConversation.objects.acount() == 3
    await client.assert_open()


async def test_refinements_count_toward_the_rate(connect, user, settings):
    """`refinement` frames are messages too: they are rate limited the same way."""
    settings.RATE_LIMIT_MESSAGES_PER_MINUTE = 2
    client = await connect("course", user)
    cid = (await client.generate())[0]["conversation_id"]
    await client.send(type="refinement", conversation_id=cid, content="Shorter")
    assert (await client.until(*FINAL_TYPES))[-1]["type"] == "complete"
    error = await client.error(type="refinement", conversation_id=cid, content="Shorter still")
    assert error["code"] == "rate_limited"


async def test_the_rate_is_per_user_across_sockets(connect, user, other_user, settings):
    """Two sockets of one user share the rate; another user has their own."""
    settings.RATE_LIMIT_MESSAGES_PER_MINUTE = 1
    one = await connect("course", user)
    two = await connect("lesson", user)
    assert (await one.generate())[-1]["type"] == "complete"
    assert (await two.error(type="message", content="x"))["code"] == "rate_limited"
    theirs = await connect("course", other_user)
    assert (await theirs.generate())[-1]["type"] == "complete"


async def test_message_to_a_conversation_that_streams_is_busy(connect, user, slow_offline):
    """A `message` to a conversation whose generation is running gets busy (retryable)."""
    client = await connect("course", user)
    await client.send(type="message", content="Intro to Java", request_id="m")
    head = await client.until("streaming")
    cid = head[0]["conversation_id"]
    await client.send(type="message", content="Also this", conversation_id=cid, request_id="b")
    frames = await client.until("error")
    error = frames[-1]
    assert (error["code"], error["retryable"], error["request_id"]) == ("busy", True, "b")
    assert error["conversation_id"] == cid
    rest = await client.until(*FINAL_TYPES)
    assert rest[-1]["type"] == "complete"
    assert await AIMessage.objects.filter(conversation_id=cid).acount() == 2


async def test_generations_over_the_concurrency_limit_are_busy(
    connect, user, settings, slow_offline
):
    """With MAX_CONCURRENT_GENERATIONS running, a new conversation's `message` gets busy."""
    settings.MAX_CONCURRENT_GENERATIONS = 2
    client = await connect("course", user)
    for rid in ("a", "b"):
        await client.send(type="message", content=f"Course {rid}", request_id=rid)
    await client.send(type="message", content="Course c", request_id="c")
    frames = []
    while not any(f["type"] == "error" for f in frames):
        frames.append(await client.recv())
    error = frames[-1]
    assert (error["code"], error["retryable"], error["request_id"]) == ("busy", True, "c")
    while sum(f["type"] == "complete" for f in frames) < 2:
        frames.append(await client.recv())
    assert await AIConversation.objects.acount() == 2
    assert (await client.generate("Course c"))[-1]["type"] == "complete"


async def test_tiny_daily_budget_is_quota_exceeded(connect, user, settings):
    """When the daily budget cannot hold a generation, `message` gets quota_exceeded."""
    settings.DAILY_TOKEN_BUDGET = 100
    client = await connect("course", user)
    error = await client.error(type="message", content="Intro to Java", request_id="q")
    assert (error["code"], error["retryable"], error["request_id"]) == ("quota_exceeded", True, "q")
    assert 1 <= error["retry_after"] <= 86400
    assert await AIConversation.objects.acount() == 0
    assert await AIMessage.objects.acount() == 0
    await client.assert_open()


async def test_budget_is_spent_by_real_usage(connect, user, settings):
    """A completed generation settles its reservation into used tokens."""
    client = await connect("course", user)
    complete = (await client.generate())[-1]
    usage = await AIDailyUsage.objects.aget(user=user)
    spent = complete["usage"]["input_tokens"] + complete["usage"]["output_tokens"]
    assert (usage.reserved_tokens, usage.used_tokens, usage.generations) == (0, spent, 1)
    settings.DAILY_TOKEN_BUDGET = spent + 10
    assert (await client.error(type="message", content="Again"))["code"] == "quota_exceeded"


async def test_reservation_is_refunded_after_a_cancel(connect, user, settings, slow_offline):
    """Cancelling a generation releases its reserved tokens."""
    settings.DAILY_TOKEN_BUDGET = 100_000
    client = await connect("course", user)
    await client.send(type="message", content="Intro to Java")
    head = await client.until("streaming")
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens > 0
    await client.send(type="cancel", conversation_id=head[0]["conversation_id"])
    assert (await client.until(*FINAL_TYPES))[-1]["type"] == "cancelled"
    await usage.arefresh_from_db()
    assert (usage.reserved_tokens, usage.used_tokens) == (0, 0)


async def test_reservation_is_refunded_after_a_failure(connect, user, monkeypatch):
    """A generation that fails releases its reserved tokens; the error is ai_unavailable."""

    async def fail_after_one_chunk(self, request):
        yield TextChunk('{"title": ')
        raise AgentUnavailable("provider down", partial_text='{"title": ')

    monkeypatch.setattr(OfflineAgent, "stream", fail_after_one_chunk)
    client = await connect("course", user)
    frames = await client.generate()
    error = frames[-1]
    assert (error["type"], error["code"], error["retryable"]) == ("error", "ai_unavailable", True)
    assert error["conversation_id"] == frames[0]["conversation_id"]
    assert len(streaming(frames)) == 1
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert (message.status, message.error_code, message.content) == (
        "failed",
        "ai_unavailable",
        '{"title": ',
    )
    await client.assert_open()


async def test_connections_beyond_the_limit_are_closed_4429(connect, user, settings):
    """A user's connection beyond MAX_CONNECTIONS_PER_USER is closed with 4429."""
    settings.MAX_CONNECTIONS_PER_USER = 2
    kept = [await connect("course", user), await connect("lesson", user)]
    extra = await connect("quiz", user, expect_auth=False)
    frames, code = await extra.closed_with()
    assert code == 4429
    assert [(f["type"], f["code"]) for f in frames] == [("error", "rate_limited")]
    await extra.close()
    for client in kept:
        await client.assert_open()
    await kept[0].close()
    again = await connect("course", user)  # a freed place is usable again
    await again.assert_open()


async def test_connection_limit_is_per_user(connect, user, other_user, settings):
    """Another user's connections do not count against this user's limit."""
    settings.MAX_CONNECTIONS_PER_USER = 1
    await connect("course", user)
    theirs = await connect("course", other_user)
    await theirs.assert_open()
