"""The socket side of streaming: frames are served without waiting for the database thread,
and a client that leaves mid-stream ends its relay quietly."""

import asyncio
import json
import logging
import threading
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async

from ai_chat.consumers.generation import GenerationConsumer
from ai_chat.server_frames import StreamingFrame

pytestmark = pytest.mark.django_db(transaction=True)

FRAME = StreamingFrame.make(
    conversation_id=uuid.uuid4(), message_id=uuid.uuid4(), index=0, chunk="{"
)
NO_STORE: Any = None  # the relay asks the store only for a message the hub does not know


def consumer_whose_send_fails(error: Exception) -> GenerationConsumer:
    """A signed-in consumer following one frame, whose socket send raises `error` as the
    server would."""
    consumer = GenerationConsumer(kind="course")
    consumer.user = SimpleNamespace(pk=1)

    async def follow(message_id: str, *, after_index: int, fallback: Any) -> Any:
        yield FRAME

    async def send(text_data: str | None = None, **kwargs: Any) -> None:
        raise error

    consumer.generation = SimpleNamespace(hub=SimpleNamespace(follow=follow))  # type: ignore[assignment]
    consumer.send = send  # type: ignore[method-assign]
    return consumer


# What the servers raise on a send to a client that has gone: daphne (autobahn), uvicorn
# (`ClientDisconnected`, an OSError).
GONE = pytest.mark.parametrize(
    "error",
    [Disconnected("Attempt to send on a closed protocol"), ConnectionResetError()],
    ids=["daphne", "uvicorn"],
)


@GONE
async def test_a_client_gone_mid_stream_ends_the_relay_without_an_error_log(error, caplog):
    await consumer_whose_send_fails(error)._relay("m1", NO_STORE, -1, None)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@GONE
async def test_a_client_gone_before_its_answer_ends_the_frame_quietly(error, caplog):
    """`dispatch` (every client frame and every layer message) ends quietly, not with an
    internal-error attempt or an exception that would take the consumer down."""
    consumer = consumer_whose_send_fails(error)
    await consumer.dispatch({"type": "websocket.receive", "text": '{"type": "ping"}'})
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_any_other_relay_failure_is_logged_with_its_traceback(caplog):
    await consumer_whose_send_fails(RuntimeError("boom"))._relay("m1", NO_STORE, -1, None)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == "relaying m1 failed" and record.exc_info is not None


async def test_a_stream_lost_mid_way_ends_with_an_error_the_client_can_act_on():
    """Redis fails while a socket follows a generation on another process: the client gets a
    retryable `error` naming the message (so it can `resume`), not silence."""
    import redis

    consumer = GenerationConsumer(kind="course")
    consumer.user = SimpleNamespace(pk=1)
    sent: list[str] = []

    async def follow(message_id: str, *, after_index: int, fallback: Any) -> Any:
        yield FRAME
        raise redis.ConnectionError("Connection refused")

    async def send(text_data: str | None = None, **kwargs: Any) -> None:
        sent.append(text_data or "")

    consumer.generation = SimpleNamespace(hub=SimpleNamespace(follow=follow))  # type: ignore[assignment]
    consumer.send = send  # type: ignore[method-assign]
    message_id = str(FRAME.message_id)
    await consumer._relay(message_id, NO_STORE, -1, "r1")
    last = json.loads(sent[-1])
    assert (last["type"], last["code"], last["retryable"]) == ("error", "internal_error", True)
    assert last["message_id"] == message_id and last["request_id"] == "r1"
    assert "resume" in last["message"]


async def test_frames_are_served_while_the_database_thread_is_busy(connect, user):
    """A `ping` is answered at once even while the process's one database thread is held:
    frame dispatch must not hop to that thread first (Channels' default does)."""
    client = await connect("course", user)
    release = threading.Event()
    held = database_sync_to_async(lambda: release.wait(60))()
    busy = asyncio.ensure_future(held)
    await asyncio.sleep(0.05)  # the database thread is now inside `release.wait`
    try:
        pong = await client.request(type="ping", request_id="p1", timeout=30)
        assert pong == {"type": "pong", "request_id": "p1"}
        assert not busy.done()  # answered while the thread was still held
    finally:
        release.set()
        await busy


async def test_ai_sockets_take_no_channel_layer_channel(connect, user, monkeypatch):
    """The AI endpoints never receive layer messages, so they open no channel (with Redis, no
    subscription per socket); `/ws/events/`, which joins rooms, does."""
    from channels.layers import get_channel_layer

    from tests.realtime.conftest import open_events

    layer = get_channel_layer()
    opened: list[str] = []
    new_channel = layer.new_channel

    async def counted(prefix: str = "specific") -> str:
        opened.append(prefix)
        return await new_channel(prefix)

    monkeypatch.setattr(layer, "new_channel", counted)
    for kind in ("course", "lesson", "quiz", "assignment", "chat"):
        client = await connect(kind, user)
        assert (await client.request(type="ping"))["type"] == "pong"
    assert opened == []
    events = await open_events(user)
    assert len(opened) == 1
    await events.close()
