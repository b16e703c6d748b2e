"""One delivery of a job, run by a worker: lease, heartbeat, generation, exactly one end."""

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.exceptions import Busy
from ai_chat.services import workers
from jobs.generation import GenerationOutcome, lesson_generation_run
from jobs.models import LessonJob
from jobs.services.completion import job_succeed
from jobs.services.lifecycle import (
    Lease,
    job_attach,
    job_fail,
    job_heartbeat,
    job_requeue,
    job_start,
)
from sockets.errors import ProtocolError

logger = logging.getLogger(__name__)

# Worth another attempt later: the provider was down or refused for a while.
RETRYABLE = frozenset({"ai_unavailable"})
# A user at their concurrency limit: their job waits this long and tries again.
BUSY_RETRY_SECONDS = 5.0


class _Stopped(Exception):
    """The generation was stopped: `reason` is `lost` (cancelled or taken over) or `timeout`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def job_run(*, job_id: int) -> str:
    """Run one delivery of job `job_id`; return how it ended (for logs, tests and the task)."""
    lease = job_start(job_id=job_id, worker=workers.worker_id())
    if lease is None:
        return "skipped"
    job = LessonJob.objects.select_related("user", "lesson__course", "lesson__module").get(
        pk=job_id
    )
    try:
        outcome = async_to_sync(_generate_leased)(job, lease)
    except _Stopped as stopped:
        if stopped.reason == "timeout":
            limit = settings.JOB_TIME_LIMIT_SECONDS
            job_fail(
                lease=lease,
                job_id=job_id,
                code="timeout",
                message=f"The generation took longer than {limit:g} seconds and was stopped.",
            )
            return "failed"
        return "cancelled"
    except Busy:
        job_requeue(lease=lease, countdown=BUSY_RETRY_SECONDS, count_attempt=False)
        return "busy"
    except ProtocolError as refused:  # quota spent, lesson gone: nothing a retry fixes
        job_fail(lease=lease, job_id=job_id, code=refused.code, message=refused.message)
        return "failed"
    except Exception:
        reference = uuid.uuid4().hex[:12]
        logger.exception("lesson job %s failed [ref %s]", job_id, reference)
        message = f"Internal error (reference {reference})."
        job_fail(lease=lease, job_id=job_id, code="internal_error", message=message)
        return "failed"
    return _finish(job=job, lease=lease, outcome=outcome)


def _finish(*, job: LessonJob, lease: Lease, outcome: GenerationOutcome) -> str:
    if outcome.status == "completed":
        return "succeeded" if job_succeed(lease=lease, outcome=outcome) else "cancelled"
    code = outcome.error_code or "interrupted"
    attempts = LessonJob.objects.values_list("attempts", flat=True).get(pk=job.pk)
    if code in RETRYABLE and attempts < settings.JOB_MAX_ATTEMPTS:
        backoff = settings.JOB_RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1)
        job_requeue(lease=lease, countdown=backoff, count_attempt=True)
        return "retrying"
    message = outcome.error or "The generation stopped before it finished."
    job_fail(lease=lease, job_id=job.pk, code=code, message=message)
    return "failed"


async def _generate_leased(job: LessonJob, lease: Lease) -> GenerationOutcome:
    """Generate while renewing the lease; stop when it is lost or the time limit passes."""

    async def attach(conversation_id: object, message_id: object) -> None:
        await sync_to_async(job_attach)(
            lease=lease, conversation_id=conversation_id, message_id=message_id
        )

    task = asyncio.ensure_future(lesson_generation_run(job=job, on_started=attach))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.JOB_TIME_LIMIT_SECONDS
    reason = ""
    while not task.done():
        await asyncio.wait({task}, timeout=settings.JOB_HEARTBEAT_SECONDS)
        if task.done():
            break
        held = await sync_to_async(job_heartbeat)(lease=lease)
        await database_sync_to_async(workers.heartbeat)()  # the message's process is alive
        if not held or loop.time() >= deadline:
            reason = "lost" if not held else "timeout"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        raise _Stopped(reason or "lost")
    return task.result()
