"""The stream hub across processes: a follower of a generation that runs elsewhere."""

import asyncio
import uuid

from ai_chat.server_frames import StreamingFrame
from ai_chat.services import streams
from ai_chat.services.streams import RedisMirror, StreamHub
from sockets.errors import InternalError
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/13"


pytestmark = needs_redis(REDIS_URL)


async def test_a_follower_learns_of_a_dead_producer_from_the_database_not_silence(monkeypatch):
    """The producer process died after two chunks; once the sweep has marked the message
    `interrupted`, a follower on another process gets its error within a poll, not after the
    45 s silence timeout."""
    monkeypatch.setattr(streams, "POLL_SECONDS", 0.2)
    cid, mid = uuid.uuid4(), uuid.uuid4()
    producer = StreamHub(ttl=60, mirror=RedisMirror(REDIS_URL, ttl=60))
    producer.open(str(mid))
    for index in range(2):
        chunk = StreamingFrame.make(conversation_id=cid, message_id=mid, index=index, chunk="x")
        await producer.publish(str(mid), chunk)
    await asyncio.sleep(0.3)  # mirrored; then the producer "dies" without a final frame
    swept = asyncio.Event()
    interrupted = InternalError("The process stopped.").to_frame(message_id=str(mid))

    async def stored_end():
        return [interrupted] if swept.is_set() else []

    follower = StreamHub(ttl=60, mirror=RedisMirror(REDIS_URL, ttl=60))
    assert follower.mirror is not None
    follower.mirror.silence_timeout = 10_000  # only the database poll can end this follow
    frames = []

    async def follow():
        async for frame in follower.follow(str(mid), fallback=stored_end):
            frames.append(frame)

    task = asyncio.ensure_future(follow())
    await asyncio.sleep(0.5)
    assert [f.index for f in frames] == [0, 1]
    swept.set()
    await task  # ended by the poll (pytest-timeout would end a follow that never learns)
    assert frames[-1] is interrupted or frames[-1].code == "internal_error"
    for hub in (producer, follower):
        await hub.mirror.aclose()
