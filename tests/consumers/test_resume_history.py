"""Disconnects, `resume`, `history`, and interrupted messages (PROTOCOL.md, "Message lifecycle")."""

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from ai_chat.models import AIConversation, AIMessage
from ai_chat.services.runtime import generation_service
from ai_chat.services.workers import sweep_interrupted
from tests.consumers.conftest import FINAL_TYPES, streaming

pytestmark = pytest.mark.django_db(transaction=True)


def without_request_id(frames):
    return [{k: v for k, v in f.items() if k != "request_id"} for f in frames]


async def wait_for_status(message_id, *statuses, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            message = await AIMessage.objects.aget(pk=message_id)
            if message.status in statuses:
                return message
            await asyncio.sleep(0.02)


async def test_disconnect_mid_stream_does_not_stop_the_generation(connect, user, slow_offline):
    """A client that goes away mid-stream: the generation finishes and is stored."""
    client = await connect("course", user)
    await client.send(type="message", content="Intro to Java")
    frames = await client.until("streaming")
    await client.close()
    message = await wait_for_status(frames[1]["message_id"], *AIMessage.ENDED)
    assert message.status == AIMessage.Status.COMPLETED
    assert message.data and message.data["modules"]


async def test_resume_after_disconnect_sends_only_what_was_missed(connect, user, slow_offline):
    """After a disconnect, `resume` with after_index k sends streaming k+1.. then `complete`."""
    first = await connect("course", user)
    await first.send(type="message", content="Intro to Java")
    frames = []
    while len(streaming(frames)) < 4:
        frames.append(await first.recv())
    await first.close()
    seen = streaming(frames)
    k = seen[-1]["index"]
    second = await connect("course", user)
    await second.send(
        type="resume", conversation_id=frames[0]["conversation_id"], after_index=k, request_id="r"
    )
    rest = await second.until(*FINAL_TYPES)
    assert rest[-1]["type"] == "complete", rest[-1]
    assert rest[-1]["message_id"] == frames[1]["message_id"]
    indexes = [f["index"] for f in streaming(rest)]
    assert indexes == list(range(k + 1, k + 1 + len(indexes)))
    assert rest[:-1] == streaming(rest)
    assert all(f["request_id"] == "r" for f in rest)
    text = "".join(f["chunk"] for f in seen + streaming(rest))
    assert set(json.loads(text)) <= set(rest[-1]["data"])
    assert await second.nothing(0.2)


async def test_resume_joins_a_stream_in_progress_from_another_socket(connect, user, slow_offline):
    """A second socket resuming a running generation follows it live to the same `complete`."""
    first = await connect("course", user)
    await first.send(type="message", content="Intro to Java")
    head = await first.until("streaming")
    second = await connect("course", user)
    await second.send(type="resume", conversation_id=head[0]["conversation_id"])
    theirs = await second.until(*FINAL_TYPES)
    mine = head + await first.until(*FINAL_TYPES)
    assert without_request_id(streaming(theirs)) == without_request_id(streaming(mine))
    assert theirs[-1] == mine[-1]


async def test_resume_of_an_ended_message_replays_it_whole(connect, user):
    """`resume` of a completed message replays every streaming frame, then `complete` again."""
    client = await connect("course", user)
    original = await client.generate()
    await client.send(type="resume", conversation_id=original[0]["conversation_id"])
    replay = await client.until(*FINAL_TYPES)
    assert replay == original[2:]
    assert await client.nothing(0.2)


async def test_resume_after_the_last_index_sends_only_the_final_frame(connect, user):
    """`resume` with after_index at the last chunk of an ended message sends the final frame."""
    client = await connect("course", user)
    original = await client.generate()
    last = streaming(original)[-1]["index"]
    await client.send(
        type="resume", conversation_id=original[0]["conversation_id"], after_index=last
    )
    assert await client.until(*FINAL_TYPES) == [original[-1]]


async def test_resume_names_an_earlier_message(connect, user):
    """`resume` with `message_id` replays that message, not the latest one."""
    client = await connect("course", user)
    first = await client.generate("Java")
    cid = first[0]["conversation_id"]
    await client.generate("Python", conversation_id=cid)
    await client.send(type="resume", conversation_id=cid, message_id=first[1]["message_id"])
    assert await client.until(*FINAL_TYPES) == first[2:]


async def test_resume_rebuilds_an_ended_message_from_the_database(connect, user):
    """With its frame log gone, an ended message replays as one chunk of its text + `complete`."""
    client = await connect("course", user)
    original = await client.generate()
    runtime = await generation_service()
    await runtime.hub.forget(original[1]["message_id"])  # here and, with Redis, the mirror
    await client.send(type="resume", conversation_id=original[0]["conversation_id"])
    replay = await client.until(*FINAL_TYPES)
    text = "".join(f["chunk"] for f in streaming(original))
    ids = {k: original[1][k] for k in ("conversation_id", "message_id")}
    assert replay[0] == {"type": "streaming", **ids, "index": 0, "chunk": text}
    assert replay[1:] == [original[-1]]


async def test_resume_of_a_cancelled_message_replays_cancelled(connect, user, slow_offline):
    """`resume` of a cancelled message replays what was streamed, then `cancelled`."""
    client = await connect("course", user)
    await client.send(type="message", content="Intro to Java")
    frames = await client.until("streaming")
    await client.send(type="cancel", conversation_id=frames[0]["conversation_id"])
    frames += await client.until(*FINAL_TYPES)
    await client.send(type="resume", conversation_id=frames[0]["conversation_id"])
    replay = await client.until(*FINAL_TYPES)
    assert replay == frames[2:]
    assert replay[-1]["type"] == "cancelled"


async def test_resume_of_an_unknown_message_is_not_found(connect, user):
    """`resume` naming a message that is not in the conversation gets not_found."""
    client = await connect("course", user)
    cid = (await client.generate())[0]["conversation_id"]
    error = await client.error(
        type="resume", conversation_id=cid, message_id="00000000-0000-4000-8000-000000000000"
    )
    assert error["code"] == "not_found"
    empty = await AIConversation.objects.acreate(user=user, kind="course")
    error = await client.error(type="resume", conversation_id=str(empty.pk))
    assert error["code"] == "not_found"
    await client.assert_open()


@pytest.fixture
def dead_worker_message(user):
    """A conversation whose assistant message was streaming in a process that died."""
    conversation = AIConversation.objects.create(user=user, kind="course", title="Java")
    AIMessage.objects.create(conversation=conversation, role="user", content="Intro to Java")
    return AIMessage.objects.create(
        conversation=conversation,
        role="assistant",
        status="streaming",
        content='{"title": "Intro',
        worker="dead:1",
    )


async def test_streaming_message_of_a_dead_worker_is_marked_interrupted(dead_worker_message):
    """The sweep marks a `streaming` message of a worker with no heartbeat `interrupted`."""
    assert await sync_to_async(sweep_interrupted)() == 1
    message = await AIMessage.objects.aget(pk=dead_worker_message.pk)
    assert message.status == AIMessage.Status.INTERRUPTED
    assert message.content == '{"title": "Intro'
    assert message.finished_at is not None
    assert await sync_to_async(sweep_interrupted)() == 0


async def test_resume_of_an_interrupted_message_replays_its_error(
    connect, user, dead_worker_message
):
    """`resume` of an interrupted message replays its text, then a retryable `error`."""
    await sync_to_async(sweep_interrupted)()
    client = await connect("course", user)
    cid = str(dead_worker_message.conversation_id)
    await client.send(type="resume", conversation_id=cid, request_id="r")
    replay = await client.until(*FINAL_TYPES)
    ids = {"conversation_id": cid, "message_id": str(dead_worker_message.pk)}
    assert replay[0] == {
        "type": "streaming",
        **ids,
        "index": 0,
        "chunk": '{"title": "Intro',
        "request_id": "r",
    }
    error = replay[1]
    assert (error["type"], error["code"], error["retryable"]) == ("error", "ai_unavailable", True)
    assert error["conversation_id"] == cid and error["message"]
    assert len(replay) == 2
    # The conversation is usable again: a new turn runs.
    frames = await client.generate("Again", conversation_id=cid)
    assert frames[-1]["type"] == "complete", frames[-1]


async def conversation_with_turns(client, turns):
    cid = None
    for n in range(turns):
        fields = {"conversation_id": cid} if cid else {}
        frames = await client.generate(f"Turn {n}", **fields)
        assert frames[-1]["type"] == "complete"
        cid = frames[0]["conversation_id"]
    return cid


async def test_history_pages_newest_first(connect, user):
    """`history` returns messages newest first, `limit` at a time, `has_more` and `before`."""
    client = await connect("course", user)
    cid = await conversation_with_turns(client, 3)
    first = await client.request(type="history", conversation_id=cid, limit=4, request_id="h")
    assert (first["type"], first["conversation_id"], first["request_id"]) == ("history", cid, "h")
    assert len(first["messages"]) == 4 and first["has_more"] is True
    second = await client.request(
        type="history", conversation_id=cid, limit=4, before=first["messages"][-1]["id"]
    )
    assert len(second["messages"]) == 2 and second["has_more"] is False
    messages = first["messages"] + second["messages"]
    ids = [m["id"] for m in messages]
    assert len(set(ids)) == 6
    stored = [
        str(pk)
        async for pk in AIMessage.objects.filter(conversation_id=cid)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    ]
    assert ids == stored
    stamps = [m["created_at"] for m in messages]
    assert stamps == sorted(stamps, reverse=True)
    assert all(s.endswith("Z") for s in stamps)
    assert {m["role"] for m in messages} == {"user", "assistant"}
    for m in messages:
        assert set(m) == {"id", "role", "content", "data", "status", "created_at"}
        if m["role"] == "assistant":
            assert m["status"] == "completed" and m["data"]["title"]
        else:
            assert m["content"].startswith("Turn ") and m["data"] is None


async def test_history_defaults_to_fifty_messages(connect, user):
    """Without `limit`, `history` returns up to 50 messages: here all of them."""
    client = await connect("course", user)
    cid = await conversation_with_turns(client, 2)
    page = await client.request(type="history", conversation_id=cid)
    assert len(page["messages"]) == 4 and page["has_more"] is False


async def test_history_limit_exactly_fills_a_page(connect, user):
    """A `limit` equal to the number of messages returns them all with `has_more` false."""
    client = await connect("course", user)
    cid = await conversation_with_turns(client, 2)
    page = await client.request(type="history", conversation_id=cid, limit=4)
    assert len(page["messages"]) == 4 and page["has_more"] is False
    page = await client.request(type="history", conversation_id=cid, limit=1)
    assert len(page["messages"]) == 1 and page["has_more"] is True


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_history_limit_out_of_bounds_is_invalid_message(connect, user, limit):
    """`limit` must be 1 to 100: 0 and 101 get invalid_message naming `limit`."""
    client = await connect("course", user)
    cid = await conversation_with_turns(client, 1)
    error = await client.error(type="history", conversation_id=cid, limit=limit)
    assert error["code"] == "invalid_message"
    assert [d["field"] for d in error["details"]] == ["limit"]
    await client.assert_open()


async def test_history_before_an_unknown_message_is_not_found(connect, user):
    """`before` naming a message not in the conversation gets not_found."""
    client = await connect("course", user)
    cid = await conversation_with_turns(client, 1)
    error = await client.error(
        type="history", conversation_id=cid, before="00000000-0000-4000-8000-000000000000"
    )
    assert error["code"] == "not_found"


async def test_history_shows_a_streaming_message(connect, user, slow_offline):
    """Mid-stream, `history` lists the assistant message with status `streaming`."""
    client = await connect("course", user)
    await client.send(type="message", content="Intro to Java")
    head = await client.until("streaming")
    await client.send(type="history", conversation_id=head[0]["conversation_id"])
    frames = await client.until("history")
    newest = frames[-1]["messages"][0]
    assert (newest["id"], newest["status"]) == (head[1]["message_id"], "streaming")
    await client.until(*FINAL_TYPES)


async def test_a_live_process_on_the_same_database_is_never_swept(user, dead_worker_message):
    """Two processes on one database, no Redis: a process that beats is alive to the other's
    sweep (heartbeats are rows, not a per-process cache)."""
    from ai_chat.models import AIWorker

    await AIWorker.objects.acreate(worker_id="dead:1", beat_at=timezone.now())
    assert await sync_to_async(sweep_interrupted)() == 0
    await AIWorker.objects.filter(worker_id="dead:1").aupdate(
        beat_at=timezone.now() - timedelta(minutes=5)
    )
    assert await sync_to_async(sweep_interrupted)() == 1


async def test_an_interrupted_message_gives_its_reservation_back(user, dead_worker_message):
    """Its process died holding tokens of the day's budget: the sweep releases them, and
    counts what it had streamed as used."""
    from ai_chat.models import AIDailyUsage
    from ai_chat.services.quota import quota_reserve

    reservation = await sync_to_async(quota_reserve)(user_id=user.pk, tokens=5000)
    await AIMessage.objects.filter(pk=dead_worker_message.pk).aupdate(
        reserved_tokens=reservation.tokens
    )
    assert await sync_to_async(sweep_interrupted)() == 1
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    assert usage.used_tokens == len(dead_worker_message.content) // 4
    assert await sync_to_async(sweep_interrupted)() == 0
    assert (await AIDailyUsage.objects.aget(user=user)).reserved_tokens == 0
