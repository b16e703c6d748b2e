"""Notifications on `/ws/events/`: sent live to their user, marked read by that user only."""

import pytest
from asgiref.sync import sync_to_async

from realtime.models import Notification
from realtime.notifications import notification_create

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_notification_reaches_every_device_of_its_user_only(events, user, other_user):
    """Both of ana's sockets get `notification` `create`; bob's socket gets nothing."""
    phone, laptop, bob = await events(user), await events(user), await events(other_user)
    for client in (phone, laptop):
        await client.subscribe(f"user:{user.pk}")
    await bob.subscribe(f"user:{other_user.pk}")
    notification = await sync_to_async(notification_create)(
        user=user, title="Course published", data={"course_id": 3}
    )
    for client in (phone, laptop):
        frame = await client.event()
        assert (frame["event"], frame["action"]) == ("notification", "create")
        assert frame["payload"]["id"] == notification.pk
        assert frame["payload"]["data"] == {"course_id": 3}
    assert await bob.nothing(0.3)


async def test_mark_read_acks_and_syncs_the_users_other_devices(events, user):
    """`mark_read` answers `ack` with the ids marked; the other device hears `update`."""
    one = await Notification.objects.acreate(user=user, title="one")
    two = await Notification.objects.acreate(user=user, title="two")
    phone, laptop = await events(user), await events(user)
    await laptop.subscribe(f"user:{user.pk}")
    ack = await phone.request(type="mark_read", notification_ids=[one.pk], request_id="m")
    assert ack == {
        "type": "ack",
        "of": "mark_read",
        "notification_ids": [one.pk],
        "request_id": "m",
    }
    frame = await laptop.event()
    assert (frame["event"], frame["action"]) == ("notification", "update")
    assert frame["payload"]["notification_ids"] == [one.pk]
    assert frame["payload"]["read_at"].endswith("Z")
    snapshot = (await laptop.subscribe(f"user:{user.pk}"))["snapshot"]
    assert [n["id"] for n in snapshot["notifications"]] == [two.pk]
    assert snapshot["unread_count"] == 1


async def test_mark_read_never_touches_another_users_notifications(events, user, other_user):
    """Bob's notification ids in ana's `mark_read` are ignored and not named in the ack."""
    bobs = await Notification.objects.acreate(user=other_user, title="bob's")
    client = await events(user)
    ack = await client.request(type="mark_read", notification_ids=[bobs.pk, bobs.pk + 99])
    assert ack["notification_ids"] == []
    await bobs.arefresh_from_db()
    assert bobs.read_at is None


async def test_marking_read_twice_sends_no_second_update(events, user):
    """Notifications already read are not marked again, and nobody is told."""
    one = await Notification.objects.acreate(user=user, title="one")
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")
    await client.request(type="mark_read", notification_ids=[one.pk])
    await client.event()
    ack = await client.request(type="mark_read", notification_ids=[one.pk])
    assert ack["notification_ids"] == []
    assert await client.nothing(0.3)


async def test_without_redis_a_notification_another_process_stored_reaches_open_pages(
    events, user, other_user, settings
):
    """The in-memory layer is per process: the server finds rows stored elsewhere (as by
    `manage.py notify`) and sends each once; its own notifications are not sent twice."""
    if settings.REDIS_URL:
        pytest.skip("with Redis every process publishes through the shared layer")
    settings.NOTIFICATIONS_POLL_SECONDS = 0.1
    ana, bob = await events(user), await events(other_user)
    await ana.subscribe(f"user:{user.pk}")
    await bob.subscribe(f"user:{other_user.pk}")
    stored = await Notification.objects.acreate(user=user, title="From another process")
    frame = await ana.event(timeout=10)
    assert (frame["event"], frame["action"]) == ("notification", "create")
    assert frame["payload"]["id"] == stored.pk
    assert frame["payload"]["title"] == "From another process"

    own = await sync_to_async(notification_create)(user=user, title="Stored here")
    assert (await ana.event())["payload"]["id"] == own.pk
    assert await ana.nothing(1.0)  # several polls later: neither is sent again
    assert await bob.nothing(0.1)
