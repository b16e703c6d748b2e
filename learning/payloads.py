"""Rows as event payloads and snapshot entries (plain dicts; datetimes stay datetimes)."""

from typing import Any

from learning.models import Confusion, LessonProgress
from realtime.people import display_name


def progress_payload(progress: LessonProgress) -> dict[str, Any]:
    return {
        "learner_id": progress.learner_id,
        "lesson_id": progress.lesson_id,
        "course_id": progress.lesson.course_id,
        "percent": progress.percent,
        "position": progress.position,
        "completed_at": progress.completed_at,
        "updated_at": progress.updated_at,
    }


def confusion_payload(confusion: Confusion) -> dict[str, Any]:
    return {
        "id": confusion.pk,
        "learner_id": confusion.learner_id,
        "learner_name": display_name(confusion.learner),
        "lesson_id": confusion.lesson_id,
        "course_id": confusion.lesson.course_id,
        "position": confusion.position,
        "note": confusion.note,
        "created_at": confusion.created_at,
        "resolved_by": confusion.resolved_by_id,
        "resolved_at": confusion.resolved_at,
    }
