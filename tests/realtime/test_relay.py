"""realtime/relay.py: a worker on the in-memory layer stores its events; the server sends them."""

import pytest
from channels.db import database_sync_to_async

from realtime import relay
from realtime.models import RelayedEvent
from realtime.publish import publish_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def relaying(settings):
    """A worker on the embedded defaults' in-memory layer (whatever layer this run uses)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert relay.relay_enable()
    yield
    relay._relaying = False


def test_a_relaying_process_stores_events_and_leaves_notifications_to_their_poll(relaying, user):
    publish_event(room=f"user:{user.pk}", event="generation", action="update", payload={"n": 1})
    publish_event(room=f"user:{user.pk}", event="notification", action="create", payload={"id": 1})
    rows = list(RelayedEvent.objects.values_list("room", "event", "action", "payload"))
    assert rows == [(f"user:{user.pk}", "generation", "update", {"n": 1})]


def test_relaying_stays_off_on_a_shared_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    assert relay.relay_enable() is False
    assert relay.relaying() is False


async def test_the_server_sends_what_was_stored_after_it_started_once(events, user):
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")
    stale = dict(room=f"user:{user.pk}", event="generation", action="update", timestamp="t0")
    await RelayedEvent.objects.acreate(payload={"n": 0}, **stale)
    poll = relay.EventRelayPoll()
    assert await poll.poll() == 0  # the first poll only finds where to start
    await RelayedEvent.objects.acreate(
        room=f"user:{user.pk}",
        event="generation",
        action="update",
        payload={"n": 2},
        timestamp="2026-12-01T00:00:00.000Z",
    )
    assert await poll.poll() == 1
    frame = await client.event()
    assert (frame["event"], frame["payload"], frame["timestamp"]) == (
        "generation",
        {"n": 2},
        "2026-12-01T00:00:00.000Z",
    )
    assert await poll.poll() == 0
    assert await client.nothing(0.3)
    assert await database_sync_to_async(RelayedEvent.objects.count)() == 2
