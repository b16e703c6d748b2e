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


async def test_the_mirror_logs_expires_and_publishes_every_frame_in_order(monkeypatch):
    """Frames of two generations, interleaved and written in script calls of 7: each log holds
    its frames in order with its time to live set, and a subscriber got each frame once."""
    monkeypatch.setattr(streams, "WRITE_BATCH", 7)
    mirror = RedisMirror(REDIS_URL, ttl=60)
    ids = {name: uuid.uuid4() for name in ("a", "b")}
    pubsub = mirror.redis.pubsub()
    await pubsub.subscribe(mirror._key(str(ids["a"])))
    confirmed = await pubsub.get_message(timeout=2.0)  # Redis has the subscription
    assert confirmed is not None and confirmed["type"] == "subscribe"
    wires: dict[str, list[str]] = {"a": [], "b": []}
    for index in range(20):
        for name, mid in ids.items():
            frame = StreamingFrame.make(
                conversation_id=uuid.uuid4(), message_id=mid, index=index, chunk=f"{name}{index}"
            )
            wires[name].append(frame.wire())
            mirror.append(str(mid), frame)
    for _ in range(100):
        if all([await mirror.redis.llen(mirror._key(str(m))) == 20 for m in ids.values()]):
            break
        await asyncio.sleep(0.05)
    for name, mid in ids.items():
        key = mirror._key(str(mid))
        assert [raw.decode() for raw in await mirror.redis.lrange(key, 0, -1)] == wires[name]
        assert 0 < await mirror.redis.ttl(key) <= 60
    published = []
    while len(published) < 20:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert message is not None, f"only {len(published)} frames were published"
        published.append(message["data"].decode())
    assert published == wires["a"]
    await pubsub.aclose()
    await mirror.redis.delete(*(mirror._key(str(m)) for m in ids.values()))
    await mirror.aclose()
