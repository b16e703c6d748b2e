"""Redis memory and the channel layer's backlog, read at each scrape of `/metrics`."""

import asyncio

import channels.layers
import pytest
from channels.layers import InMemoryChannelLayer

from ops.backlog import _queue_lengths
from ops.metrics import REGISTRY
from tests.redis_server import redis_up

REDIS_URL = "redis://127.0.0.1:6379/9"


def value(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_without_redis_only_the_backlog_is_reported(settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setattr(channels.layers, "get_channel_layer", lambda *a: InMemoryChannelLayer())
    assert value("lectern_redis_memory_used_bytes") is None
    assert value("lectern_channel_layer_backlog_messages") == 0.0


def test_messages_waiting_for_a_socket_are_the_backlog(settings, monkeypatch):
    """Three messages sent to a channel nobody reads, one to another: backlog 4, longest 3
    (the embedded layer, whatever this run's settings chose)."""
    settings.REDIS_URL = ""
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(channels.layers, "get_channel_layer", lambda *args: layer)

    async def pile_up() -> str:
        channel = await layer.new_channel()
        for n in range(3):
            await layer.send(channel, {"type": "room.event", "n": n})
        await layer.send(await layer.new_channel(), {"type": "room.event"})
        return channel

    asyncio.run(pile_up())
    try:
        assert value("lectern_channel_layer_backlog_messages") == 4.0
        assert value("lectern_channel_layer_backlog_max_messages") == 3.0
    finally:
        layer.channels.clear()


@pytest.fixture
def redis9(settings):
    if not redis_up(REDIS_URL):
        pytest.skip(f"needs Redis at {REDIS_URL}")
    settings.REDIS_URL = REDIS_URL


def test_with_redis_its_memory_is_reported(redis9):
    assert value("lectern_redis_up") == 1.0
    assert value("lectern_redis_memory_used_bytes") > 0
    assert value("lectern_redis_memory_max_bytes") >= 0


def test_a_redis_that_does_not_answer_is_down_not_a_failed_scrape(settings, client, staff_user):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert value("lectern_redis_up") == 0.0
    assert value("lectern_redis_memory_used_bytes") is None
    client.force_login(staff_user)
    body = client.get("/metrics").content.decode()
    assert "lectern_redis_up 0.0" in body and "lectern_channel_layer_backlog_messages" in body


def test_the_pubsub_layer_backlog_is_read_from_its_loop_layers(redis9):
    """The production layer (Redis pub/sub): messages received, not yet taken by a socket."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[REDIS_URL])

    async def pile_up() -> list[int]:
        channel = await layer.new_channel()
        for n in range(2):
            await layer.send(channel, {"type": "room.event", "n": n})
        for _ in range(50):  # delivered through Redis to this layer's queue
            if sum(_queue_lengths(layer)) == 2:
                break
            await asyncio.sleep(0.05)
        lengths = _queue_lengths(layer)
        await layer.flush()
        return lengths

    assert sum(asyncio.run(pile_up())) == 2
