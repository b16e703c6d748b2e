"""Two requests at once, from two threads with their own connections: one generation."""

import threading
from functools import partial

import pytest
from django.db import close_old_connections, connection

from jobs.models import LessonJob
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from lessons.models import Lesson

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*calls):
    """Run the calls in threads released at the same moment; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("rounds", [5])
def test_two_users_clicking_at_once_queue_one_job(user, learner, course, rounds):
    """Needs real row locks: in-memory SQLite (the test database) refuses the second writer."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): in-memory SQLite refuses concurrent writers")
    for n in range(rounds):
        lesson = Lesson.objects.create(course=course, position=10 + n, title=f"Race {n}")
        results = _together(
            partial(lesson_generate_request, user=user, lesson_id=lesson.pk, force=False),
            partial(lesson_generate_request, user=learner, lesson_id=lesson.pk, force=False),
        )
        assert not any(isinstance(r, Exception) for r in results), results
        assert sorted(r.queued for r in results) == [False, True]
        assert len({r.job.pk for r in results}) == 1
        assert LessonJob.objects.filter(lesson=lesson).count() == 1


@pytest.mark.postgres
def test_a_task_delivered_twice_at_once_generates_once(user, lesson):
    """Needs real row locks, as above (test_run.py covers a second delivery one after another)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): in-memory SQLite refuses concurrent writers")
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    results = _together(lambda: job_run(job_id=job.pk), lambda: job_run(job_id=job.pk))
    assert sorted(results) == ["skipped", "succeeded"]
    from ai_chat.models import AIMessage

    assert AIMessage.objects.filter(role="assistant").count() == 1
