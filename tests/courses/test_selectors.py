"""Who may edit a course or its lessons."""

import pytest

from courses.selectors import course_get_editable
from lessons.selectors import lesson_get_editable

pytestmark = pytest.mark.django_db


def test_selectors_scope_to_owner_and_staff(course, other_user, staff_user):
    """Only the owner (and staff) may edit a course or its lessons."""
    lesson = course.lessons.first()
    assert course_get_editable(user=course.owner, course_id=course.pk) == course
    assert course_get_editable(user=other_user, course_id=course.pk) is None
    assert course_get_editable(user=staff_user, course_id=course.pk) == course
    assert lesson_get_editable(user=other_user, lesson_id=lesson.pk) is None
    assert lesson_get_editable(user=course.owner, lesson_id=lesson.pk) == lesson
