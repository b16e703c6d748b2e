"""Nothing stays STARTED for ever: a stage whose worker died is queued again, or failed.

Runs in every worker's sweep thread (`jobs.worker.sweep_register`), beside the job sweep, with
the same settings. Every move is conditional on the lease it found, so sweeps in several
processes and a late worker never double anything.
"""

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ai_chat.models import AIMessage
from imports.kinds import NAMES as IMPORT_KINDS
from imports.models import StageTask
from imports.services import stages
from imports.services.stages import stage_announce, stage_fail

logger = logging.getLogger(__name__)
Status = StageTask.Status


def imports_sweep() -> dict[str, int]:
    """Requeue or fail stages with expired leases; send again stages queued so long ago that
    their broker message was lost (the file broker loses what a killed worker held). Returns
    counts."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale = StageTask.objects.filter(
        status__in=[Status.PENDING, Status.RETRY],
        queued_at__lt=now - dt.timedelta(seconds=settings.JOB_QUEUED_RESEND_SECONDS),
    ).exclude(task_id="")
    for row in stale.order_by("pk")[:100]:
        with transaction.atomic():
            if StageTask.objects.filter(pk=row.pk, queued_at=row.queued_at).update(queued_at=now):
                send = partial(stages.stage_send, row.course_import_id, row.stage, row.task_id, 0.0)
                transaction.on_commit(send)
                counts["resent"] += 1
    expired = StageTask.objects.filter(status=Status.STARTED, lease_expires_at__lt=now)
    for row in expired.order_by("pk")[:100]:
        _interrupt_messages(import_id=row.course_import_id)
        if row.attempts < settings.JOB_MAX_ATTEMPTS:
            with transaction.atomic():
                taken = StageTask.objects.filter(
                    pk=row.pk, lease_token=row.lease_token, status=Status.STARTED
                ).update(
                    status=Status.RETRY,
                    lease_token="",
                    lease_expires_at=None,
                    current_step="The worker running this stage stopped; it was queued again.",
                    queued_at=now,
                )
                if taken:
                    stage_announce(import_id=row.course_import_id, stage=row.stage)
                    send = partial(
                        stages.stage_send, row.course_import_id, row.stage, row.task_id, 0.0
                    )
                    transaction.on_commit(send)
                    counts["requeued"] += 1
            continue
        message = (
            f"The worker running this stage stopped {row.attempts} times; start the stage again."
        )
        if stage_fail(
            import_id=row.course_import_id, stage=row.stage, message=message, token=row.lease_token
        ):
            counts["failed"] += 1
    if any(counts.values()):
        logger.warning("import sweep: %s", counts)
    return counts


def _interrupt_messages(*, import_id: int) -> None:
    """The dead attempt's model calls will never end by themselves: mark them `interrupted`
    (the stage's lease expired, so no live attempt holds it)."""
    AIMessage.objects.filter(
        status=AIMessage.Status.STREAMING,
        conversation__kind__in=IMPORT_KINDS,
        conversation__context__import_id=import_id,
    ).update(
        status=AIMessage.Status.INTERRUPTED,
        error_code="interrupted",
        error="The worker running this import stage stopped.",
        finished_at=timezone.now(),
    )
