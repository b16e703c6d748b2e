"""What `subscribed` carries: the room's current state, so that no client depends on having
been connected when an event went out.

| room              | snapshot                                                          |
| ----------------- | ----------------------------------------------------------------- |
| `user:{id}`       | `notifications` (newest 50 unread), `unread_count`, `generations` |
|                   | (running), `progress` and `confusions` (own, newest 50 each)      |
| `course:{id}`     | `presence`, `lessons` (id, title, generation status)              |
| `lesson:{id}`     | `presence`, `lesson` (id, title, generation status)               |
| `instructor:{id}` | `confusions` (newest 100 open), `analytics` (per-lesson counts)    |
"""

from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from ai_chat.models import AIMessage
from learning.payloads import confusion_payload, progress_payload
from learning.selectors import (
    confusions_open_for_instructor,
    confusions_recent,
    course_instructed_by,
    course_instructor_ids,
    display_name,
    lesson_counts,
    progress_recent,
)
from lessons.models import Lesson
from realtime.notifications import notifications_unread
from realtime.rooms import Room

MAX_ANALYTICS_LESSONS = 500


def user_names(user_ids: list[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=user_ids)
    return {user.pk: display_name(user) for user in users}


def lesson_instructors(lesson_id: int) -> tuple[int, list[int]] | None:
    """(course id, instructor ids) of a lesson; None if it is gone."""
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id).first()
    if lesson is None:
        return None
    return lesson.course_id, course_instructor_ids(course=lesson.course)


def lesson_state(lesson: Lesson) -> dict[str, Any]:
    return {
        "lesson_id": lesson.pk,
        "course_id": lesson.course_id,
        "title": lesson.title,
        "generation_status": lesson.generation_status,
    }


def user_snapshot(user: Any) -> dict[str, Any]:
    running = (
        AIMessage.objects.filter(
            conversation__user=user,
            role=AIMessage.Role.ASSISTANT,
            status=AIMessage.Status.STREAMING,
        )
        .select_related("conversation")
        .order_by("created_at")
    )
    generations = [
        {
            "conversation_id": str(m.conversation_id),
            "message_id": str(m.pk),
            "kind": m.conversation.kind,
        }
        for m in running
    ]
    return {
        **notifications_unread(user=user),
        "generations": generations,
        "progress": [progress_payload(p) for p in progress_recent(learner=user)],
        "confusions": [confusion_payload(c) for c in confusions_recent(learner=user)],
    }


def course_snapshot(course_id: int) -> dict[str, Any]:
    lessons = Lesson.objects.filter(course_id=course_id)
    return {"lessons": [lesson_state(lesson) for lesson in lessons]}


def lesson_snapshot(lesson_id: int) -> dict[str, Any]:
    lesson = Lesson.objects.filter(pk=lesson_id).first()
    return {"lesson": lesson_state(lesson) if lesson else None}


def instructor_snapshot(user: Any) -> dict[str, Any]:
    confusions = [confusion_payload(c) for c in confusions_open_for_instructor(user=user)]
    lessons = list(
        Lesson.objects.filter(course__in=course_instructed_by(user=user))
        .order_by("course_id", "pk")
        .values_list("pk", "course_id")[:MAX_ANALYTICS_LESSONS]
    )
    counts = lesson_counts(lesson_ids=[pk for pk, _ in lessons])
    analytics = [
        {"lesson_id": pk, "course_id": course_id, **counts[pk]} for pk, course_id in lessons
    ]
    return {"confusions": confusions, "analytics": analytics}


def presence_list(user_ids: list[int]) -> list[dict[str, Any]]:
    names = user_names(user_ids)
    return [{"user_id": i, "display_name": names[i]} for i in user_ids if i in names]


async def build_snapshot(*, user: Any, room: Room, presence: Any) -> dict[str, Any]:
    """The snapshot of a room the user has been allowed to join."""
    if room.kind == "user":
        return await database_sync_to_async(user_snapshot)(user)
    if room.kind == "instructor":
        snapshot = await database_sync_to_async(instructor_snapshot)(user)
        rooms = [f"lesson:{row['lesson_id']}" for row in snapshot["analytics"]]
        viewers = await presence.counts(rooms) if rooms else {}
        for row, name in zip(snapshot["analytics"], rooms, strict=True):
            row["viewers"] = viewers[name]
        return snapshot
    user_ids = await presence.users(room.name)

    def read() -> dict[str, Any]:
        state = course_snapshot(room.id) if room.kind == "course" else lesson_snapshot(room.id)
        return {"presence": presence_list(user_ids), **state}

    return await database_sync_to_async(read)()
