"""Course analytics an instructor acts on: completion rate, learners active now, struggling
lessons, and how fast instructors respond.

`course_analytics` reads everything but `active_now` in a fixed number of queries, whatever the
size of the course (tested). `active_now` comes from presence (who views the course's rooms)
and is added on the event loop (`course_active_now`). Live, the numbers go as `course_analytics`
`update` to the course's instructor rooms and its `course:` room from the services after each
change (in their transaction); `active_now` alone goes to the instructor rooms when presence
changes.
"""

import math
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.db.models import Count
from django.utils import timezone

from courses.models import Course
from learning.models import Confusion, Enrollment, LessonProgress, Question
from learning.selectors import MAX_ANALYTICS_LESSONS, course_instructor_ids
from lessons.models import Lesson
from realtime.publish import apublish_event, publish_event

STRUGGLING_SHOWN = 5
RESPONSE_WINDOW = timedelta(days=90)
RESPONSE_SAMPLES = 1000


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted values (None for none)."""
    if not sorted_values:
        return None
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return round(sorted_values[rank - 1], 1)


def _response_seconds(course: Course) -> list[float]:
    since = timezone.now() - RESPONSE_WINDOW
    confusions = (
        Confusion.objects.filter(lesson__course=course, resolved_at__gte=since)
        .order_by("-resolved_at")
        .values_list("created_at", "resolved_at")[:RESPONSE_SAMPLES]
    )
    questions = (
        Question.objects.filter(lesson__course=course, answered_at__gte=since)
        .order_by("-answered_at")
        .values_list("created_at", "answered_at")[:RESPONSE_SAMPLES]
    )
    pairs = [*confusions, *questions]
    return sorted(max((done - asked).total_seconds(), 0.0) for asked, done in pairs if done)


def _per_lesson(model: Any, lesson_ids: list[int], **filters: Any) -> dict[int, int]:
    rows = (
        model.objects.filter(lesson_id__in=lesson_ids, **filters)
        .values("lesson_id")
        .annotate(n=Count("pk"))
    )
    return {row["lesson_id"]: row["n"] for row in rows}


def course_analytics(*, course: Course) -> dict[str, Any]:
    """Everything but `active_now` (ORM; seven queries)."""
    lessons = list(
        Lesson.objects.filter(course=course)
        .order_by("position", "pk")
        .values_list("pk", "title")[:MAX_ANALYTICS_LESSONS]
    )
    ids = [pk for pk, _ in lessons]
    learners = Enrollment.objects.filter(course=course, role=Enrollment.Role.LEARNER)
    enrolled = learners.count()
    completions = LessonProgress.objects.filter(
        lesson_id__in=ids, completed_at__isnull=False, learner_id__in=learners.values("learner_id")
    ).count()
    confused = _per_lesson(Confusion, ids, resolved_at__isnull=True)
    asked = _per_lesson(Question, ids, answered_at__isnull=True, hidden_at__isnull=True)
    open_counts = {pk: (confused.get(pk, 0), asked.get(pk, 0)) for pk, _ in lessons}
    ranked = sorted(
        (pk for pk, _ in lessons if sum(open_counts[pk])), key=lambda pk: -sum(open_counts[pk])
    )
    titles = dict(lessons)
    struggling = [
        {
            "lesson_id": pk,
            "title": titles[pk],
            "open_confusions": open_counts[pk][0],
            "open_questions": open_counts[pk][1],
        }
        for pk in ranked[:STRUGGLING_SHOWN]
    ]
    seconds = _response_seconds(course)
    possible = enrolled * len(ids)
    return {
        "course_id": course.pk,
        "enrolled": enrolled,
        "lessons": len(ids),
        "completions": completions,
        "completion_rate": round(completions / possible, 4) if possible else 0.0,
        "struggling": struggling,
        "response_time": {
            "samples": len(seconds),
            "p50_seconds": percentile(seconds, 0.5),
            "p90_seconds": percentile(seconds, 0.9),
        },
    }


def course_rooms_and_learners(*, course_id: int) -> tuple[list[str], set[int]]:
    """The rooms whose viewers count as active (the course's and its lessons'), and the ids of
    its enrolled learners (ORM; two queries)."""
    lesson_ids = Lesson.objects.filter(course_id=course_id).values_list("pk", flat=True)
    rooms = [f"course:{course_id}", *(f"lesson:{pk}" for pk in lesson_ids[:MAX_ANALYTICS_LESSONS])]
    learners = Enrollment.objects.filter(course_id=course_id, role=Enrollment.Role.LEARNER)
    return rooms, set(learners.values_list("learner_id", flat=True))


async def course_active_now(*, rooms: list[str], learners: set[int], presence: Any) -> int:
    """How many of the learners view one of the rooms now (one presence read)."""
    viewing = await presence.users_of(rooms)
    return len({user for users in viewing.values() for user in users} & learners)


def analytics_rooms(*, course: Course) -> list[str]:
    """Where `course_analytics` goes: the course's instructors' rooms and its own room."""
    return [
        *(f"instructor:{i}" for i in course_instructor_ids(course=course)),
        f"course:{course.pk}",
    ]


def course_analytics_publish(*, course: Course) -> None:
    """Publish the course's numbers (not `active_now`) after the current transaction commits."""
    payload = course_analytics(course=course)
    for room in analytics_rooms(course=course):
        publish_event(room=room, event="course_analytics", action="update", payload=payload)


async def aactive_now_publish(*, course_id: int, presence: Any) -> None:
    """Publish `active_now` alone (presence changed) to the course's instructors' rooms, from
    the event loop. Not to `course:{id}`: its members hear `presence` there already."""

    def read() -> tuple[list[str], set[int], list[str]] | None:
        course = Course.objects.filter(pk=course_id).first()
        if course is None:
            return None
        rooms, learners = course_rooms_and_learners(course_id=course_id)
        return rooms, learners, [f"instructor:{i}" for i in course_instructor_ids(course=course)]

    found = await database_sync_to_async(read)()
    if found is None:
        return
    rooms, learners, targets = found
    active = await course_active_now(rooms=rooms, learners=learners, presence=presence)
    payload = {"course_id": course_id, "active_now": active}
    for room in targets:
        await apublish_event(room=room, event="course_analytics", action="update", payload=payload)
