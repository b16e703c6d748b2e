"""`/api/lessons/{id}/generate`, `/api/modules/{id}/generate`, `/api/jobs/{id}` and its cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from ninja import Router, Status
from pydantic import BaseModel

from ai_chat.exceptions import QuotaExceeded as QuotaSpent
from api import presenters
from api.auth import ApiRequest
from api.errors import ApiError, Conflict, Forbidden, NotFound, QuotaExceeded
from api.schemas import ErrorOut, LessonOut
from jobs.exceptions import JobRefused, NotAllowed, NotVisible, StateConflict
from jobs.models import LessonJob
from jobs.selectors import job_get_visible
from jobs.services.lifecycle import job_cancel
from jobs.services.requests import lesson_generate_request, module_generate_request

router = Router(tags=["generation jobs"])
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    429: ErrorOut,
}


class GenerateIn(BaseModel):
    force: bool = False


class JobErrorOut(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    id: int
    lesson_id: int
    status: str
    attempts: int
    error: JobErrorOut | None
    model: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LessonGenerateOut(BaseModel):
    lesson: LessonOut
    job: JobOut | None


class ModuleGenerateOut(BaseModel):
    jobs: list[JobOut]
    queued: int
    skipped: int


def job_out(job: LessonJob) -> dict[str, Any]:
    failed = job.status in (LessonJob.Status.FAILED, LessonJob.Status.CANCELLED)
    return {
        "id": job.pk,
        "lesson_id": job.lesson_id,
        "status": job.status,
        "attempts": job.attempts,
        "error": {"code": job.error_code, "message": job.error_message} if failed else None,
        "model": job.model,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _api_error(refused: JobRefused | QuotaSpent) -> ApiError:
    """The services' refusals as the API's errors."""
    if isinstance(refused, QuotaSpent):
        return QuotaExceeded(refused.message, retry_after=int(refused.retry_after or 60))
    if isinstance(refused, NotVisible):
        return NotFound(refused.message)
    if isinstance(refused, NotAllowed):
        return Forbidden(refused.message)
    if isinstance(refused, StateConflict):
        return Conflict(refused.message)
    return ApiError(refused.message)


def _lesson_generate(*, user: Any, lesson_id: int, force: bool) -> tuple[int, dict[str, Any]]:
    try:
        outcome = lesson_generate_request(user=user, lesson_id=lesson_id, force=force)
    except (JobRefused, QuotaSpent) as refused:
        raise _api_error(refused) from None
    job = outcome.job
    lesson = presenters.lesson_detail(outcome.lesson, job_id=job.pk if job else None)
    body = {"lesson": lesson, "job": job_out(job) if job else None}
    return (202 if job is not None else 200), body


def _module_generate(*, user: Any, module_id: int, force: bool) -> dict[str, Any]:
    try:
        outcome = module_generate_request(user=user, module_id=module_id, force=force)
    except (JobRefused, QuotaSpent) as refused:
        raise _api_error(refused) from None
    jobs = [job_out(job) for job in outcome.jobs]
    return {"jobs": jobs, "queued": len(jobs), "skipped": len(outcome.skipped)}


def _job(*, user: Any, job_id: int) -> LessonJob:
    job = job_get_visible(user=user, job_id=job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


def _job_cancel(*, user: Any, job_id: int) -> dict[str, Any]:
    job = _job(user=user, job_id=job_id)
    if not job_cancel(job=job):
        job.refresh_from_db()
        if job.status != LessonJob.Status.CANCELLED:
            raise Conflict(f"The job has already {job.status}; there is nothing to cancel.")
    job.refresh_from_db()
    return job_out(job)


@router.post(
    "/lessons/{lesson_id}/generate",
    response={200: LessonGenerateOut, 202: LessonGenerateOut, **ERRORS},
    summary="Generate a lesson's content",
)
async def lesson_generate(request: ApiRequest, lesson_id: int, payload: GenerateIn) -> Any:
    """202 with the job that generates it (a new one, or the one already running); 200 with no
    job when it is already completed. `force` (editors) regenerates a completed lesson."""
    status, body = await database_sync_to_async(_lesson_generate)(
        user=request.auth, lesson_id=lesson_id, force=payload.force
    )
    return Status(status, body)


@router.post(
    "/modules/{module_id}/generate",
    response={202: ModuleGenerateOut, **ERRORS},
    summary="Generate every lesson of a module that needs it",
)
async def module_generate(request: ApiRequest, module_id: int, payload: GenerateIn) -> Any:
    """One job per lesson that is pending or failed (completed too, with `force`); editors only."""
    body = await database_sync_to_async(_module_generate)(
        user=request.auth, module_id=module_id, force=payload.force
    )
    return Status(202, body)


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="A generation job")
async def job_get(request: ApiRequest, job_id: int) -> Any:
    """For who asked for it and the course's editors."""
    job = await database_sync_to_async(_job)(user=request.auth, job_id=job_id)
    return job_out(job)


@router.post("/jobs/{job_id}/cancel", response={200: JobOut, **ERRORS}, summary="Cancel a job")
async def job_cancel_route(request: ApiRequest, job_id: int) -> Any:
    """The job ends `cancelled` and its lesson goes back to what it was; a running generation
    stops at its next heartbeat and writes nothing."""
    return await database_sync_to_async(_job_cancel)(user=request.auth, job_id=job_id)
