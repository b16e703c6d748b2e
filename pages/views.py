"""The pages people use: the teacher's course page, the learner's home, the lesson page and
the import wizard (a repository's documentation made into a course, `docs/imports.md`).

Each page is rendered from the same selectors as the API, then kept live by a small ES module
on `/ws/events/` (`generation` events to `course:{id}` and `lesson:{id}`). Signing in lands
each person on the page for them (`home`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from api import presenters
from api.views import unknown_path
from learning.selectors import (
    course_enrolled_in,
    course_get_viewable,
    course_roles,
    course_taught_by,
    lesson_get_viewable,
)
from lessons.selectors import lesson_status_counts

EDITOR_ROLES = frozenset({"owner", "staff"})
# Who answers questions (and sees a course's analytics): the course's instructors and staff.
TEACHER_ROLES = frozenset({"owner", "staff", "instructor"})


def _api_route_exists(path: str) -> bool:
    try:
        return resolve(path).func is not unknown_path
    except Resolver404:
        return False


def generation_available() -> bool:
    """Whether the background generation routes are deployed (`POST .../generate`)."""
    return _api_route_exists("/api/lessons/1/generate")


def import_available() -> bool:
    """Whether the repository import routes are deployed (`POST .../analyze-repository`)."""
    return _api_route_exists("/api/courses/1/analyze-repository")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Called for `/` after sign-in: teachers and staff to their courses, learners home."""
    if course_taught_by(user=request.user).exists() or request.user.is_staff:
        return redirect("pages:teach")
    return redirect("pages:learn")


def _course_cards(request: HttpRequest, courses: Any) -> list[dict[str, Any]]:
    courses = list(courses.order_by("-updated_at", "-pk")[:200])
    ids = [course.pk for course in courses]
    roles = course_roles(user=request.user, course_ids=ids)
    counts = lesson_status_counts(course_ids=ids)
    return [
        presenters.course_summary(course, role=roles[course.pk], counts=counts[course.pk])
        for course in courses
    ]


def _course_outline(request: HttpRequest, course_id: int) -> dict[str, Any]:
    course = course_get_viewable(user=request.user, course_id=course_id)
    if course is None:
        raise Http404("No such course.")
    role = course_roles(user=request.user, course_ids=[course.pk])[course.pk]
    outline = presenters.course_detail(course, role=role)
    outline["can_edit"] = role in EDITOR_ROLES
    return outline


@login_required
def teach(request: HttpRequest, course_id: int | None = None) -> HttpResponse:
    """The teacher's courses, and one course's modules and lessons with live status."""
    cards = _course_cards(request, course_taught_by(user=request.user))
    if course_id is None and cards:
        course_id = cards[0]["id"]
    outline = _course_outline(request, course_id) if course_id is not None else None
    context = {
        "cards": cards,
        "course": outline,
        "generation_available": generation_available(),
        "nav": "teach",
    }
    return render(request, "pages/teach.html", context)


@login_required
def learn(request: HttpRequest) -> HttpResponse:
    """The learner's home: the courses they are enrolled in, each with its lessons."""
    courses = [
        _course_outline(request, card["id"])
        for card in _course_cards(request, course_enrolled_in(user=request.user))
    ]
    context = {
        "courses": courses,
        "teaches": course_taught_by(user=request.user).exists(),
        "nav": "learn",
    }
    return render(request, "pages/learn.html", context)


@login_required
def lesson(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """One lesson, rendered from sanitised markdown; a pending one is generated on opening."""
    found = lesson_get_viewable(user=request.user, lesson_id=lesson_id)
    if found is None:
        raise Http404("No such lesson.")
    role = course_roles(user=request.user, course_ids=[found.course_id])[found.course_id]
    context = {
        "lesson": presenters.lesson_detail(found),
        "course": found.course,
        "module": found.module,
        "can_edit": role in EDITOR_ROLES,
        "can_answer": role in TEACHER_ROLES,
        "generation_available": generation_available(),
        "nav": "teach" if role in EDITOR_ROLES else "learn",
    }
    return render(request, "pages/lesson.html", context)


@login_required
def import_wizard(request: HttpRequest, course_id: int | None = None) -> HttpResponse:
    """The import wizard: a repository's documentation into a course, stage by stage, for a
    new draft course or one the instructor may edit (others: 404, learners: 403)."""
    cards = _course_cards(request, course_taught_by(user=request.user))
    editable = [card for card in cards if card["role"] in EDITOR_ROLES]
    course = None
    if course_id is not None:
        course = _course_outline(request, course_id)
        if not course["can_edit"]:
            raise PermissionDenied("Only the course's owner or staff can import into it.")
    context = {
        "courses": editable,
        "course": course,
        "import_available": import_available(),
        # Without Redis the channel layer is this process's: a worker's events never arrive.
        "events_shared": bool(settings.REDIS_URL),
        "nav": "teach",
    }
    return render(request, "pages/import.html", context)


# Google's search suggestions are its HTML, inline <style> included, and must be shown as Google
# renders them. They are served as their own document, framed by the lesson page in a sandboxed
# iframe: no script may run in it at all, its inline style is allowed there only (the pages'
# own policy stays nonce-only), the sandbox gives it an opaque origin (no cookies, no reach into
# the page), and its links open in a new tab. A `srcdoc` frame would inherit the page's policy,
# which blocks that inline style, unless the whole page allowed inline styles.
SUGGESTIONS_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["https:", "data:"],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}


@login_required
@xframe_options_sameorigin
@csp_override(SUGGESTIONS_CSP)
def lesson_search_suggestions(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The lesson's Google Search suggestions (GEMINI_GROUNDING), for the lesson page's frame."""
    found = lesson_get_viewable(user=request.user, lesson_id=lesson_id)
    if found is None or not found.search_suggestions:
        raise Http404("No search suggestions for this lesson.")
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer"><base target="_blank">'
        f"<title>Google Search suggestions</title></head><body>{found.search_suggestions}"
        "</body></html>"
    )
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Referrer-Policy"] = "no-referrer"
    return response
