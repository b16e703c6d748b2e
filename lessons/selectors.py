"""Reads of lessons, always scoped to who asks."""

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet

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


def lesson_status_counts(*, course_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Lessons per `generation_status` in each course, every status present (0 when none)."""
    ids = list(course_ids)
    counts = {pk: dict.fromkeys(Lesson.GenerationStatus.values, 0) for pk in ids}
    rows = (
        Lesson.objects.filter(course_id__in=ids)
        .values("course_id", "generation_status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["course_id"]][row["generation_status"]] = row["n"]
    return counts


def lesson_list_for_course(*, course_id: int) -> QuerySet[Lesson]:
    """A course's lessons in order, for a caller that has checked who may see the course."""
    return Lesson.objects.filter(course_id=course_id)


def lesson_get(*, lesson_id: int) -> Lesson | None:
    """A lesson, for a caller that has checked who may see it."""
    return Lesson.objects.filter(pk=lesson_id).first()
