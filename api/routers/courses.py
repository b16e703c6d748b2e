"""`/api/courses`: the courses a caller may view, one with its modules, and new drafts."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from ninja import Query, Router, Status

from api import presenters
from api.auth import ApiRequest
from api.errors import NotFound
from api.pagination import paginate
from api.schemas import CourseIn, CourseOut, CoursePageOut, ErrorOut, PageQuery
from courses.services import course_create
from learning.selectors import course_get_viewable, course_roles, course_viewable_by
from lessons.selectors import lesson_status_counts

router = Router(tags=["courses"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut}


def _course_page(*, user: Any, query: PageQuery) -> dict[str, Any]:
    courses, page = paginate(course_viewable_by(user=user).order_by("-updated_at", "-pk"), query)
    ids = [course.pk for course in courses]
    roles = course_roles(user=user, course_ids=ids)
    counts = lesson_status_counts(course_ids=ids)
    items = [
        presenters.course_summary(course, role=roles[course.pk], counts=counts[course.pk])
        for course in courses
    ]
    return {"items": items, **page}


def _course_detail(*, user: Any, course_id: int) -> dict[str, Any]:
    course = course_get_viewable(user=user, course_id=course_id)
    if course is None:
        raise NotFound("No such course.")
    role = course_roles(user=user, course_ids=[course.pk])[course.pk]
    return presenters.course_detail(course, role=role)


def _course_create(*, user: Any, payload: CourseIn) -> dict[str, Any]:
    course = course_create(owner=user, title=payload.title, description=payload.description)
    return presenters.course_detail(course, role="owner")


@router.get("/courses", response={200: CoursePageOut, **ERRORS}, summary="Courses I may view")
async def course_list(request: ApiRequest, query: Query[PageQuery]) -> Any:
    """Owned, enrolled in, or (staff) every course, newest first, with lesson counts."""
    return await database_sync_to_async(_course_page)(user=request.auth, query=query)


@router.post("/courses", response={201: CourseOut, **ERRORS}, summary="Create a draft course")
async def course_new(request: ApiRequest, payload: CourseIn) -> Any:
    """A draft course the caller owns, with no modules yet (an import needs one)."""
    created = await database_sync_to_async(_course_create)(user=request.auth, payload=payload)
    return Status(201, created)


@router.get(
    "/courses/{course_id}", response={200: CourseOut, **ERRORS, 404: ErrorOut}, summary="A course"
)
async def course_get(request: ApiRequest, course_id: int) -> Any:
    """The course with its modules and their lessons' titles and generation status."""
    return await database_sync_to_async(_course_detail)(user=request.auth, course_id=course_id)
