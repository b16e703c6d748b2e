"""Writes of a whole course outline: the course, its modules and one lesson skeleton each.

It lives with lessons because it writes them; the course and module parts are `courses`'
services, so the dependency runs one way (lessons -> courses).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from courses.models import Course, Module
from courses.services import course_create_from_fields, course_update_fields, module_upsert, pick
from lessons.models import Lesson

OUTLINE_LESSON_FIELDS = ("title", "description", "objectives", "estimated_minutes")


@dataclass
class CourseWrite:
    """What a course write touched, in creation order."""

    course: Course
    modules: list[Module] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)


@transaction.atomic
def course_create_from_outline(
    *, owner: User, outline: Mapping[str, Any], language: str = "en"
) -> CourseWrite:
    """Create a draft course, its modules and one pending lesson per outlined lesson."""
    course = course_create_from_fields(owner=owner, data=outline, language=language)
    written = CourseWrite(course=course)
    _write_modules(course=course, modules=outline.get("modules", []), written=written)
    return written


@transaction.atomic
def course_update_from_outline(*, course: Course, outline: Mapping[str, Any]) -> CourseWrite:
    """Revise a course in place from a new outline.

    Modules and lessons are matched by position and updated; new positions are created. Nothing
    is deleted: a lesson past the end of the new outline may hold written content.
    """
    course_update_fields(course=course, data=outline)
    written = CourseWrite(course=course)
    _write_modules(course=course, modules=outline.get("modules", []), written=written)
    return written


def _write_modules(
    *, course: Course, modules: Sequence[Mapping[str, Any]], written: CourseWrite
) -> None:
    existing_modules = {m.position: m for m in course.modules.all()}
    existing_lessons: dict[tuple[int | None, int], Lesson] = {
        (lesson.module_id, lesson.position): lesson
        for lesson in Lesson.objects.filter(course=course, module__isnull=False)
    }
    for position, module_data in enumerate(modules):
        module = module_upsert(
            course=course,
            position=position,
            data=module_data,
            existing=existing_modules.get(position),
        )
        written.modules.append(module)
        for lesson_position, lesson_data in enumerate(module_data.get("lessons", [])):
            fields = pick(lesson_data, OUTLINE_LESSON_FIELDS)
            lesson = existing_lessons.get((module.pk, lesson_position))
            if lesson is None:
                lesson = Lesson.objects.create(
                    course=course, module=module, position=lesson_position, **fields
                )
            else:
                for name, value in fields.items():
                    setattr(lesson, name, value)
                lesson.save()
            written.lessons.append(lesson)
