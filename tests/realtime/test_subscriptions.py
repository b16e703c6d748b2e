"""Subscribing: the snapshot each room carries, sequence numbers, and unsubscribing."""

import pytest
from asgiref.sync import sync_to_async

from learning.models import Confusion, LessonProgress
from lessons.models import Lesson
from lessons.services import lesson_set_generation_status
from realtime.generation import ageneration_event
from realtime.models import Notification
from realtime.notifications import notification_create
from realtime.publish import apublish_event

pytestmark = pytest.mark.django_db(transaction=True)


async def test_subscribed_echoes_the_room_request_id_snapshot_and_seq(events, user):
    """`subscribed` names the room, echoes `request_id`, and carries `snapshot` and `seq`."""
    client = await events(user)
    answer = await client.subscribe(f"user:{user.pk}", request_id="s1")
    assert set(answer) == {"type", "room", "snapshot", "seq", "request_id"}
    assert (answer["room"], answer["request_id"]) == (f"user:{user.pk}", "s1")
    assert isinstance(answer["seq"], int)


async def test_the_user_snapshot_holds_unread_notifications_newest_first(events, user):
    """user:{id}: the 50 newest unread notifications, the unread count, own progress."""
    for i in range(52):
        await Notification.objects.acreate(user=user, title=f"n{i}")
    await Notification.objects.acreate(user=user, title="old", read_at="2020-01-01T00:00Z")
    client = await events(user)
    snapshot = (await client.subscribe(f"user:{user.pk}"))["snapshot"]
    assert snapshot["unread_count"] == 52
    assert [n["title"] for n in snapshot["notifications"]] == [f"n{i}" for i in range(51, 1, -1)]
    assert set(snapshot) == {
        "notifications", "unread_count", "generations", "progress", "confusions"
    }  # fmt: skip


async def test_the_user_snapshot_holds_own_progress_and_confusions(events, learner, lesson):
    """A reconnecting device gets the learner's progress and confusions back."""
    await LessonProgress.objects.acreate(learner=learner, lesson=lesson, percent=30, position="p")
    await Confusion.objects.acreate(learner=learner, lesson=lesson, note="?")
    client = await events(learner)
    snapshot = (await client.subscribe(f"user:{learner.pk}"))["snapshot"]
    assert [(p["lesson_id"], p["percent"]) for p in snapshot["progress"]] == [(lesson.pk, 30)]
    assert [c["note"] for c in snapshot["confusions"]] == ["?"]


async def test_course_and_lesson_snapshots_hold_presence_and_generation_status(
    events, user, course, lesson
):
    """course:{id} lists its lessons' generation status; lesson:{id} its own; both presence."""
    client = await events(user)
    course_snapshot = (await client.subscribe(f"course:{course.pk}"))["snapshot"]
    assert course_snapshot["presence"] == [{"user_id": user.pk, "display_name": "ana"}]
    assert [(x["title"], x["generation_status"]) for x in course_snapshot["lessons"]] == [
        ("Variables", "pending"),
        ("Loops", "pending"),
    ]
    lesson_snapshot = (await client.subscribe(f"lesson:{lesson.pk}"))["snapshot"]
    assert lesson_snapshot["lesson"]["lesson_id"] == lesson.pk
    assert lesson_snapshot["presence"] == [{"user_id": user.pk, "display_name": "ana"}]


async def test_the_instructor_snapshot_holds_open_confusions_and_lesson_counts(
    events, user, learner, lesson, course
):
    """instructor:{id}: open confusions of their courses, and per-lesson counts."""
    await Confusion.objects.acreate(learner=learner, lesson=lesson, note="open")
    await Confusion.objects.acreate(
        learner=learner, lesson=lesson, note="done", resolved_at="2024-01-01T00:00Z"
    )
    await LessonProgress.objects.acreate(
        learner=learner, lesson=lesson, percent=100, completed_at="2024-01-01T00:00Z"
    )
    viewer = await events(learner)
    await viewer.subscribe(f"lesson:{lesson.pk}")
    client = await events(user)
    snapshot = (await client.subscribe(f"instructor:{user.pk}"))["snapshot"]
    assert [c["note"] for c in snapshot["confusions"]] == ["open"]
    assert snapshot["confusions"][0]["learner_name"] == "Lea"
    loops = await Lesson.objects.aget(course=course, position=1)
    assert snapshot["analytics"] == [
        {"lesson_id": lesson.pk, "course_id": course.pk, "viewers": 1, "completions": 1,
         "open_confusions": 1},
        {"lesson_id": loops.pk, "course_id": course.pk, "viewers": 0, "completions": 0,
         "open_confusions": 0},
    ]  # fmt: skip


