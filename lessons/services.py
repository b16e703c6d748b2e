"""Writes to lessons: apply generated content, move the generation status."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from lessons.models import Lesson

CONTENT_FIELDS = (
    "title",
    "description",
    "objectives",
    "outline",
    "content",
    "key_terms",
    "estimated_minutes",
)


@transaction.atomic
def lesson_apply_content(*, lesson: Lesson, content: Mapping[str, Any]) -> Lesson:
    """Write a lesson's generated fields and mark its generation completed."""
    for name in CONTENT_FIELDS:
        if name in content:
            setattr(lesson, name, content[name])
    lesson.generation_status = Lesson.GenerationStatus.COMPLETED
    lesson.generation_error = ""
    lesson.save()
    return lesson


def lesson_set_generation_status(*, lesson: Lesson, status: str, error: str = "") -> Lesson:
    """Move a lesson's generation status; an error is kept only with `failed`."""
    if status not in Lesson.GenerationStatus.values:
        raise ValueError(f"unknown generation status {status!r}")
    lesson.generation_status = status
    lesson.generation_error = error if status == Lesson.GenerationStatus.FAILED else ""
    lesson.save(update_fields=["generation_status", "generation_error", "updated_at"])
    return lesson
