"""Course analytics: the numbers, their query count, the API, and the live updates."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Module
from learning.analytics import course_analytics, percentile
from learning.models import Confusion, Enrollment, LessonProgress, Question
from lessons.models import Lesson

pytestmark = pytest.mark.django_db(transaction=True)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (5.0, 9.0)
    assert percentile([], 0.5) is None and percentile([7.0], 0.9) == 7.0


def _ago(**delta):
    return timezone.now() - timedelta(**delta)


def test_the_numbers_of_a_course(course, user, learner, make_user):
    """2 learners x 2 lessons, 1 completion: 25%; the lesson with most open items first;
    response times from a confusion resolved in 60 s and a question answered in 300 s."""
    first, second = course.lessons.order_by("position")
    other = make_user("max")
    Enrollment.objects.create(learner=other, course=course)
    Enrollment.objects.create(learner=make_user("ivy"), course=course, role="instructor")
    LessonProgress.objects.create(learner=learner, lesson=first, percent=100, completed_at=_ago())
    LessonProgress.objects.create(learner=user, lesson=first, percent=100, completed_at=_ago())
    Confusion.objects.create(learner=learner, lesson=second)
    Confusion.objects.create(learner=other, lesson=second)
    Question.objects.create(learner=learner, lesson=first, text="open?")
    Question.objects.create(learner=other, lesson=second, text="hidden", hidden_at=_ago())
    resolved = Confusion.objects.create(learner=other, lesson=first)
    Confusion.objects.filter(pk=resolved.pk).update(
        created_at=_ago(minutes=10), resolved_at=_ago(minutes=9)
    )
    answered = Question.objects.create(learner=other, lesson=first, text="done")
    Question.objects.filter(pk=answered.pk).update(
        created_at=_ago(minutes=10), answered_at=_ago(minutes=5)
    )
    numbers = course_analytics(course=course)
    assert numbers["enrolled"] == 2 and numbers["lessons"] == 2
    assert numbers["completions"] == 1  # the owner's own progress is not a learner's
    assert numbers["completion_rate"] == 0.25
    assert numbers["struggling"] == [
        {"lesson_id": second.pk, "title": "Loops", "open_confusions": 2, "open_questions": 0},
        {"lesson_id": first.pk, "title": "Variables", "open_confusions": 0, "open_questions": 1},
    ]
    times = numbers["response_time"]
    assert times["samples"] == 2
    assert times["p50_seconds"] == pytest.approx(60, abs=2)
    assert times["p90_seconds"] == pytest.approx(300, abs=2)


def test_the_query_count_does_not_grow_with_the_course(course, learner, make_user):
    """Same number of queries for 2 lessons and 1 learner as for 12 lessons and 11."""

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            course_analytics(course=course)
        return len(queries)

    small = count()
    module = Module.objects.create(course=course, position=1, title="More")
    for position in range(10):
        lesson = Lesson.objects.create(course=course, module=module, position=position, title="L")
        person = make_user(f"p{position}")
        Enrollment.objects.create(learner=person, course=course)
        Confusion.objects.create(learner=person, lesson=lesson)
        Question.objects.create(learner=person, lesson=lesson, text="?", answered_at=_ago())
        LessonProgress.objects.create(learner=person, lesson=lesson, completed_at=_ago())
    assert count() == small <= 8


async def signed_in(user) -> AsyncClient:
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def test_the_api_gives_instructors_the_numbers_with_who_is_active_now(
    events, user, learner, other_user, course, lesson
):
    """Instructors: 200 with active_now from presence; learners 403; outsiders 404."""
    teacher, lea, bob = [await signed_in(who) for who in (user, learner, other_user)]
    url = f"/api/courses/{course.pk}/analytics"
    body = (await teacher.get(url)).json()
    assert (body["enrolled"], body["active_now"], body["completion_rate"]) == (1, 0, 0.0)
    viewer = await events(learner)
    await viewer.subscribe(f"lesson:{lesson.pk}")
    assert (await teacher.get(url)).json()["active_now"] == 1
    refused = await lea.get(url)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    hidden = await bob.get(url)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    assert (await bob.get("/api/courses/999999/analytics")).status_code == 404


async def test_analytics_are_live_in_the_instructor_and_course_rooms(
    events, user, learner, course, lesson
):
    """The course snapshot holds them for instructors only; a learner arriving changes
    active_now; a confusion changes the struggling lessons."""
    teacher = await events(user)
    await teacher.subscribe(f"instructor:{user.pk}")
    snapshot = (await teacher.subscribe(f"course:{course.pk}"))["snapshot"]
    assert snapshot["analytics"]["active_now"] == 0 and snapshot["analytics"]["enrolled"] == 1
    lea = await events(learner)
    assert (await lea.subscribe(f"course:{course.pk}"))["snapshot"]["analytics"] is None
    seen = []  # the teacher's own arrival (0), then the learner's (1)
    while 1 not in seen:
        payload = (await teacher.events_until("course_analytics", "update"))[-1]["payload"]
        assert set(payload) == {"course_id", "active_now"}
        seen.append(payload["active_now"])
    assert seen[-1] == 1
    await lea.send(type="confusion", lesson_id=lesson.pk, note="lost")
    payload = {}
    while "struggling" not in payload:
        payload = (await teacher.events_until("course_analytics", "update"))[-1]["payload"]
    assert payload["struggling"][0]["lesson_id"] == lesson.pk
    assert payload["struggling"][0]["open_confusions"] == 1
