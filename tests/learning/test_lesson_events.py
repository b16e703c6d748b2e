"""Lesson generation transitions reach the lesson's and its course's rooms as `generation`
`update`, with the payload of API.md, after the commit."""

import pytest

from lessons.services import lesson_apply_content, lesson_set_generation_status

pytestmark = pytest.mark.django_db


def expected(lesson, status, error="", job_id=None):
    return {
        "lesson_id": lesson.pk,
        "module_id": lesson.module_id,
        "course_id": lesson.course_id,
        "generation_status": status,
        "generation_error": error,
        "job_id": job_id,
    }


def test_a_status_move_is_published_to_the_lesson_and_course_rooms(lesson, sent):
    """`generating` goes to lesson:{id} and course:{id}, and to no other room."""
    with sent():
        lesson_set_generation_status(lesson=lesson, status="generating", job_id=3)
    event = ("generation", "update", expected(lesson, "generating", job_id=3))
    assert sent.to(f"lesson:{lesson.pk}") == [event]
    assert sent.to(f"course:{lesson.course_id}") == [event]
    assert len(sent) == 2


def test_a_failure_is_published_with_its_error(lesson, sent):
    """`failed` carries the sentence for a person."""
    with sent():
        lesson_set_generation_status(lesson=lesson, status="failed", error="No answer.")
    assert sent.to(f"lesson:{lesson.pk}") == [
        ("generation", "update", expected(lesson, "failed", "No answer."))
    ]


def test_applied_content_is_published_as_completed(lesson, sent):
    """Saving generated content is the move to `completed`."""
    with sent():
        lesson_apply_content(lesson=lesson, content={"title": "Vars", "content": "# Vars"})
    assert sent.to(f"course:{lesson.course_id}") == [
        ("generation", "update", expected(lesson, "completed"))
    ]


def test_a_move_back_to_pending_is_published(lesson, sent):
    """A cancelled job's lesson going back to `pending` is a transition too."""
    with sent():
        lesson_set_generation_status(lesson=lesson, status="failed", error="x")
        lesson_set_generation_status(lesson=lesson, status="pending")
    statuses = [p["generation_status"] for _, _, p in sent.to(f"lesson:{lesson.pk}")]
    assert statuses == ["failed", "pending"]
