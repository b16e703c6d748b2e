"""An ended generation's frame log leaves the process's memory after ENDED_LOCAL_SECONDS (not
after the hour STREAM_LOG_TTL_SECONDS keeps the Redis mirror): a busy process's memory stays
flat, and a later `resume` is served from the mirror or rebuilt from the database."""

import asyncio
import uuid

from ai_chat.server_frames import CancelledFrame, StreamingFrame
from ai_chat.services import streams
from ai_chat.services.streams import StreamHub


async def _ended(hub: StreamHub) -> tuple[str, list]:
    cid, mid = uuid.uuid4(), uuid.uuid4()
    hub.open(str(mid))
    frames = [
        StreamingFrame.make(conversation_id=cid, message_id=mid, index=i, chunk="x")
        for i in range(3)
    ]
    frames.append(CancelledFrame.make(conversation_id=cid, message_id=mid))
    for frame in frames:
        await hub.publish(str(mid), frame)
    return str(mid), frames


async def _followed(hub: StreamHub, message_id: str, stored: list) -> list:
    async def fallback():
        return stored

    return [frame async for frame in hub.follow(message_id, fallback=fallback)]


async def test_an_ended_log_is_replayed_exactly_at_first_then_leaves_memory(monkeypatch):
    monkeypatch.setattr(streams, "ENDED_LOCAL_SECONDS", 0.2)
    hub = StreamHub(ttl=3600)
    message_id, frames = await _ended(hub)
    rebuilt = [frames[-1]]  # what the database would rebuild: the end only
    assert await _followed(hub, message_id, rebuilt) == frames  # still in memory: exact
    await asyncio.sleep(0.5)
    assert not hub.is_local(message_id)
    assert await _followed(hub, message_id, rebuilt) == rebuilt


async def test_a_ttl_shorter_than_the_grace_still_applies(monkeypatch):
    monkeypatch.setattr(streams, "ENDED_LOCAL_SECONDS", 3600)
    hub = StreamHub(ttl=0.2)
    message_id, _frames = await _ended(hub)
    await asyncio.sleep(0.5)
    assert not hub.is_local(message_id)
