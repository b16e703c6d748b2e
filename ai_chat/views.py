"""The playground: a staff-only page to try every AI endpoint over its WebSocket, and the
events panel (`/ws/events/`), which any signed-in user may open at `/events/`."""

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ai_chat.kinds import KINDS, kind_names
from learning.selectors import course_viewable_by
from lessons.models import Lesson


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
    """Every kind's endpoint, with its example prompt and a context on rows this user has
    (`context` None and `missing` said when the user has no such row)."""
    endpoints = []
    for name in kind_names():
        kind = KINDS[name]
        example = kind.example(user=user)
        endpoints.append(
            {
                "kind": name,
                "path": kind.path,
                "prompt": example.prompt,
                "context": example.context,
                "missing": example.missing,
            }
        )
    return endpoints


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
