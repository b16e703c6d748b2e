"""Run one delivery of a stage: take it, keep its lease alive, end it exactly once."""

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from ai_chat.services import workers
from imports.exceptions import StageFailed, StageLost, StageRetryable
from imports.models import StageTask
from imports.services.stages import (
    StageLease,
    stage_begin,
    stage_fail,
    stage_heartbeat,
    stage_progress,
    stage_retry,
    stage_succeed,
)

logger = logging.getLogger(__name__)


@dataclass
class StageRun:
    """What a stage's body gets: its lease, and `step` to report progress."""

    lease: StageLease
    lost: threading.Event = field(default_factory=threading.Event)

    def step(self, progress: int, sentence: str) -> None:
        """Record a progress step; raise StageLost when the stage is no longer this run's."""
        if self.lost.is_set() or not stage_progress(
            lease=self.lease, progress=progress, step=sentence
        ):
            raise StageLost()

    def check(self) -> None:
        if self.lost.is_set():
            raise StageLost()


# A stage's body: does the work, returns the final step's sentence and the stage's metadata.
Body = Callable[[StageRun], tuple[str, dict[str, Any]]]


def stage_run(*, import_id: int, stage: int, task_id: str, body: Body) -> str:
    """Run `body` for this delivery of the stage; returns how it ended."""
    lease = stage_begin(import_id=import_id, stage=stage, task_id=task_id)
    if lease is None:
        return "skipped"
    run = StageRun(lease)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(run, stop), daemon=True)
    beat.start()
    try:
        step, metadata = body(run)
        return "succeeded" if stage_succeed(lease=lease, step=step, metadata=metadata) else "lost"
    except StageLost:
        return "lost"
    except StageRetryable as retryable:
        return _retry_or_fail(lease, retryable.message)
    except StageFailed as failed:
        stage_fail(import_id=import_id, stage=stage, message=failed.message, token=lease.token)
        return "failed"
    except Exception:
        reference = uuid.uuid4().hex[:12]
        logger.exception("import %s stage %s failed [ref %s]", import_id, stage, reference)
        message = f"The stage stopped on an internal error (reference {reference})."
        stage_fail(import_id=import_id, stage=stage, message=message, token=lease.token)
        return "failed"
    finally:
        stop.set()
        beat.join(timeout=5)


def _retry_or_fail(lease: StageLease, message: str) -> str:
    attempts = (
        StageTask.objects.filter(course_import_id=lease.import_id, stage=lease.stage)
        .values_list("attempts", flat=True)
        .first()
        or 1
    )
    if attempts < settings.JOB_MAX_ATTEMPTS:
        countdown = settings.JOB_RETRY_BACKOFF_SECONDS * attempts
        stage_retry(lease=lease, message=message, countdown=countdown)
        return "retrying"
    message = f"{message} It failed {attempts} times; start the stage again later."
    stage_fail(import_id=lease.import_id, stage=lease.stage, message=message, token=lease.token)
    return "failed"


def _heartbeat(run: StageRun, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                workers.heartbeat()  # the stage's messages belong to a live process
                held = stage_heartbeat(lease=run.lease)
            except Exception:  # a database blip: the next beat tries again
                logger.warning("stage heartbeat failed", exc_info=True)
                continue
            if not held:
                run.lost.set()
                return
    finally:
        close_old_connections()
