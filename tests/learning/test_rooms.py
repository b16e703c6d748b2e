"""Learning's rooms at their own layer: who may join, and viewer counts for instructors."""

import pytest

from learning.rooms import lesson_viewers_changed
from realtime import publish
from realtime.presence import LocalPresence
from realtime.rooms import Room, room_may_join

pytestmark = pytest.mark.django_db(transaction=True)


def test_course_lesson_and_instructor_rooms_admit_whom_learning_says(
    user, learner, other_user, lesson
):
    """A learner joins the course and lesson rooms, not the owner's instructor room."""
    course_room, lesson_room = Room("course", lesson.course_id), Room("lesson", lesson.pk)
    assert room_may_join(user=learner, room=course_room)
    assert room_may_join(user=learner, room=lesson_room)
    assert not room_may_join(user=other_user, room=lesson_room)
    assert room_may_join(user=user, room=Room("instructor", user.pk))
    assert not room_may_join(user=learner, room=Room("instructor", user.pk))
    assert not room_may_join(user=learner, room=Room("lesson", 987654))


async def test_a_lesson_viewer_change_tells_the_instructors_the_count(user, lesson, monkeypatch):
    """`analytics` `update` with the lesson's viewers goes to each instructor's room."""
    sent: list[tuple[str, str, dict]] = []

    async def record(event: publish.Event) -> None:
        sent.append((event.room.name, event.event, event.payload))

    monkeypatch.setattr(publish, "asend", record)
    presence = LocalPresence()
    await presence.join(f"lesson:{lesson.pk}", 5, "c1")
    await lesson_viewers_changed(room=Room("lesson", lesson.pk), presence=presence)
    payload = {"lesson_id": lesson.pk, "course_id": lesson.course_id, "viewers": 1}
    active = {"course_id": lesson.course_id, "active_now": 0}  # user 5 is no learner of it
    assert sent == [
        (f"instructor:{user.pk}", "analytics", payload),
        (f"instructor:{user.pk}", "course_analytics", active),
    ]
    sent.clear()
    await lesson_viewers_changed(room=Room("lesson", 987654), presence=presence)
    assert sent == []
