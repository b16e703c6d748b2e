"""The playground: a staff-only page to try every AI endpoint over its WebSocket, and the
events panel (`/ws/events/`), which any signed-in user may open at `/events/`."""

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assessments.models import Assignment
from courses.selectors import course_editable_by
from learning.selectors import course_viewable_by
from lessons.models import Lesson
from lessons.selectors import lesson_editable_by


def staff_required(view: Any) -> Any:
    """Anonymous users go to the sign-in page; signed-in users who are not staff get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("The playground is for staff.")
        return view(request, *args, **kwargs)

    return wrapped


def playground_endpoints(*, user: Any) -> list[dict[str, Any]]:
    """The generation endpoints, each with a prompt and a valid example context for this user."""
    lesson_id = lesson_editable_by(user=user).order_by("pk").values_list("pk", flat=True).first()
    assignment_id = (
        Assignment.objects.filter(course__in=course_editable_by(user=user))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return [
        {
            "kind": "course",
            "path": "/ws/ai/course-generation/",
            "prompt": "An introduction to Java for kids",
            "context": {"age_range": "8-12", "level": "beginner", "category": "programming"},
        },
        {
            "kind": "lesson",
            "path": "/ws/ai/lesson-content/",
            "prompt": "Write this lesson with short examples",
            "context": {"lesson_id": lesson_id or 1},
        },
        {
            "kind": "quiz",
            "path": "/ws/ai/quiz-questions/",
            "prompt": "Check the key ideas of this lesson",
            "context": {
                "lesson_id": lesson_id or 1,
                "question_count": 5,
                "question_types": ["multiple_choice", "true_false"],
            },
        },
        {
            "kind": "assignment",
            "path": "/ws/ai/assignment-questions/",
            "prompt": "Practice questions for this assignment",
            "context": {
                "assignment_id": assignment_id or 1,
                "question_count": 3,
                "question_types": ["short_answer"],
            },
        },
        {
            "kind": "chat",
            "path": "/ws/ai/chat/",
            "prompt": "Explain **loops** in Java with a short example",
            "context": {},
        },
    ]


@staff_required
def playground(request: HttpRequest) -> HttpResponse:
    """Called for `/playground/`: the page; everything else happens over the WebSocket."""
    return render(
        request,
        "ai_chat/playground.html",
        {
            "endpoints": playground_endpoints(user=request.user),
            "first_lesson_id": _first_lesson_id(request),
        },
    )


@login_required
def events(request: HttpRequest) -> HttpResponse:
    """Called for `/events/`: the events panel and the learner view, for any signed-in user."""
    return render(request, "ai_chat/events.html", {"first_lesson_id": _first_lesson_id(request)})


def _first_lesson_id(request: HttpRequest) -> int | None:
    """A lesson this user may view, to prefill the learner view; None when there is none."""
    lessons = Lesson.objects.filter(course__in=course_viewable_by(user=request.user))
    return lessons.order_by("pk").values_list("pk", flat=True).first()
