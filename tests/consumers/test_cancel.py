"""`cancel`, and the socket staying responsive while a generation streams."""

import asyncio

import pytest

from ai_chat.generation import recording as recording_module
from ai_chat.models import AIConversation, AIDailyUsage, AIMessage
from ai_chat.services.runtime import generation_service
from tests.consumers.conftest import FINAL_TYPES, streaming

pytestmark = pytest.mark.django_db(transaction=True)


async def started_stream(client, chunks=3, request_id="m"):
    """Send a `message` and read until `chunks` streaming frames arrived."""
    await client.send(type="message", content="Intro to Java", request_id=request_id)
    frames = []
    while len(streaming(frames)) < chunks:
        frames.append(await client.recv())
    return frames


async def test_cancel_stops_the_stream_and_keeps_what_was_generated(connect, user, slow_offline):
    """`cancel` mid-stream ends it with `cancelled`; the message is cancelled with its text."""
    client = await connect("course", user)
    frames = await started_stream(client)
    cid, mid = frames[1]["conversation_id"], frames[1]["message_id"]
    await client.send(type="cancel", conversation_id=cid, request_id="c")
    frames += await client.until(*FINAL_TYPES)
    assert frames[-1] == {
        "type": "cancelled",
        "conversation_id": cid,
        "message_id": mid,
        "request_id": "m",
    }
    assert [f["type"] for f in frames].count("cancelled") == 1
    assert await client.nothing(0.2)
    message = await AIMessage.objects.aget(pk=mid)
    assert message.status == AIMessage.Status.CANCELLED
    assert message.content == "".join(f["chunk"] for f in streaming(frames))
    assert message.content and message.data is None
    assert message.finished_at is not None
    await client.assert_open()


async def test_cancel_with_nothing_running_is_not_running(connect, user):
    """`cancel` of a conversation with no generation running gets not_running."""
    client = await connect("course", user)
    cid = (await client.generate())[0]["conversation_id"]
    error = await client.error(type="cancel", conversation_id=cid, request_id="c")
    assert (error["code"], error["retryable"]) == ("not_running", False)
    assert (error["conversation_id"], error["request_id"]) == (cid, "c")
    await client.assert_open()


async def test_cancel_twice_ends_the_generation_once(connect, user, slow_offline):
    """Two `cancel` frames back to back: one `cancelled`, the second refused or silent."""
    client = await connect("course", user)
    frames = await started_stream(client)
    cid = frames[1]["conversation_id"]
    await client.send(type="cancel", conversation_id=cid, request_id="c1")
    await client.send(type="cancel", conversation_id=cid, request_id="c2")
    async with asyncio.timeout(5):
        while not any(f["type"] == "cancelled" for f in frames):
            frames.append(await client.recv())
    await asyncio.sleep(0.2)
    while not await client.nothing(0.1):
        frames.append(await client.recv())
    assert [f["type"] for f in frames].count("cancelled") == 1
    refusals = [f for f in frames if f["type"] == "error"]
    assert all(f["code"] == "not_running" for f in refusals), refusals
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert message.status == AIMessage.Status.CANCELLED
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    await client.assert_open()


async def test_cancel_from_another_socket_tells_both(connect, user, slow_offline):
    """A `cancel` sent on a second socket of the same user ends the stream on both."""
    first = await connect("course", user)
    frames = await started_stream(first)
    second = await connect("course", user)
    await second.send(type="cancel", conversation_id=frames[1]["conversation_id"], request_id="c")
    assert (await second.until(*FINAL_TYPES))[-1] == {
        "type": "cancelled",
        "conversation_id": frames[1]["conversation_id"],
        "message_id": frames[1]["message_id"],
        "request_id": "c",
    }
    assert (await first.until(*FINAL_TYPES))[-1]["type"] == "cancelled"


async def test_ping_is_answered_while_a_generation_streams(connect, user, slow_offline):
    """A `ping` sent mid-stream is answered before the stream ends."""
    client = await connect("course", user)
    frames = await started_stream(client, chunks=1)
    await client.send(type="ping", request_id="p")
    frames += await client.until("pong")
    assert frames[-1] == {"type": "pong", "request_id": "p"}
    assert not any(f["type"] in FINAL_TYPES for f in frames)
    rest = await client.until(*FINAL_TYPES)
    assert rest[-1]["type"] == "complete"


async def test_other_requests_are_answered_while_a_generation_streams(connect, user, slow_offline):
    """History of another conversation is answered mid-stream; the stream completes after."""
    client = await connect("course", user)
    other = (await client.generate("Python"))[0]["conversation_id"]
    frames = await started_stream(client, chunks=1)
    await client.send(type="history", conversation_id=other, request_id="h")
    frames += await client.until("history")
    assert not any(f["type"] in FINAL_TYPES for f in frames)
    assert (await client.until(*FINAL_TYPES))[-1]["type"] == "complete"


async def test_cancel_too_late_to_stop_the_result_ends_with_complete(connect, user, monkeypatch):
    """A cancel that lands while the result is being stored: one `complete`, usage settled once."""
    loop = asyncio.get_running_loop()
    real = recording_module.message_finish
    runtime = None

    def finish_then_be_cancelled(**kwargs):
        if kwargs["status"] == AIMessage.Status.COMPLETED:
            conversation_id = str(
                AIMessage.objects.values_list("conversation_id", flat=True).get(
                    pk=kwargs["message_id"]
                )
            )
            loop.call_soon_threadsafe(runtime.runner.cancel, conversation_id)
        return real(**kwargs)

    monkeypatch.setattr(recording_module, "message_finish", finish_then_be_cancelled)
    client = await connect("course", user)
    runtime = await generation_service()
    frames = await client.generate()
    await asyncio.sleep(0.2)
    assert await client.nothing(0.1)
    finals = [f["type"] for f in frames if f["type"] in FINAL_TYPES]
    assert finals == ["complete"], frames[-1]
    message = await AIMessage.objects.aget(pk=frames[1]["message_id"])
    assert message.status == AIMessage.Status.COMPLETED
    conversation = await AIConversation.objects.aget(pk=frames[0]["conversation_id"])
    assert conversation.output_tokens == message.output_tokens
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    assert usage.used_tokens == message.input_tokens + message.output_tokens
