"""A job's life: taken under a lease, kept alive by heartbeats, ended exactly once.

Every move is one conditional UPDATE on the job row, keyed on the lease token of the attempt
that holds it: a second delivery of the task, a worker that lost its lease, or a cancel racing
the end can never both win, and a lesson's content is written only by the attempt that ends it.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.models import LessonJob
from jobs.services.events import lesson_generation_announce, lesson_generation_notify
from jobs.services.queue import job_enqueue
from lessons.models import Lesson
from lessons.services import lesson_generation_release

Status = LessonJob.Status


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: str


def _lease_until() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def job_start(*, job_id: int, worker: str) -> Lease | None:
    """Take a job for this delivery: queued, or running on a lease that expired (a dead worker).

    None when it is not this delivery's to run: finished, cancelled, held by a live lease, or out
    of attempts (the sweep fails those).
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = (
        LessonJob.objects.filter(pk=job_id, attempts__lt=settings.JOB_MAX_ATTEMPTS)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING, lease_expires_at__lt=now))
        .update(
            status=Status.RUNNING,
            lease_token=token,
            lease_expires_at=_lease_until(),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            worker=worker[:100],
            started_at=Coalesce(F("started_at"), Value(now)),
            updated_at=now,
        )
    )
    return Lease(job_id, token) if taken else None


def job_heartbeat(*, lease: Lease) -> bool:
    """Extend the lease; False when the job is no longer this attempt's (cancelled, swept)."""
    now = timezone.now()
    return bool(
        LessonJob.objects.filter(
            pk=lease.job_id, lease_token=lease.token, status=Status.RUNNING
        ).update(lease_expires_at=_lease_until(), heartbeat_at=now, updated_at=now)
    )


def job_attach(*, lease: Lease, conversation_id: Any, message_id: Any) -> None:
    """Point the job at the conversation and message it generates into."""
    LessonJob.objects.filter(pk=lease.job_id, lease_token=lease.token).update(
        conversation_id=conversation_id, message_id=message_id
    )


@transaction.atomic
def job_requeue(*, lease: Lease, countdown: float, count_attempt: bool) -> bool:
    """Give the job back to the queue (the user is busy, the provider down) to run later."""
    job = LessonJob.objects.filter(pk=lease.job_id).first()
    released = LessonJob.objects.filter(
        pk=lease.job_id, lease_token=lease.token, status=Status.RUNNING
    ).update(
        status=Status.QUEUED,
        lease_token="",
        lease_expires_at=None,
        attempts=F("attempts") if count_attempt else F("attempts") - 1,
        updated_at=timezone.now(),
    )
    if released and job is not None:
        job_enqueue(job=job, countdown=countdown)
    return bool(released)


@transaction.atomic
def job_fail(*, lease: Lease | None, job_id: int, code: str, message: str) -> bool:
    """End the job `failed` and its lesson `failed` with a sentence a person can read."""
    match = Q(pk=job_id, status__in=LessonJob.ACTIVE)
    if lease is not None:
        match &= Q(lease_token=lease.token)
    ended = LessonJob.objects.filter(match).update(
        status=Status.FAILED,
        error_code=code[:50],
        error_message=message,
        lease_token="",
        lease_expires_at=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not ended:
        return False
    job = LessonJob.objects.select_related("user").get(pk=job_id)
    lesson_generation_release(
        lesson_id=job.lesson_id, status=Lesson.GenerationStatus.FAILED, error=message, job_id=job.pk
    )
    lesson_generation_announce(lesson_id=job.lesson_id, job_id=job.pk, user_id=job.user_id)
    lesson_generation_notify(lesson_id=job.lesson_id, job_id=job.pk, user=job.user)
    return True


@transaction.atomic
def job_cancel(*, job: LessonJob) -> bool:
    """Cancel a queued or running job; its lesson goes back to where it was before the job.

    A running generation notices at its next heartbeat and stops; what it wrote is not applied.
    """
    ended = LessonJob.objects.filter(pk=job.pk, status__in=LessonJob.ACTIVE).update(
        status=Status.CANCELLED,
        error_code="cancelled",
        error_message="Cancelled.",
        lease_token="",
        lease_expires_at=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not ended:
        return False
    lesson_generation_release(lesson_id=job.lesson_id, status=job.previous_status, job_id=job.pk)
    lesson_generation_announce(lesson_id=job.lesson_id, job_id=job.pk, user_id=job.user_id)
    return True
