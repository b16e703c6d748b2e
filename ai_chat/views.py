"""The playground: a staff-only page to try every AI endpoint over its WebSocket, and the
events panel (`/ws/events/`), which any signed-in user may open at `/events/`."""

from functools import wraps
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from ai_chat.kinds import KINDS, object_types, socket_kind_names
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
    for name in socket_kind_names():
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
            # Known server-side, so the offline banner shows before any generation.
            "offline": settings.AI_PROVIDER == "offline",
            "admin_urls": admin_change_urls(),
        },
    )


ID_MARK = "__id__"


def admin_change_urls() -> dict[str, str]:
    """Each saved object type's admin change URL, with `__id__` where the row's id goes. The
    model of an object type is the one named like it (`quiz_question`: QuizQuestion)."""
    models = {model._meta.model_name: model for model in apps.get_models()}
    urls = {}
    for object_type in object_types():
        model = models.get(object_type.replace("_", ""))
        if model is None:
            continue
        meta = model._meta
        try:
            urls[object_type] = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[ID_MARK]
            )
        except NoReverseMatch:  # not in the admin: the playground shows it without a link
            continue
    return urls


@login_required
def events(request: HttpRequest) -> HttpResponse:
    """Called for `/events/`: the events panel and the learner view, for any signed-in user."""
    return render(request, "ai_chat/events.html", {"first_lesson_id": _first_lesson_id(request)})


def _first_lesson_id(request: HttpRequest) -> int | None:
    """A lesson this user may view, to prefill the learner view; None when there is none."""
    lessons = Lesson.objects.filter(course__in=course_viewable_by(user=request.user))
    return lessons.order_by("pk").values_list("pk", flat=True).first()
