"""Hand a job to the broker: only its id travels, after the transaction that made it commits."""

import uuid
from functools import partial

from django.db import transaction

from jobs.models import LessonJob


def job_enqueue(*, job: LessonJob, countdown: float = 0) -> None:
    """Send "run job N" once the current transaction commits; its task id is stored now."""
    task_id = uuid.uuid4().hex
    LessonJob.objects.filter(pk=job.pk).update(celery_task_id=task_id)
    job.celery_task_id = task_id
    transaction.on_commit(partial(_send, job.pk, task_id, countdown))


def _send(job_id: int, task_id: str, countdown: float) -> None:
    from jobs.tasks import lesson_job_run

    lesson_job_run.apply_async(args=[job_id], task_id=task_id, countdown=countdown or None)
