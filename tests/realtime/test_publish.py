"""publish_event / apublish_event: after commit only, from sync or async code, named rooms."""

import asyncio
import contextlib
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.db import transaction

from realtime.models import Notification
from realtime.notifications import notification_create
from realtime.publish import apublish_event, publish_event
from realtime.rooms import InvalidRoom

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


async def test_an_event_in_a_rolled_back_transaction_is_never_delivered(events, user):
    """A notification created in a transaction that rolls back is neither stored nor sent."""
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")

    def work() -> None:
        with contextlib.suppress(Boom), transaction.atomic():
            notification_create(user=user, title="never")
            raise Boom

    await database_sync_to_async(work)()
    assert await client.nothing(0.3)
    assert not await Notification.objects.aexists()


async def test_an_event_waits_for_the_commit_and_is_delivered_once(events, user):
    """Inside a transaction nothing is sent; on commit the event arrives exactly once."""
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")
    published, release = threading.Event(), threading.Event()

    def work() -> None:
        with transaction.atomic():
            publish_event(
                room=f"user:{user.pk}", event="generation", action="create", payload={"n": 1}
            )
            published.set()
            release.wait(5)

    pending = asyncio.ensure_future(database_sync_to_async(work)())
    await sync_to_async(published.wait, thread_sensitive=False)(5)
    assert await client.nothing(0.3)
    release.set()
    await pending
    assert (await client.event())["payload"] == {"n": 1}
    assert await client.nothing(0.3)


async def test_nested_savepoint_rollback_drops_only_its_events(events, user):
    """An event inside a rolled-back savepoint is dropped; the outer block's is sent."""
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")

    def work() -> None:
        with transaction.atomic():
            notification_create(user=user, title="kept")
            with contextlib.suppress(Boom), transaction.atomic():
                notification_create(user=user, title="dropped")
                raise Boom

    await database_sync_to_async(work)()
    assert (await client.event())["payload"]["title"] == "kept"
    assert await client.nothing(0.3)


async def test_a_management_command_publishes_from_sync_code(events, user):
    """`manage.py notify` (sync code, no event loop of its own) reaches the user's socket."""
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")
    await sync_to_async(call_command)("notify", str(user.pk), "--title", "Hello", "--body", "B")
    frame = await client.event()
    assert (frame["event"], frame["action"]) == ("notification", "create")
    assert (frame["payload"]["title"], frame["payload"]["body"]) == ("Hello", "B")
    assert frame["payload"]["created_at"].endswith("Z") and frame["payload"]["read_at"] is None


async def test_publish_event_on_the_event_loop_is_refused(user):
    """Sync publish on the loop is a programming error: use apublish_event."""
    with pytest.raises(RuntimeError, match="apublish_event"):
        publish_event(room=f"user:{user.pk}", event="progress", action="update", payload={})


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"room": "team:1", "event": "progress", "action": "update"}, InvalidRoom),
        ({"room": "user:1", "event": "gossip", "action": "update"}, ValueError),
        ({"room": "user:1", "event": "progress", "action": "upsert"}, ValueError),
    ],
)
async def test_unknown_rooms_events_and_actions_are_refused_by_the_publisher(fields, error):
    """The publisher checks names before anything is queued."""
    with pytest.raises(error):
        await apublish_event(**fields, payload={})


async def test_a_payload_that_is_not_json_is_refused_when_published(user):
    """Payloads become plain JSON at publish time; an object that cannot is a TypeError."""
    with pytest.raises(TypeError):
        await apublish_event(
            room=f"user:{user.pk}", event="progress", action="update", payload={"x": object()}
        )


async def test_a_lost_send_is_logged_and_shows_as_a_gap_in_seq(events, user, monkeypatch, caplog):
    """A send that fails after numbering is logged; the next event's seq skips one."""
    client = await events(user)
    room = f"user:{user.pk}"
    start = (await client.subscribe(room))["seq"]
    layer = get_channel_layer()
    original = layer.group_send

    async def failing(group, message):
        raise ConnectionError("layer down")

    monkeypatch.setattr(layer, "group_send", failing)
    with caplog.at_level(logging.ERROR, logger="realtime.publish"):
        await apublish_event(room=room, event="generation", action="create", payload={})
    assert "was not sent" in caplog.text
    monkeypatch.setattr(layer, "group_send", original)
    await apublish_event(room=room, event="generation", action="update", payload={})
    assert (await client.event())["seq"] == start + 2
