"""Reads of assessments, always scoped to who asks."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from assessments.models import Assignment
from courses.selectors import course_editable_by


def assignment_editable_by(*, user: User | AnonymousUser) -> QuerySet[Assignment]:
    """The assignments of the courses this user may edit."""
    return Assignment.objects.filter(course__in=course_editable_by(user=user))


def assignment_get_editable(*, user: User | AnonymousUser, assignment_id: int) -> Assignment | None:
    return (
        assignment_editable_by(user=user)
        .filter(pk=assignment_id)
        .select_related("course", "lesson")
        .first()
    )
