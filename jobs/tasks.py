"""Celery tasks: thin, by id, idempotent (delivery is at least once; the job row decides)."""

import logging

from celery import shared_task
from django.conf import settings

from jobs.services.run import job_run
from jobs.services.sweep import jobs_sweep

logger = logging.getLogger(__name__)


@shared_task(
    name="jobs.lesson_job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    # Hard limit above the job's own asyncio deadline, so the job ends itself cleanly first.
    soft_time_limit=settings.JOB_TIME_LIMIT_SECONDS + 30,
    time_limit=settings.JOB_TIME_LIMIT_SECONDS + 60,
)
def lesson_job_run(job_id: int) -> str:
    """Run lesson job `job_id`; a second delivery of a job that runs or ended does nothing."""
    outcome = job_run(job_id=job_id)
    logger.info("lesson job %s: %s", job_id, outcome)
    return outcome


@shared_task(name="jobs.sweep")
def jobs_sweep_task() -> dict[str, int]:
    """Requeue or fail jobs whose worker died (for a beat schedule, if one runs)."""
    return jobs_sweep()
