"""Writes of enrollments, progress and confusion, each checked against who acts.

Refusals are Django's own exceptions: `PermissionDenied` (the actor may see the thing but not
do this) and `ValidationError` (a value out of range). A row the actor may not see is the
caller's to report as missing (see `learning.selectors`). Events go out after the commit
(`realtime.publish`), each to the rooms named here and no others.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from courses.models import Course
from learning.analytics import course_analytics_publish
from learning.models import MAX_NOTE_LENGTH, MAX_POSITION_LENGTH, Confusion, Enrollment
from learning.models import LessonProgress as Progress
from learning.payloads import confusion_payload, progress_payload
from learning.selectors import (
    confusion_get_visible,
    course_instructor_ids,
    course_is_instructor,
    course_is_participant,
    lesson_counts,
)
from lessons.models import Lesson
from realtime.notifications import notification_create
from realtime.people import display_name
from realtime.publish import publish_event


@transaction.atomic
def enrollment_create(
    *, actor: Any, course: Course, learner: Any = None, role: str = Enrollment.Role.LEARNER
) -> Enrollment:
    """Enroll `learner` (default: the actor) in a course; enrolling twice changes nothing.

    The course's owner and staff enroll anyone, in either role; anyone else may enroll only
    themselves, as a learner, in a published course.
    """
    learner = learner or actor
    if role not in Enrollment.Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    manages = actor.is_staff or course.owner_id == actor.pk
    self_service = (
        learner.pk == actor.pk
        and role == Enrollment.Role.LEARNER
        and course.status == Course.Status.PUBLISHED
    )
    if not (manages or self_service):
        raise PermissionDenied("You may not enroll this user in this course.")
    enrollment, created = Enrollment.objects.get_or_create(
        learner=learner, course=course, defaults={"role": role}
    )
    if not created and manages and enrollment.role != role:
        enrollment.role = role
        enrollment.save(update_fields=["role"])
    course_analytics_publish(course=course)
    return enrollment


@transaction.atomic
def enrollment_delete(*, actor: Any, enrollment: Enrollment) -> None:
    """Unenroll: the learner themselves, the course's owner, or staff."""
    allowed = actor.is_staff or actor.pk in (enrollment.learner_id, enrollment.course.owner_id)
    if not allowed:
        raise PermissionDenied("You may not remove this enrollment.")
    course = enrollment.course
    enrollment.delete()
    course_analytics_publish(course=course)


@transaction.atomic
def progress_record(*, learner: Any, lesson: Lesson, percent: int, position: Any = "") -> Progress:
    """Record how far a participant of the lesson's course got.

    The stored percent is the furthest reached (a second device behind the first does not
    lower it); the position is the latest. Reaching 100 sets `completed_at`, once. The
    learner's room (their other devices) and the course's instructors hear `progress`
    `update`; a new completion also sends `analytics` `update` to the instructors.
    """
    course = lesson.course
    if not course_is_participant(user=learner, course=course):
        raise PermissionDenied("Only the course's learners record progress.")
    if not 0 <= percent <= 100:
        raise ValidationError("percent must be between 0 and 100.")
    progress, _ = Progress.objects.select_for_update().get_or_create(learner=learner, lesson=lesson)
    progress.percent = max(progress.percent, percent)
    progress.position = str(position)[:MAX_POSITION_LENGTH]
    completed = progress.percent >= 100 and progress.completed_at is None
    if completed:
        progress.completed_at = timezone.now()
    progress.save()
    payload = progress_payload(progress)
    publish_event(room=f"user:{learner.pk}", event="progress", action="update", payload=payload)
    instructors = course_instructor_ids(course=course)
    for user_id in instructors:
        publish_event(
            room=f"instructor:{user_id}",
            event="progress",
            action="update",
            payload={**payload, "learner_name": display_name(learner)},
        )
    if completed:
        _publish_counts(lesson, instructors)
        course_analytics_publish(course=course)
    return progress


@transaction.atomic
def confusion_create(
    *, learner: Any, lesson: Lesson, position: Any = "", note: str = ""
) -> Confusion:
    """Mark a confusing point; the course's instructors are alerted (`confusion` `create`)."""
    if not course_is_participant(user=learner, course=lesson.course):
        raise PermissionDenied("Only the course's learners mark confusion.")
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(f"The note is over {MAX_NOTE_LENGTH} characters.")
    confusion = Confusion.objects.create(
        learner=learner, lesson=lesson, position=str(position)[:MAX_POSITION_LENGTH], note=note
    )
    instructors = course_instructor_ids(course=lesson.course)
    _publish_confusion(confusion, "create", instructors)
    _publish_counts(lesson, instructors)
    course_analytics_publish(course=lesson.course)
    return confusion


@transaction.atomic
def confusion_resolve(*, user: Any, confusion_id: int) -> Confusion:
    """Resolve a confusion: the course's instructors and staff only. The learner is told
    (`confusion` `update`, and a stored notification).

    One the user may not see raises `Confusion.DoesNotExist`; its learner (who sees it) gets
    `PermissionDenied`. Resolving twice changes nothing and sends nothing.
    """
    confusion = confusion_get_visible(user=user, confusion_id=confusion_id)
    if confusion is None:
        raise Confusion.DoesNotExist("No such confusion.")
    lesson = confusion.lesson
    if not course_is_instructor(user=user, course=lesson.course):
        raise PermissionDenied("Only the course's instructors resolve confusion.")
    confusion = (
        Confusion.objects.select_for_update()
        .select_related("learner", "lesson__course")
        .get(pk=confusion.pk)
    )
    if confusion.resolved_at is not None:
        return confusion
    confusion.resolved_by = user
    confusion.resolved_at = timezone.now()
    confusion.save(update_fields=["resolved_by", "resolved_at"])
    instructors = course_instructor_ids(course=lesson.course)
    _publish_confusion(confusion, "update", instructors)
    _publish_counts(lesson, instructors)
    if confusion.learner_id != user.pk:
        where = f" at {confusion.position}" if confusion.position else ""
        notification_create(
            user=confusion.learner,
            title=f"Your confusion on “{lesson.title}”{where} was resolved",
            body=confusion.note[:500],
            data={
                "kind": "confusion_resolved",
                "confusion_id": confusion.pk,
                "lesson_id": lesson.pk,
                "course_id": lesson.course_id,
            },
        )
    course_analytics_publish(course=lesson.course)
    return confusion


def _publish_confusion(confusion: Confusion, action: str, instructors: list[int]) -> None:
    payload = confusion_payload(confusion)
    rooms = [f"user:{confusion.learner_id}", *(f"instructor:{i}" for i in instructors)]
    for room in rooms:
        publish_event(room=room, event="confusion", action=action, payload=payload)


def _publish_counts(lesson: Lesson, instructors: list[int]) -> None:
    """The lesson's completions and open confusions, to its instructors (`analytics`)."""
    counts = lesson_counts(lesson_ids=[lesson.pk])[lesson.pk]
    payload = {"lesson_id": lesson.pk, "course_id": lesson.course_id, **counts}
    for user_id in instructors:
        publish_event(
            room=f"instructor:{user_id}", event="analytics", action="update", payload=payload
        )
