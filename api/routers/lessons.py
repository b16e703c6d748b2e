"""`/api/modules/{id}/lessons` and `/api/lessons/{id}`: reads, for whoever may view the course."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from ninja import Query, Router

from api import presenters
from api.auth import ApiRequest
from api.errors import NotFound
from api.pagination import paginate
from api.schemas import ErrorOut, LessonOut, LessonPageOut, PageQuery
from jobs.selectors import job_latest_for_lesson
from learning.selectors import lesson_get_viewable, module_get_viewable

router = Router(tags=["lessons"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _module_lessons(*, user: Any, module_id: int, query: PageQuery) -> dict[str, Any]:
    module = module_get_viewable(user=user, module_id=module_id)
    if module is None:
        raise NotFound("No such module.")
    lessons, page = paginate(module.lessons.order_by("position", "pk"), query)
    return {"items": [presenters.lesson_summary(lesson) for lesson in lessons], **page}


def _lesson_detail(*, user: Any, lesson_id: int) -> dict[str, Any]:
    lesson = lesson_get_viewable(user=user, lesson_id=lesson_id)
    if lesson is None:
        raise NotFound("No such lesson.")
    job = job_latest_for_lesson(lesson_id=lesson.pk)
    return presenters.lesson_detail(lesson, job_id=job.pk if job else None)


@router.get(
    "/modules/{module_id}/lessons",
    response={200: LessonPageOut, **ERRORS},
    summary="A module's lessons",
)
async def module_lessons(request: ApiRequest, module_id: int, query: Query[PageQuery]) -> Any:
    """The module's lessons in order, with their generation status (the plan's
    getLessonsByModule)."""
    return await database_sync_to_async(_module_lessons)(
        user=request.auth, module_id=module_id, query=query
    )


@router.get("/lessons/{lesson_id}", response={200: LessonOut, **ERRORS}, summary="A lesson")
async def lesson_get(request: ApiRequest, lesson_id: int) -> Any:
    """The lesson, its generation state, and its markdown once completed."""
    return await database_sync_to_async(_lesson_detail)(user=request.auth, lesson_id=lesson_id)
