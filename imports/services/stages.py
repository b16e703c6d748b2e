"""A stage's life: queued, taken under a lease, kept alive, ended exactly once.

Every move is one conditional UPDATE keyed on the stage's task id (queueing) or lease token
(running): a second delivery of the task, a worker that lost its lease, or a stage restarted
while an old run still works can never both write. Each move is an `import` event.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from imports.events import stage_event_publish
from imports.models import CourseImport, StageTask

Status = StageTask.Status
STAGES = (1, 2, 3, 4)


@dataclass(frozen=True)
class StageLease:
    import_id: int
    stage: int
    token: str


def _lease_until() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def stage_rows(*, course_import: CourseImport) -> dict[int, StageTask]:
    """The import's four stage rows, made the first time they are asked for."""
    rows = {row.stage: row for row in course_import.stages.all()}
    for stage in STAGES:
        if stage not in rows:
            rows[stage], _ = StageTask.objects.get_or_create(
                course_import=course_import, stage=stage
            )
    return rows


def stage_is_running(row: StageTask) -> bool:
    """Queued (with a task), started or waiting to retry."""
    return row.status in (Status.STARTED, Status.RETRY) or (
        row.status == Status.PENDING and bool(row.task_id)
    )


def stage_announce(*, import_id: int, stage: int) -> None:
    row = StageTask.objects.select_related("course_import").get(
        course_import_id=import_id, stage=stage
    )
    course_import = row.course_import
    stage_event_publish(task=row, course_id=course_import.course_id, user_id=course_import.user_id)


def _import_status(*, import_id: int, stage: int, state: str) -> None:
    CourseImport.objects.filter(pk=import_id).update(
        status=f"stage{stage}_{state}", updated_at=timezone.now()
    )


_NEVER_STARTED: dict[str, Any] = {
    "status": Status.PENDING,
    "task_id": "",
    "progress": 0,
    "current_step": "",
    "error_message": "",
    "metadata": {},
    "attempts": 0,
    "lease_token": "",
    "lease_expires_at": None,
    "queued_at": None,
    "started_at": None,
    "completed_at": None,
}


def stages_reset(*, course_import: CourseImport, from_stage: int) -> None:
    """Stages `from_stage` and later go back to never started, their results deleted (a
    restart before them, or a new choice they depend on, makes them stale)."""
    from imports.services.clearing import results_clear

    results_clear(course_import=course_import, from_stage=from_stage)
    StageTask.objects.filter(course_import=course_import, stage__gte=from_stage).update(
        **_NEVER_STARTED
    )


@transaction.atomic
def stage_queue(*, course_import: CourseImport, stage: int) -> StageTask:
    """Queue `stage` afresh (the caller checked the order): its results and later stages are
    cleared, and the task is sent once this transaction commits."""
    stage_rows(course_import=course_import)
    stages_reset(course_import=course_import, from_stage=stage)
    task_id = uuid.uuid4().hex
    StageTask.objects.filter(course_import=course_import, stage=stage).update(
        **{
            **_NEVER_STARTED,
            "task_id": task_id,
            "current_step": "Queued...",
            "queued_at": timezone.now(),
        }
    )
    _import_status(import_id=course_import.pk, stage=stage, state="running")
    stage_announce(import_id=course_import.pk, stage=stage)
    transaction.on_commit(partial(stage_send, course_import.pk, stage, task_id, 0.0))
    return StageTask.objects.get(course_import=course_import, stage=stage)


def stage_send(import_id: int, stage: int, task_id: str, countdown: float) -> None:
    """Hand "run stage N of import I" to the broker under the stage's task id."""
    from imports.tasks import STAGE_TASKS

    STAGE_TASKS[stage].apply_async(args=[import_id], task_id=task_id, countdown=countdown or None)


def stage_begin(*, import_id: int, stage: int, task_id: str) -> StageLease | None:
    """Take the stage for this delivery; None when it is not this delivery's to run (another
    task id, already started under a live lease, or ended)."""
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = StageTask.objects.filter(
        course_import_id=import_id,
        stage=stage,
        task_id=task_id,
        status__in=[Status.PENDING, Status.RETRY],
    ).update(
        status=Status.STARTED,
        lease_token=token,
        lease_expires_at=_lease_until(),
        attempts=F("attempts") + 1,
        started_at=now,
        completed_at=None,
        error_message="",
    )
    if not taken:
        return None
    stage_announce(import_id=import_id, stage=stage)
    return StageLease(import_id, stage, token)


def _held(lease: StageLease) -> Any:
    return StageTask.objects.filter(
        course_import_id=lease.import_id,
        stage=lease.stage,
        lease_token=lease.token,
        status=Status.STARTED,
    )


def stage_heartbeat(*, lease: StageLease) -> bool:
    """Renew the lease; False when the stage is no longer this run's (restarted, swept)."""
    return bool(_held(lease).update(lease_expires_at=_lease_until()))


def stage_progress(
    *, lease: StageLease, progress: int, step: str, metadata: dict[str, Any] | None = None
) -> bool:
    """Record a step (and renew the lease); False when the stage is no longer this run's."""
    fields: dict[str, Any] = {
        "progress": max(0, min(100, progress)),
        "current_step": step[:500],
        "lease_expires_at": _lease_until(),
    }
    if metadata is not None:
        fields["metadata"] = metadata
    with transaction.atomic():
        if not _held(lease).update(**fields):
            return False
        stage_announce(import_id=lease.import_id, stage=lease.stage)
    return True


def stage_succeed(*, lease: StageLease, step: str, metadata: dict[str, Any]) -> bool:
    with transaction.atomic():
        done = _held(lease).update(
            status=Status.SUCCESS,
            progress=100,
            current_step=step,
            metadata=metadata,
            lease_token="",
            lease_expires_at=None,
            completed_at=timezone.now(),
        )
        if not done:
            return False
        _import_status(import_id=lease.import_id, stage=lease.stage, state="complete")
        stage_announce(import_id=lease.import_id, stage=lease.stage)
    return True


def stage_fail(*, import_id: int, stage: int, message: str, token: str | None) -> bool:
    """End the stage in FAILURE with a sentence; `token` None is the sweep's (any holder)."""
    rows = StageTask.objects.filter(course_import_id=import_id, stage=stage)
    rows = rows.filter(lease_token=token, status=Status.STARTED) if token else rows
    with transaction.atomic():
        done = rows.exclude(status__in=[Status.SUCCESS, Status.FAILURE]).update(
            status=Status.FAILURE,
            current_step="Failed",
            error_message=message,
            lease_token="",
            lease_expires_at=None,
            completed_at=timezone.now(),
        )
        if not done:
            return False
        _import_status(import_id=import_id, stage=stage, state="failed")
        stage_announce(import_id=import_id, stage=stage)
    return True


def stage_retry(*, lease: StageLease, message: str, countdown: float) -> bool:
    """Give the stage back to the broker for another attempt after `countdown` seconds."""
    with transaction.atomic():
        row = _held(lease).first()
        if row is None:
            return False
        _held(lease).update(
            status=Status.RETRY,
            current_step=f"Retrying: {message}"[:500],
            lease_token="",
            lease_expires_at=None,
            queued_at=timezone.now(),
        )
        stage_announce(import_id=lease.import_id, stage=lease.stage)
        transaction.on_commit(
            partial(stage_send, lease.import_id, lease.stage, row.task_id, countdown)
        )
    return True
