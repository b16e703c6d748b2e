"""Reads of jobs and of who may ask for them, always scoped to who asks."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from courses.models import Course
from courses.selectors import course_editable_by
from jobs.models import LessonJob
from learning.selectors import course_viewable_by

AnyUser = AbstractBaseUser | AnonymousUser


def course_is_editor(*, user: AnyUser, course: Course) -> bool:
    """Editors (owner, staff) generate and regenerate; everyone else who may view only asks."""
    return bool(getattr(user, "is_staff", False)) or course.owner_id == user.pk


def job_visible_to(*, user: AnyUser) -> QuerySet[LessonJob]:
    """Jobs the user asked for, and every job of the courses they edit."""
    if not user.is_authenticated:
        return LessonJob.objects.none()
    editable = course_editable_by(user=user).values("pk")  # type: ignore[arg-type]
    return LessonJob.objects.filter(Q(user_id=user.pk) | Q(lesson__course__in=editable))


def job_get_visible(*, user: AnyUser, job_id: int) -> LessonJob | None:
    return job_visible_to(user=user).select_related("lesson").filter(pk=job_id).first()


def job_active_for_lesson(*, lesson_id: int) -> LessonJob | None:
    """The lesson's queued or running job, if it has one."""
    return LessonJob.objects.filter(lesson_id=lesson_id, status__in=LessonJob.ACTIVE).first()


def job_latest_for_lesson(*, lesson_id: int) -> LessonJob | None:
    return LessonJob.objects.filter(lesson_id=lesson_id).order_by("-created_at", "-pk").first()


def course_viewable(*, user: AnyUser) -> QuerySet[Course]:
    return course_viewable_by(user=user)
