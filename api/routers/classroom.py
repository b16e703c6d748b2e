"""`/api/lessons/{id}/questions` and `/api/courses/{id}/analytics`: the classroom's reads.

Questions are asked and answered on `/ws/events/` (`ask_question`, `answer_question`); here a
client lists a lesson's questions page by page, and an instructor reads a course's numbers.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from ninja import Query, Router

from api.auth import ApiRequest
from api.errors import Forbidden, NotFound
from api.pagination import paginate
from api.schemas import ErrorOut, PageOut, PageQuery
from learning.analytics import course_active_now, course_analytics, course_rooms_and_learners
from learning.payloads import question_payload
from learning.questions import questions_of_lesson
from learning.selectors import course_get_viewable, course_is_instructor, lesson_get_viewable
from learning.wire import CourseAnalytics, QuestionItem
from realtime.runtime import realtime_service

router = Router(tags=["classroom"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class QuestionPageOut(PageOut):
    items: list[QuestionItem]


def _lesson_questions(*, user: Any, lesson_id: int, query: PageQuery) -> dict[str, Any]:
    lesson = lesson_get_viewable(user=user, lesson_id=lesson_id)
    if lesson is None:
        raise NotFound("No such lesson.")
    questions, page = paginate(questions_of_lesson(lesson_id=lesson.pk), query)
    return {"items": [question_payload(q) for q in questions], **page}


def _course_numbers(*, user: Any, course_id: int) -> tuple[dict[str, Any], list[str], set[int]]:
    course = course_get_viewable(user=user, course_id=course_id)
    if course is None:
        raise NotFound("No such course.")
    if not course_is_instructor(user=user, course=course):
        raise Forbidden("Only the course's instructors see its analytics.")
    rooms, learners = course_rooms_and_learners(course_id=course.pk)
    return course_analytics(course=course), rooms, learners


@router.get(
    "/lessons/{lesson_id}/questions",
    response={200: QuestionPageOut, **ERRORS},
    summary="A lesson's questions",
)
async def lesson_questions(request: ApiRequest, lesson_id: int, query: Query[PageQuery]) -> Any:
    """The questions asked on the lesson, newest first, each with its answers (oldest first);
    for anyone who may view the course. Hidden ones (moderated) are left out."""
    return await database_sync_to_async(_lesson_questions)(
        user=request.auth, lesson_id=lesson_id, query=query
    )


@router.get(
    "/courses/{course_id}/analytics",
    response={200: CourseAnalytics, **ERRORS},
    summary="A course's analytics",
)
async def course_analytics_get(request: ApiRequest, course_id: int) -> Any:
    """Completion rate, learners active now, struggling lessons and response times; for the
    course's instructors and staff (its learners: 403)."""
    numbers, rooms, learners = await database_sync_to_async(_course_numbers)(
        user=request.auth, course_id=course_id
    )
    presence = (await realtime_service()).presence
    active = await course_active_now(rooms=rooms, learners=learners, presence=presence)
    return {**numbers, "active_now": active}
