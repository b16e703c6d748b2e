"""Tell people how a lesson's generation stands: `generation` events and stored notifications."""

import logging
from typing import Any

from lessons.models import Lesson
from realtime.notifications import notification_create
from realtime.publish import publish_event

logger = logging.getLogger(__name__)


def lesson_generation_payload(*, lesson: Lesson, job_id: int | None) -> dict[str, Any]:
    return {
        "lesson_id": lesson.pk,
        "module_id": lesson.module_id,
        "course_id": lesson.course_id,
        "generation_status": lesson.generation_status,
        "generation_error": lesson.generation_error,
        "job_id": job_id,
    }


def lesson_generation_announce(*, lesson_id: int, job_id: int | None, user_id: int) -> None:
    """Publish the lesson's status (after commit) to the asker's `user:{id}` room.

    Its lesson and course rooms hear every transition from `lessons` itself (the signal
    `lesson_generation_changed`, published by `learning.lesson_events`).
    """
    lesson = Lesson.objects.filter(pk=lesson_id).first()
    if lesson is None:
        return
    payload = lesson_generation_payload(lesson=lesson, job_id=job_id)
    publish_event(room=f"user:{user_id}", event="generation", action="update", payload=payload)


def lesson_generation_notify(*, lesson_id: int, job_id: int, user: Any) -> None:
    """Leave the asker a stored notification that their lesson is ready, or why it is not."""
    lesson = Lesson.objects.filter(pk=lesson_id).first()
    if lesson is None:
        return
    data: dict[str, Any] = {"lesson_id": lesson.pk, "course_id": lesson.course_id, "job_id": job_id}
    if lesson.generation_status == Lesson.GenerationStatus.COMPLETED:
        data["kind"] = "lesson_generated"
        notification_create(user=user, title=f"Lesson ready: {lesson.title}", data=data)
    else:
        data["kind"] = "lesson_failed"
        notification_create(
            user=user,
            title=f"Lesson not generated: {lesson.title}",
            body=lesson.generation_error,
            data=data,
        )
