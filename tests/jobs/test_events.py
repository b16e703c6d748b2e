"""A job's lesson transitions are told once each: the lesson and course rooms by `lessons`'
signal, the asker's room by the job, every payload naming the job."""

import pytest

from jobs.services.lifecycle import job_cancel
from jobs.services.requests import lesson_generate_request
from realtime import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """The events sent after commit, as (room, event, action, payload)."""
    events: list[tuple[str, str, str, dict]] = []

    def record(event: publish.Event) -> None:
        events.append((event.room.name, event.event, event.action, event.payload))

    monkeypatch.setattr(publish, "send_now", record)
    return events


def test_a_request_tells_each_room_once_that_the_lesson_is_generating(
    learner, lesson, published, django_capture_on_commit_callbacks
):
    """lesson:{id}, course:{id} and the asker's user:{id}: one `generating` each, with the job."""
    with django_capture_on_commit_callbacks(execute=True):
        job = lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False).job
    generation = [(room, p["generation_status"], p["job_id"]) for room, e, _, p in published]
    assert sorted(generation) == sorted(
        [
            (f"lesson:{lesson.pk}", "generating", job.pk),
            (f"course:{lesson.course_id}", "generating", job.pk),
            (f"user:{learner.pk}", "generating", job.pk),
        ]
    )


def test_a_cancel_tells_the_rooms_the_lesson_is_pending_again(
    learner, lesson, published, django_capture_on_commit_callbacks
):
    """Cancelling the job moves the lesson back to `pending`: told once per room."""
    job = lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False).job
    with django_capture_on_commit_callbacks(execute=True):
        assert job_cancel(job=job)
    rooms = [room for room, _, _, p in published if p["generation_status"] == "pending"]
    assert sorted(rooms) == sorted(
        [f"lesson:{lesson.pk}", f"course:{lesson.course_id}", f"user:{learner.pk}"]
    )
