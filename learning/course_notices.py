"""Tell a course's learners that it was published or changed: stored notifications, sent live.

Connected to `courses.signals.course_changed` in `LearningConfig.ready`. A learner is one
enrolled with the learner role (who "follows" the course). Changes come in bursts (an outline
saved module by module, an admin editing twice), so a learner who still has an unread
"updated" notice of the course gets no second one; a publication is always told.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from courses.models import Course
from learning.models import Enrollment
from realtime.models import Notification
from realtime.notifications import notification_create


def course_changed_notified(sender: Any, *, course_id: int, published: bool, **kwargs: Any) -> None:
    """Notify the course's learners (a receiver of `course_changed`)."""
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        return
    kind = "course_published" if published else "course_updated"
    learner_ids = Enrollment.objects.filter(
        course_id=course_id, role=Enrollment.Role.LEARNER
    ).values_list("learner_id", flat=True)
    learners = get_user_model().objects.filter(pk__in=learner_ids, is_active=True)
    if not published:
        told = Notification.objects.filter(
            read_at__isnull=True, data__kind=kind, data__course_id=course_id
        ).values("user_id")
        learners = learners.exclude(pk__in=told)
    title = f"{'Course published' if published else 'Course updated'}: {course.title}"
    data = {"kind": kind, "course_id": course_id}
    with transaction.atomic():
        for learner in learners:
            notification_create(user=learner, title=title, data=data)
