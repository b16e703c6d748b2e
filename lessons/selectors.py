"""Reads of lessons, always scoped to who asks."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from courses.selectors import course_editable_by
from lessons.models import Lesson


def lesson_editable_by(*, user: User | AnonymousUser) -> QuerySet[Lesson]:
    """Lessons of the courses the user may edit."""
    return Lesson.objects.filter(course__in=course_editable_by(user=user))


def lesson_get_editable(*, user: User | AnonymousUser, lesson_id: int) -> Lesson | None:
    return (
        lesson_editable_by(user=user)
        .select_related("course", "module")
        .filter(pk=lesson_id)
        .first()
    )
