"""Reads of enrollments, progress and confusion, always scoped to who asks.

A course's participants are its owner and everyone enrolled in it. Its instructors are its owner
and those enrolled with the instructor role. Staff see every course.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from courses.models import Course, Module
from learning.models import Confusion, Enrollment, LessonProgress
from lessons.models import Lesson

AnyUser = AbstractBaseUser | AnonymousUser
MAX_ANALYTICS_LESSONS = 500


def course_viewable_by(*, user: AnyUser) -> QuerySet[Course]:
    """Courses the user may follow live: owned, enrolled in (any role); all for staff."""
    if not user.is_authenticated:
        return Course.objects.none()
    if getattr(user, "is_staff", False):
        return Course.objects.all()
    enrolled = Enrollment.objects.filter(learner_id=user.pk).values("course_id")
    return Course.objects.filter(Q(owner=user) | Q(pk__in=enrolled))


def course_instructed_by(*, user: AnyUser) -> QuerySet[Course]:
    """Courses the user teaches: owned, or enrolled in with the instructor role."""
    if not user.is_authenticated:
        return Course.objects.none()
    teaching = Enrollment.objects.filter(learner_id=user.pk, role=Enrollment.Role.INSTRUCTOR)
    return Course.objects.filter(Q(owner=user) | Q(pk__in=teaching.values("course_id")))


def course_taught_by(*, user: AnyUser) -> QuerySet[Course]:
    """The courses on a teacher's page: every course for staff, else the ones they instruct."""
    if getattr(user, "is_staff", False):
        return Course.objects.all()
    return course_instructed_by(user=user)


def course_enrolled_in(*, user: AnyUser) -> QuerySet[Course]:
    """The courses the user is enrolled in (any role), for their home page."""
    if not user.is_authenticated:
        return Course.objects.none()
    enrolled = Enrollment.objects.filter(learner_id=user.pk).values("course_id")
    return Course.objects.filter(pk__in=enrolled)


def course_can_view(*, user: AnyUser, course_id: int) -> bool:
    return course_viewable_by(user=user).filter(pk=course_id).exists()


def lesson_get_viewable(*, user: AnyUser, lesson_id: int) -> Lesson | None:
    """The lesson, when the user may view its course; None when missing or not theirs."""
    return (
        Lesson.objects.select_related("course")
        .filter(pk=lesson_id, course__in=course_viewable_by(user=user))
        .first()
    )


def course_get_viewable(*, user: AnyUser, course_id: int) -> Course | None:
    """The course with its modules and their lessons, when the user may view it; else None."""
    return (
        course_viewable_by(user=user)
        .prefetch_related("modules__lessons")
        .filter(pk=course_id)
        .first()
    )


def module_get_viewable(*, user: AnyUser, module_id: int) -> Module | None:
    """The module, when the user may view its course; None when missing or not theirs."""
    return (
        Module.objects.select_related("course")
        .filter(pk=module_id, course__in=course_viewable_by(user=user))
        .first()
    )


def course_roles(*, user: AnyUser, course_ids: Iterable[int]) -> dict[int, str]:
    """The user's role in each course: `owner`, else `staff`, else the enrollment's role."""
    ids = list(course_ids)
    roles = {
        row["course_id"]: row["role"]
        for row in Enrollment.objects.filter(learner_id=user.pk, course_id__in=ids).values(
            "course_id", "role"
        )
    }
    if getattr(user, "is_staff", False):
        roles = dict.fromkeys(ids, "staff")
    owned = Course.objects.filter(pk__in=ids, owner_id=user.pk).values_list("pk", flat=True)
    roles.update(dict.fromkeys(owned, "owner"))
    return roles


def course_is_participant(*, user: AnyUser, course: Course) -> bool:
    """The owner, or anyone enrolled: who may record progress and mark confusion."""
    if not user.is_authenticated:
        return False
    return course.owner_id == user.pk or course.enrollments.filter(learner_id=user.pk).exists()


def course_is_instructor(*, user: AnyUser, course: Course) -> bool:
    """Staff, the owner, or an enrolled instructor: who may resolve confusion."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False) or course.owner_id == user.pk:
        return True
    return course.enrollments.filter(learner_id=user.pk, role=Enrollment.Role.INSTRUCTOR).exists()


def course_instructor_ids(*, course: Course) -> list[int]:
    """The users whose instructor room hears about this course: owner first, no repeats."""
    ids = [course.owner_id]
    teaching = course.enrollments.filter(role=Enrollment.Role.INSTRUCTOR)
    for user_id in teaching.values_list("learner_id", flat=True).order_by("learner_id"):
        if user_id not in ids:
            ids.append(user_id)
    return ids


def progress_recent(*, learner: AnyUser, limit: int = 50) -> QuerySet[LessonProgress]:
    """The learner's own progress, most recently updated first."""
    return (
        LessonProgress.objects.filter(learner_id=learner.pk)
        .select_related("lesson")
        .order_by("-updated_at")[:limit]
    )


def confusions_recent(*, learner: AnyUser, limit: int = 50) -> QuerySet[Confusion]:
    """The learner's own confusions, open or resolved, newest first."""
    return (
        Confusion.objects.filter(learner_id=learner.pk)
        .select_related("learner", "lesson")
        .order_by("-created_at")[:limit]
    )


def lesson_counts(*, lesson_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Completions and open confusions per lesson (viewers come from presence)."""
    ids = list(lesson_ids)
    counts = {pk: {"completions": 0, "open_confusions": 0} for pk in ids}
    completed = (
        LessonProgress.objects.filter(lesson_id__in=ids, completed_at__isnull=False)
        .values("lesson_id")
        .annotate(n=Count("pk"))
    )
    for row in completed:
        counts[row["lesson_id"]]["completions"] = row["n"]
    confused = (
        Confusion.objects.filter(lesson_id__in=ids, resolved_at__isnull=True)
        .values("lesson_id")
        .annotate(n=Count("pk"))
    )
    for row in confused:
        counts[row["lesson_id"]]["open_confusions"] = row["n"]
    return counts


def confusions_open_for_instructor(*, user: AnyUser, limit: int = 100) -> QuerySet[Confusion]:
    """The newest open confusions of the courses the user teaches."""
    return (
        Confusion.objects.filter(
            resolved_at__isnull=True, lesson__course__in=course_instructed_by(user=user)
        )
        .select_related("learner", "lesson")
        .order_by("-created_at")[:limit]
    )


def confusion_get_visible(*, user: AnyUser, confusion_id: int) -> Confusion | None:
    """A confusion its learner, the course's instructors or staff may see; else None."""
    confusion = (
        Confusion.objects.select_related("lesson__course", "learner")
        .filter(pk=confusion_id)
        .first()
    )
    if confusion is None or not user.is_authenticated:
        return None
    if confusion.learner_id == user.pk:
        return confusion
    if course_is_instructor(user=user, course=confusion.lesson.course):
        return confusion
    return None


def lessons_taught_by(
    *, user: AnyUser, limit: int = MAX_ANALYTICS_LESSONS
) -> list[tuple[int, int]]:
    """(lesson id, course id) of the lessons of the courses the user teaches, by course."""
    return list(
        Lesson.objects.filter(course__in=course_instructed_by(user=user))
        .order_by("course_id", "pk")
        .values_list("pk", "course_id")[:limit]
    )


def lesson_instructor_ids(*, lesson_id: int) -> tuple[int, list[int]] | None:
    """(course id, instructor ids) of a lesson; None if it is gone."""
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id).first()
    if lesson is None:
        return None
    return lesson.course_id, course_instructor_ids(course=lesson.course)
