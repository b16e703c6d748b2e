"""Running a job: the lesson generated through the stored-conversation path, exactly once."""

import pytest

from ai_chat.models import AIConversation, AIGeneratedObject, AIMessage, AIResultSave
from jobs.models import LessonJob
from jobs.services.lifecycle import job_cancel, job_start
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from lessons.models import Lesson, LessonRevision
from realtime.models import Notification
from tests.fakes.gemini_server import Reply, placeholder_reply

pytestmark = pytest.mark.django_db(transaction=True)


def queue(user, lesson, *, force=False):
    return lesson_generate_request(user=user, lesson_id=lesson.pk, force=force).job


def test_learner_job_generates_the_lesson_with_provenance(learner, lesson):
    job = queue(learner, lesson)
    assert job_run(job_id=job.pk) == "succeeded"
    lesson.refresh_from_db()
    job.refresh_from_db()
    assert lesson.generation_status == "completed"
    assert "placeholder content" in lesson.content
    assert job.status == "succeeded" and job.attempts == 1
    assert job.model == "offline-placeholder"
    assert job.started_at and job.finished_at and not job.lease_token
    conversation = AIConversation.objects.get(pk=job.conversation_id)
    assert conversation.user == learner and conversation.target == lesson
    message = AIMessage.objects.get(pk=job.message_id)
    assert message.status == "completed" and message.prompt_version == "lesson-2026-11-22"
    assert message.output_tokens > 0
    saved = AIGeneratedObject.objects.get(message=message)
    assert (saved.object_type, saved.object_id) == ("lesson", lesson.pk)
    assert Notification.objects.get(user=learner).title.startswith("Lesson ready")


def test_a_second_delivery_of_a_finished_job_does_nothing(user, lesson):
    job = queue(user, lesson)
    assert job_run(job_id=job.pk) == "succeeded"
    assert job_run(job_id=job.pk) == "skipped"
    assert AIMessage.objects.filter(role="assistant").count() == 1
    assert AIResultSave.objects.count() == 1


def test_a_delivery_while_another_holds_a_live_lease_is_skipped(user, lesson):
    job = queue(user, lesson)
    assert job_start(job_id=job.pk, worker="w1") is not None
    assert job_start(job_id=job.pk, worker="w2") is None
    assert job_run(job_id=job.pk) == "skipped"


def test_force_keeps_the_replaced_content_as_a_revision(user, lesson):
    assert job_run(job_id=queue(user, lesson).pk) == "succeeded"
    Lesson.objects.filter(pk=lesson.pk).update(content="# Edited by the instructor")
    job = queue(user, lesson, force=True)
    assert job_run(job_id=job.pk) == "succeeded"
    revision = LessonRevision.objects.get(lesson=lesson)
    assert revision.content == "# Edited by the instructor"
    assert revision.edited
    lesson.refresh_from_db()
    assert "placeholder content" in lesson.content


def test_a_job_cancelled_before_it_runs_never_generates(user, lesson):
    job = queue(user, lesson)
    assert job_cancel(job=job)
    lesson.refresh_from_db()
    assert lesson.generation_status == "pending"
    assert job_run(job_id=job.pk) == "skipped"
    assert LessonJob.objects.get().status == "cancelled"
    assert not AIMessage.objects.exists()


@pytest.mark.postgres
def test_a_running_job_cancelled_stops_and_writes_nothing(user, lesson, settings):
    """Two threads write at once: the shared-cache in-memory SQLite test database refuses the
    second writer instead of waiting, so this runs on PostgreSQL (the worker test covers SQLite
    files, where writers wait)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): in-memory SQLite refuses concurrent writers")
    import threading

    settings.OFFLINE_CHUNK_DELAY_MS = 20
    settings.OFFLINE_CHUNK_SIZE = 2  # about eight seconds of streaming: the cancel comes first
    job = queue(user, lesson)
    result: list[str] = []
    runner = threading.Thread(target=lambda: result.append(job_run(job_id=job.pk)))
    runner.start()
    _wait_for(lambda: LessonJob.objects.filter(pk=job.pk, message__isnull=False).exists())
    job.refresh_from_db()
    assert job_cancel(job=job)
    runner.join(timeout=30)
    assert result == ["cancelled"]
    lesson.refresh_from_db()
    assert lesson.generation_status == "pending" and lesson.content == ""
    assert AIMessage.objects.get(pk=job.message_id).status == "cancelled"


def test_provider_down_is_retried_then_fails_readably(
    user, lesson, settings, gemini_server, monkeypatch
):
    settings.JOB_MAX_ATTEMPTS = 2
    gemini_server.default = lambda _body: Reply.http_error(503, "overloaded")
    monkeypatch.setattr("jobs.generation.build_agent", lambda *_: gemini_server.make_agent())
    job = queue(user, lesson)
    assert job_run(job_id=job.pk) == "retrying"
    assert LessonJob.objects.get().status == "queued"
    lesson.refresh_from_db()
    assert lesson.generation_status == "generating"
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == ("failed", 2, "ai_unavailable")
    assert lesson.generation_status == "failed"
    assert "unavailable" in lesson.generation_error and "Traceback" not in lesson.generation_error
    assert Notification.objects.get(user=user).body == lesson.generation_error
    # Once the provider is back, asking again generates it.
    gemini_server.default = placeholder_reply
    retry = queue(user, lesson)
    assert job_run(job_id=retry.pk) == "succeeded"


def test_a_user_at_their_concurrency_limit_waits_without_spending_an_attempt(
    user, lesson, course, settings
):
    settings.MAX_CONCURRENT_GENERATIONS = 1
    busy = AIConversation.objects.create(user=user, kind="chat")
    AIMessage.objects.create(conversation=busy, role="assistant", status="streaming")
    job = queue(user, lesson)
    assert job_run(job_id=job.pk) == "busy"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 0)


def test_budget_spent_by_the_time_the_job_runs_fails_it(user, lesson, settings):
    job = queue(user, lesson)
    settings.DAILY_TOKEN_BUDGET = 10
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert job.error_code == "quota_exceeded"
    assert lesson.generation_status == "failed" and "budget" in lesson.generation_error


def _wait_for(condition, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