async def test_seq_increases_by_one_per_event_in_a_room(events, user):
    """Each event's seq is the room's previous one plus one, from the subscribed seq."""
    client = await events(user)
    start = (await client.subscribe(f"user:{user.pk}"))["seq"]
    for i in range(3):
        await sync_to_async(notification_create)(user=user, title=f"t{i}")
    frames = [await client.event() for _ in range(3)]
    assert [f["seq"] for f in frames] == [start + 1, start + 2, start + 3]
    assert [f["payload"]["title"] for f in frames] == ["t0", "t1", "t2"]
    again = await client.subscribe(f"user:{user.pk}")
    assert again["seq"] == start + 3


async def test_the_event_frame_has_exactly_the_protocol_fields(events, user):
    """`event` frames: type, room, event, action, payload, timestamp (UTC, Z), seq."""
    client = await events(user)
    await client.subscribe(f"user:{user.pk}")
    await apublish_event(room=f"user:{user.pk}", event="generation", action="create", payload={})
    frame = await client.event()
    assert set(frame) == {"type", "room", "event", "action", "payload", "timestamp", "seq"}
    assert frame["timestamp"].endswith("Z") and "T" in frame["timestamp"]


async def test_rooms_have_their_own_sequences(events, user, course):
    """An event in one room does not move another room's seq."""
    client = await events(user)
    user_seq = (await client.subscribe(f"user:{user.pk}"))["seq"]
    await client.subscribe(f"course:{course.pk}")
    await apublish_event(
        room=f"course:{course.pk}", event="generation", action="create", payload={}
    )
    await client.event()
    assert (await client.subscribe(f"user:{user.pk}"))["seq"] == user_seq


async def test_unsubscribe_stops_delivery(events, user):
    """After `unsubscribed`, the room's events no longer arrive."""
    client = await events(user)
    room = f"user:{user.pk}"
    await client.subscribe(room)
    answer = await client.request(type="unsubscribe", room=room, request_id="u")
    assert answer == {"type": "unsubscribed", "room": room, "request_id": "u"}
    await apublish_event(room=room, event="generation", action="create", payload={})
    assert await client.nothing(0.3)


async def test_unsubscribing_a_room_never_joined_is_answered_too(events, user, course):
    """Unsubscribe is idempotent: a room not subscribed (or not allowed) is `unsubscribed`."""
    client = await events(user)
    answer = await client.request(type="unsubscribe", room=f"course:{course.pk + 50}")
    assert answer == {"type": "unsubscribed", "room": f"course:{course.pk + 50}"}


async def test_subscribing_again_gives_a_fresh_snapshot_and_one_delivery(events, user):
    """Re-subscribing (the re-sync path) answers a new snapshot; events still arrive once."""
    client = await events(user)
    room = f"user:{user.pk}"
    await client.subscribe(room)
    await sync_to_async(notification_create)(user=user, title="missed")
    await client.event()
    snapshot = (await client.subscribe(room))["snapshot"]
    assert [n["title"] for n in snapshot["notifications"]] == ["missed"]
    await apublish_event(room=room, event="generation", action="create", payload={})
    await client.event()
    assert await client.nothing(0.2)


async def test_generation_events_reach_the_user_and_the_lesson_followers(events, user, lesson):
    """A user's generation -> user:{id}; a lesson's status move -> course:{id} and lesson:{id}."""
    client = await events(user)
    for room in (f"user:{user.pk}", f"course:{lesson.course_id}", f"lesson:{lesson.pk}"):
        await client.subscribe(room)
    await client.drain()  # own presence in course:{id} and lesson:{id}
    await ageneration_event(user_id=user.pk, action="create", payload={"message_id": "m1"})
    frame = await client.event()
    assert (frame["room"], frame["event"], frame["payload"]) == (
        f"user:{user.pk}", "generation", {"message_id": "m1"}
    )  # fmt: skip
    await sync_to_async(lesson_set_generation_status)(lesson=lesson, status="generating")
    frames = [await client.event(), await client.event()]
    assert {f["room"] for f in frames} == {f"course:{lesson.course_id}", f"lesson:{lesson.pk}"}
    assert all(f["payload"]["generation_status"] == "generating" for f in frames)


async def test_a_reconnecting_client_finds_what_it_missed_in_the_snapshots(
    events, user, learner, course
):
    """Events sent while a client was away are in the snapshots it gets on its return."""
    first = await events(user)
    await first.subscribe(f"user:{user.pk}")
    await first.close()
    await sync_to_async(notification_create)(user=user, title="while away")
    await (await events(learner)).subscribe(f"course:{course.pk}")
    again = await events(user)
    mine = (await again.subscribe(f"user:{user.pk}"))["snapshot"]
    assert [n["title"] for n in mine["notifications"]] == ["while away"]
    viewing = (await again.subscribe(f"course:{course.pk}"))["snapshot"]
    assert {p["user_id"] for p in viewing["presence"]} == {user.pk, learner.pk}
