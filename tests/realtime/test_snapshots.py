"""Snapshots are assembled from the declared parts, in their order, with presence first."""

import pytest

from learning.models import Confusion
from realtime.models import Notification
from realtime.presence import LocalPresence
from realtime.rooms import Room
from realtime.snapshots import snapshot_build

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_user_snapshot_holds_every_apps_part_in_order(user, lesson):
    """notifications and unread_count (realtime), generations (ai_chat), progress and
    confusions (learning): the key order on the wire."""
    await Notification.objects.acreate(user=user, title="hi")
    await Confusion.objects.acreate(learner=user, lesson=lesson, note="?")
    snapshot = await snapshot_build(user=user, room=Room("user", user.pk), presence=LocalPresence())
    assert list(snapshot) == [
        "notifications",
        "unread_count",
        "generations",
        "progress",
        "confusions",
    ]
    assert snapshot["unread_count"] == 1 and snapshot["confusions"][0]["note"] == "?"


async def test_a_lesson_snapshot_starts_with_who_is_viewing(user, lesson):
    """Rooms with presence carry `presence` first, then their parts."""
    presence = LocalPresence()
    await presence.join(f"lesson:{lesson.pk}", user.pk, "c1")
    snapshot = await snapshot_build(user=user, room=Room("lesson", lesson.pk), presence=presence)
    assert list(snapshot) == ["presence", "lesson", "questions"]
    assert snapshot["presence"] == [{"user_id": user.pk, "display_name": "ana"}]
    assert snapshot["lesson"]["generation_status"] == "pending"


async def test_an_instructor_snapshot_counts_viewers_live(user, lesson):
    """`analytics` is read from the database, then completed with presence's viewer counts."""
    presence = LocalPresence()
    await presence.join(f"lesson:{lesson.pk}", 99, "c1")
    snapshot = await snapshot_build(user=user, room=Room("instructor", user.pk), presence=presence)
    assert list(snapshot) == ["confusions", "analytics", "questions"]
    row = next(r for r in snapshot["analytics"] if r["lesson_id"] == lesson.pk)
    assert row == {
        "lesson_id": lesson.pk,
        "course_id": lesson.course_id,
        "completions": 0,
        "open_confusions": 0,
        "viewers": 1,
    }
