"""Reads of assessments, always scoped to who asks."""

from django.contrib.auth.models import AnonymousUser, User

from assessments.models import Assignment
from courses.selectors import course_editable_by


def assignment_get_editable(*, user: User | AnonymousUser, assignment_id: int) -> Assignment | None:
    return (
        Assignment.objects.filter(course__in=course_editable_by(user=user), pk=assignment_id)
        .select_related("course", "lesson")
        .first()
    )
