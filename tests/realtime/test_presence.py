"""Presence: who views a course or lesson now, across tabs and devices, in memory and Redis.

The instructor `ana` watches; the learner `lea` opens and closes tabs. With Redis, a process
that dies stops renewing its entries; any live process's sweep announces the leave, once.
"""

import asyncio

import pytest

from realtime.presence import RedisPresence
from realtime.runtime import realtime_service
from sockets.redis import async_redis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    """Each presence test runs on the in-process store and on Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_realtime")
    return request.param


async def watching(events, user, room):
    watcher = await events(user)
    await watcher.subscribe(room)
    await watcher.drain()  # the watcher's own arrival
    return watcher


def presence(frame):
    assert frame["event"] == "presence", frame
    return frame["action"], frame["payload"]["user_id"]


async def test_a_user_leaves_only_when_their_last_tab_closes(
    backend, events, user, learner, course
):
    """Two tabs: one `create`; closing the first says nothing; closing the second, `delete`."""
    room = f"course:{course.pk}"
    watcher = await watching(events, user, room)
    tab1, tab2 = await events(learner), await events(learner)
    await tab1.subscribe(room)
    assert presence(await watcher.event()) == ("create", learner.pk)
    await tab2.subscribe(room)
    assert await watcher.nothing(0.3)
    await tab1.close()
    assert await watcher.nothing(0.3)
    await tab2.close()
    frame = await watcher.event()
    assert presence(frame) == ("delete", learner.pk)
    assert frame["payload"]["display_name"] == "Lea"


async def test_unsubscribing_the_last_connection_leaves_the_room(
    backend, events, user, learner, lesson
):
    """Leaving by `unsubscribe` is the same as closing the socket."""
    room = f"lesson:{lesson.pk}"
    watcher = await watching(events, user, room)
    tab = await events(learner)
    await tab.subscribe(room)
    await watcher.event()
    await tab.request(type="unsubscribe", room=room)
    assert presence(await watcher.event()) == ("delete", learner.pk)


async def test_the_snapshot_lists_each_viewer_once(backend, events, user, learner, course):
    """A user with two tabs is one entry of the presence snapshot."""
    room = f"course:{course.pk}"
    for _ in range(2):
        await (await events(learner)).subscribe(room)
    snapshot = (await (await events(user)).subscribe(room))["snapshot"]
    assert snapshot["presence"] == [
        {"user_id": user.pk, "display_name": "ana"},
        {"user_id": learner.pk, "display_name": "Lea"},
    ]


async def test_lesson_viewers_are_counted_for_the_instructor(
    backend, events, user, learner, lesson
):
    """Viewing a lesson sends its viewer count to the course's instructors (`analytics`)."""
    teacher = await events(user)
    await teacher.subscribe(f"instructor:{user.pk}")
    tab = await events(learner)
    await tab.subscribe(f"lesson:{lesson.pk}")
    frame = (await teacher.events_until("analytics", "update"))[-1]
    assert frame["payload"] == {"lesson_id": lesson.pk, "course_id": lesson.course_id, "viewers": 1}
    await tab.close()
    frame = (await teacher.events_until("analytics", "update"))[-1]
    assert frame["payload"]["viewers"] == 0


async def test_a_viewer_whose_process_died_is_swept_and_announced(
    redis_realtime, events, user, learner, course
):
    """Entries nobody renews expire; the next sweep publishes `presence` `delete`."""
    room = f"course:{course.pk}"
    watcher = await watching(events, user, room)
    dead_process = RedisPresence(async_redis(), ttl=0.3)
    joined, _ = await dead_process.join(room, learner.pk, "conn-of-a-dead-process")
    assert joined
    await asyncio.sleep(0.5)
    await (await realtime_service()).beat()
    assert presence(await watcher.event()) == ("delete", learner.pk)
    assert await (await realtime_service()).presence.users(room) == [user.pk]


async def test_two_processes_sweeping_at_once_report_each_leave_once(
    redis_realtime, learner, course, lesson
):
    """The sweep is one Lua script per room: of two concurrent sweeps, one reports the leave."""
    dead_process = RedisPresence(async_redis(), ttl=0.2)
    for room in (f"course:{course.pk}", f"lesson:{lesson.pk}"):
        await dead_process.join(room, learner.pk, "c1")
        await dead_process.join(room, learner.pk, "c2")
    await asyncio.sleep(0.4)
    one, two = RedisPresence(async_redis(), ttl=30), RedisPresence(async_redis(), ttl=30)
    results = await asyncio.gather(one.sweep(), two.sweep())
    reported = sorted((room, left) for result in results for room, (_, left) in result.items())
    assert reported == [
        (f"course:{course.pk}", [learner.pk]),
        (f"lesson:{lesson.pk}", [learner.pk]),
    ]


async def test_a_live_connection_swept_by_mistake_rejoins_on_the_next_beat(
    redis_realtime, events, user, learner, course
):
    """A stalled process whose entries were swept re-adds them and announces the return."""
    room = f"course:{course.pk}"
    watcher = await watching(events, user, room)
    tab = await events(learner)
    await tab.subscribe(room)
    await watcher.event()
    redis, key = async_redis(), f"lectern:presence:{room}"
    members = [m for m in await redis.zrange(key, 0, -1) if m.startswith(b"%d|" % learner.pk)]
    await redis.zadd(key, dict.fromkeys(members, 1))  # expired long ago, as after a stall
    await (await realtime_service()).beat()
    frames = [await watcher.event(), await watcher.event()]
    assert [presence(f) for f in frames] == [("delete", learner.pk), ("create", learner.pk)]
