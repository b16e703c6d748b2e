"""Nothing stays `generating` for ever: jobs whose worker died are requeued or failed.

A running job's lease is renewed every `JOB_HEARTBEAT_SECONDS`; one not renewed for
`JOB_LEASE_SECONDS` belongs to a worker that died (SIGKILL, OOM, a lost machine). The sweep gives
it back to the queue while it has attempts left, else fails it and its lesson with a readable
error. A queued job whose broker message was lost (the file broker loses the message a killed
worker held) is sent again. Every step is a conditional UPDATE, so sweeps running at once in
several processes, and a late worker, never double anything.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ai_chat.services.conversations import message_interrupt
from jobs.models import LessonJob
from jobs.services.lifecycle import job_fail
from jobs.services.queue import job_enqueue

logger = logging.getLogger(__name__)


def jobs_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Requeue or fail jobs with expired leases; resend stale queued jobs. Returns counts."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    expired = LessonJob.objects.filter(status=LessonJob.Status.RUNNING, lease_expires_at__lt=now)
    for job in expired.order_by("pk")[:500]:
        outcome = _recover(job=job, now=now)
        if outcome:
            counts[outcome] += 1
    stale_before = now - dt.timedelta(seconds=settings.JOB_QUEUED_RESEND_SECONDS)
    stale = LessonJob.objects.filter(status=LessonJob.Status.QUEUED, updated_at__lt=stale_before)
    for job in stale.order_by("pk")[:500]:
        with transaction.atomic():
            if LessonJob.objects.filter(pk=job.pk, updated_at=job.updated_at).update(
                updated_at=now
            ):
                job_enqueue(job=job)
                counts["resent"] += 1
    if any(counts.values()):
        logger.warning("job sweep: %s", counts)
    return counts


def _recover(*, job: LessonJob, now: dt.datetime) -> str:
    _interrupt_message(job=job)
    if job.attempts < settings.JOB_MAX_ATTEMPTS:
        with transaction.atomic():
            taken = LessonJob.objects.filter(
                pk=job.pk, lease_token=job.lease_token, status=LessonJob.Status.RUNNING
            ).update(
                status=LessonJob.Status.QUEUED,
                lease_token="",
                lease_expires_at=None,
                error_code="worker_lost",
                error_message="The worker running this job stopped; it was queued again.",
                updated_at=now,
                attempts=F("attempts"),
            )
            if taken:
                job_enqueue(job=job)
                return "requeued"
        return ""
    message = (
        f"The worker generating this lesson stopped {job.attempts} times; "
        "it was not generated. Try again."
    )
    failed = job_fail(lease=None, job_id=job.pk, code="worker_lost", message=message)
    return "failed" if failed else ""


def _interrupt_message(*, job: LessonJob) -> None:
    """The dead attempt's message will never end by itself: mark it `interrupted`, and give
    the tokens it reserved back to its user's daily budget (as a dead web process's are)."""
    if job.message_id is None:
        return
    message_interrupt(
        message_id=job.message_id, error="The worker running this generation stopped."
    )
