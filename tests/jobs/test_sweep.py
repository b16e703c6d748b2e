"""A job whose worker died (its lease expired) is requeued, then failed: never stuck."""

import datetime as dt

import pytest
from django.utils import timezone

from ai_chat.models import AIConversation, AIMessage
from jobs.models import LessonJob
from jobs.services.lifecycle import job_heartbeat, job_start
from jobs.services.requests import lesson_generate_request
from jobs.services.sweep import jobs_sweep
from realtime.models import Notification

pytestmark = pytest.mark.django_db


def _die(job_id: int) -> None:
    """The worker holding the job stops renewing its lease."""
    LessonJob.objects.filter(pk=job_id).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def test_a_live_lease_is_left_alone(user, lesson):
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    job_start(job_id=job.pk, worker="w1")
    assert jobs_sweep() == {"requeued": 0, "failed": 0, "resent": 0}
    assert LessonJob.objects.get().status == "running"


def test_an_expired_lease_is_requeued_then_failed_after_the_last_attempt(
    user, lesson, settings, sent, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 2
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    lease = job_start(job_id=job.pk, worker="w1")
    conversation = AIConversation.objects.create(user=user, kind="lesson")
    message = AIMessage.objects.create(
        conversation=conversation, role="assistant", status="streaming"
    )
    LessonJob.objects.filter(pk=job.pk).update(message=message)
    _die(job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep()["requeued"] == 1
    assert sent[-1][0] == job.pk  # given back to the broker
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("queued", "worker_lost")
    assert AIMessage.objects.get(pk=message.pk).status == "interrupted"
    assert not job_heartbeat(lease=lease)  # the dead attempt can never end the job now
    job_start(job_id=job.pk, worker="w2")
    _die(job.pk)
    assert jobs_sweep()["failed"] == 1
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 2)
    assert lesson.generation_status == "failed"
    assert "stopped 2 times" in lesson.generation_error
    assert Notification.objects.filter(user=user).count() == 1


def test_a_queued_job_whose_message_was_lost_is_sent_again(
    user, lesson, settings, sent, django_capture_on_commit_callbacks
):
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    later = timezone.now() + dt.timedelta(seconds=settings.JOB_QUEUED_RESEND_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep(now=later)["resent"] == 1
    assert [job_id for job_id, _ in sent] == [job.pk]


def test_the_sweep_gives_a_dead_attempts_reservation_back(user, lesson, sent):
    """What the killed attempt reserved returns to the day's budget; what it had streamed
    (checkpointed on its message) stays used. A second sweep settles nothing twice."""
    from ai_chat.models import AIDailyUsage
    from ai_chat.services import quota

    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    job_start(job_id=job.pk, worker="w1")
    reservation = quota.quota_reserve(user_id=user.pk, tokens=5000)
    conversation = AIConversation.objects.create(user=user, kind="lesson")
    message = AIMessage.objects.create(
        conversation=conversation,
        role="assistant",
        status="streaming",
        reserved_tokens=reservation.tokens,
        content="x" * 400,  # checkpointed before the worker died: 100 tokens
    )
    LessonJob.objects.filter(pk=job.pk).update(message=message)
    _die(job.pk)
    assert jobs_sweep()["requeued"] == 1
    day = AIDailyUsage.objects.get(user=user)
    assert (day.reserved_tokens, day.used_tokens) == (0, 100)
    message.refresh_from_db()
    assert (message.status, message.reserved_tokens, message.output_tokens) == (
        "interrupted",
        0,
        100,
    )
    _die(job.pk)
    jobs_sweep()
    day.refresh_from_db()
    assert (day.reserved_tokens, day.used_tokens) == (0, 100)
