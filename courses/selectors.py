"""Reads of courses, always scoped to who asks."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from courses.models import Course


def course_editable_by(*, user: User | AnonymousUser) -> QuerySet[Course]:
    """Courses the user may edit: their own; every course for staff."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_staff:
        return Course.objects.all()
    return Course.objects.filter(owner=user)


def course_get_editable(*, user: User | AnonymousUser, course_id: int) -> Course | None:
    return course_editable_by(user=user).filter(pk=course_id).first()
