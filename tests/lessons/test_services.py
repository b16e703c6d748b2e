"""Lesson services: generated content, generation status moves, and the signal each move
sends once its transaction commits."""

import pytest
from django.db import IntegrityError, transaction

from lessons.models import Lesson
from lessons.services import (
    lesson_apply_content,
    lesson_generation_claim,
    lesson_generation_release,
    lesson_set_generation_status,
)
from lessons.signals import GenerationChange, lesson_generation_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(django_capture_on_commit_callbacks):
    """`with changes() as seen:` the GenerationChanges sent when the block's callbacks run."""
    seen: list[GenerationChange] = []

    def receive(sender, *, change, **kwargs):
        seen.append(change)

    lesson_generation_changed.connect(receive, dispatch_uid="test-receiver")

    class Capture:
        def __call__(self):
            return django_capture_on_commit_callbacks(execute=True)

        def __iter__(self):
            return iter(seen)

    yield Capture()
    lesson_generation_changed.disconnect(dispatch_uid="test-receiver")


def test_lesson_apply_content_marks_generation_completed(lesson):
    """Applying content writes the fields and moves the status to completed."""
    lesson_set_generation_status(lesson=lesson, status="failed", error="timeout")
    lesson_apply_content(
        lesson=lesson,
        content={
            "title": "Variables",
            "content": "# Vars",
            "estimated_minutes": 30,
            "key_terms": [],
        },
    )
    lesson.refresh_from_db()
    assert lesson.content == "# Vars" and lesson.generation_status == "completed"
    assert lesson.generation_error == ""


def test_lesson_generation_status_refuses_unknown_values(lesson):
    """An unknown generation status is refused before it reaches the database."""
    with pytest.raises(ValueError):
        lesson_set_generation_status(lesson=lesson, status="exploded")


def test_database_refuses_invalid_choices(lesson):
    """Check constraints hold even when the ORM's validation is bypassed."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(generation_status="exploded")


def test_each_status_move_sends_the_lesson_as_it_was_moved(lesson, changes):
    """pending -> generating -> failed -> pending: one change per move, with its values."""
    with changes():
        lesson_set_generation_status(lesson=lesson, status="generating", job_id=7)
        lesson_set_generation_status(lesson=lesson, status="failed", error="The model timed out.")
        lesson_set_generation_status(lesson=lesson, status="pending", error="ignored")
    assert [(c.generation_status, c.generation_error, c.job_id) for c in changes] == [
        ("generating", "", 7),
        ("failed", "The model timed out.", None),
        ("pending", "", None),
    ]
    assert {(c.lesson_id, c.module_id, c.course_id) for c in changes} == {
        (lesson.pk, lesson.module_id, lesson.course_id)
    }


def test_applying_content_sends_completed(lesson, changes):
    """Applied content is a move to `completed`, sent like any other."""
    with changes():
        lesson_apply_content(lesson=lesson, content={"content": "# Vars"}, job_id="j-1")
    [change] = changes
    assert (change.generation_status, change.generation_error, change.job_id) == (
        "completed",
        "",
        "j-1",
    )


def test_nothing_is_sent_before_the_commit_or_after_a_rollback(lesson, changes):
    """The signal waits for the commit; a move rolled back is never told."""
    with changes():
        with pytest.raises(RuntimeError), transaction.atomic():
            lesson_set_generation_status(lesson=lesson, status="generating")
            assert list(changes) == []
            raise RuntimeError("rolled back")
    assert list(changes) == []


def test_a_claim_sends_generating_with_the_job_named_after_it(lesson, changes):
    """A claim is a transition; its caller names the job it then creates, before the commit."""
    with changes():
        claimed = lesson_generation_claim(lesson_id=lesson.pk, statuses=["pending"])
        assert claimed is not None
        claimed.job_id = 42
    [change] = changes
    assert (change.generation_status, change.job_id) == ("generating", 42)


def test_a_claim_or_release_that_changes_nothing_sends_nothing(lesson, changes):
    """A lesson not in the claimed statuses, or not generating, is left alone and untold."""
    with changes():
        assert lesson_generation_claim(lesson_id=lesson.pk, statuses=["failed"]) is None
        assert not lesson_generation_release(lesson_id=lesson.pk, status="failed")
    assert list(changes) == []


def test_a_release_sends_the_status_it_moved_to(lesson, changes):
    """A failed or cancelled job's release is a transition with its error and job."""
    with changes():
        lesson_generation_claim(lesson_id=lesson.pk, statuses=["pending"])
        lesson_generation_release(lesson_id=lesson.pk, status="failed", error="No.", job_id=9)
    assert [(c.generation_status, c.generation_error, c.job_id) for c in changes] == [
        ("generating", "", None),
        ("failed", "No.", 9),
    ]
