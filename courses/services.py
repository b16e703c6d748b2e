"""Writes to courses and their modules (lessons are written by `lessons`, which builds on this:
`lessons.outline` writes a whole outline)."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from courses.models import Course, Module
from courses.signals import course_changed_on_commit

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


def pick(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The entries of `data` named in `names` (the rest of an outline is someone else's)."""
    return {name: data[name] for name in names if name in data}


def course_create(*, owner: User, title: str, description: str = "") -> Course:
    """Create an empty draft course the owner fills later (by hand, an outline, or an import)."""
    return Course.objects.create(owner=owner, title=title, description=description)


@transaction.atomic(savepoint=False)
def course_create_from_fields(
    *, owner: User, data: Mapping[str, Any], language: str = "en"
) -> Course:
    """Create a draft course from the course fields of `data`."""
    return Course.objects.create(owner=owner, language=language, **pick(data, COURSE_FIELDS))


@transaction.atomic(savepoint=False)
def course_update_fields(*, course: Course, data: Mapping[str, Any]) -> Course:
    """Overwrite the course fields present in `data` (its learners are told, once committed)."""
    for name, value in pick(data, COURSE_FIELDS).items():
        setattr(course, name, value)
    course.save()
    course_changed_on_commit(course_id=course.pk)
    return course


@transaction.atomic(savepoint=False)
def course_publish(*, course: Course) -> bool:
    """Publish a draft course; whether it changed (its learners are told, once committed)."""
    updated = Course.objects.filter(pk=course.pk, status=Course.Status.DRAFT).update(
        status=Course.Status.PUBLISHED
    )
    course.status = Course.Status.PUBLISHED
    if updated:
        course_changed_on_commit(course_id=course.pk, published=True)
    return bool(updated)


@transaction.atomic(savepoint=False)
def module_upsert(
    *, course: Course, position: int, data: Mapping[str, Any], existing: Module | None = None
) -> Module:
    """Create the module at `position`, or overwrite the fields of the one found there."""
    if existing is None:
        return Module.objects.create(course=course, position=position, **pick(data, MODULE_FIELDS))
    for name, value in pick(data, MODULE_FIELDS).items():
        setattr(existing, name, value)
    existing.save()
    return existing
