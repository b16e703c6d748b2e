"""Writes to courses: create one empty or from an outline, revise one from a new outline."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from courses.models import Course, Module
from lessons.models import Lesson

COURSE_FIELDS = (
    "title",
    "description",
    "objectives",
    "prerequisites",
    "age_range",
    "level",
    "category",
)
MODULE_FIELDS = ("title", "description")
OUTLINE_LESSON_FIELDS = ("title", "description", "objectives", "estimated_minutes")


@dataclass
class CourseWrite:
    """What a course write touched, in creation order."""

    course: Course
    modules: list[Module] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)


def _pick(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


def course_create(*, owner: User, title: str, description: str = "") -> Course:
    """Create an empty draft course the owner fills later (by hand, an outline, or an import)."""
    return Course.objects.create(owner=owner, title=title, description=description)


@transaction.atomic
def course_create_from_outline(
    *, owner: User, outline: Mapping[str, Any], language: str = "en"
) -> CourseWrite:
    """Create a draft course, its modules and one pending lesson per outlined lesson."""
    course = Course.objects.create(owner=owner, language=language, **_pick(outline, COURSE_FIELDS))
    written = CourseWrite(course=course)
    _write_modules(course=course, modules=outline.get("modules", []), written=written)
    return written


@transaction.atomic
def course_update_from_outline(*, course: Course, outline: Mapping[str, Any]) -> CourseWrite:
    """Revise a course in place from a new outline.

    Modules and lessons are matched by position and updated; new positions are created. Nothing
    is deleted: a lesson past the end of the new outline may hold written content.
    """
    for name, value in _pick(outline, COURSE_FIELDS).items():
        setattr(course, name, value)
    course.save()
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
        module = existing_modules.get(position)
        if module is None:
            module = Module.objects.create(
                course=course, position=position, **_pick(module_data, MODULE_FIELDS)
            )
        else:
            for name, value in _pick(module_data, MODULE_FIELDS).items():
                setattr(module, name, value)
            module.save()
        written.modules.append(module)
        for lesson_position, lesson_data in enumerate(module_data.get("lessons", [])):
            fields = _pick(lesson_data, OUTLINE_LESSON_FIELDS)
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
