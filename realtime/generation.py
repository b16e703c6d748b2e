"""`generation` events: a user's generations, and lessons whose generation status moved.

`generation_event` tells `user:{id}` that one of their generations started, completed or
failed (suggested: `create` when it starts, `update` when it ends; the payload is the
caller's, e.g. conversation and message ids, kind, status). `lesson_status_event` tells
everyone following the lesson or its course that the lesson's generation status changed.
"""

from collections.abc import Mapping
from typing import Any

from lessons.models import Lesson
from realtime.publish import apublish_event, publish_event


def generation_event(*, user_id: int, action: str, payload: Mapping[str, Any]) -> None:
    """Publish `generation` to the user's room, after the current transaction commits."""
    publish_event(room=f"user:{user_id}", event="generation", action=action, payload=payload)


async def ageneration_event(*, user_id: int, action: str, payload: Mapping[str, Any]) -> None:
    """Publish `generation` to the user's room, from the event loop."""
    await apublish_event(room=f"user:{user_id}", event="generation", action=action, payload=payload)


def lesson_status_payload(lesson: Lesson) -> dict[str, Any]:
    return {
        "lesson_id": lesson.pk,
        "course_id": lesson.course_id,
        "generation_status": lesson.generation_status,
        "generation_error": lesson.generation_error,
    }


def lesson_status_event(lesson: Lesson) -> None:
    """Publish `generation` `update` with the lesson's status to its course and lesson rooms."""
    payload = lesson_status_payload(lesson)
    for room in (f"course:{lesson.course_id}", f"lesson:{lesson.pk}"):
        publish_event(room=room, event="generation", action="update", payload=payload)
