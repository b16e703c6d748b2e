"""The pages people use: who lands where after signing in, what each page shows, and that
nobody sees a course or lesson that is not theirs."""

import re

import pytest

from learning.models import Enrollment
from lessons.services import lesson_apply_content, lesson_set_generation_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(make_user, course):
    learner = make_user("lea")
    Enrollment.objects.create(learner=learner, course=course)
    return learner


def test_anonymous_visitors_sign_in_first(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.parametrize(
    ("who", "landing"),
    [("user", "/courses/"), ("staff_user", "/courses/"), ("learner", "/learn/")],
)
def test_signing_in_lands_each_person_on_their_page(client, request, course, who, landing):
    """Course owners and staff land on their courses, learners on their home (not a 403)."""
    client.force_login(request.getfixturevalue(who))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_the_course_page_shows_modules_lessons_and_badges(client, user, course, lesson):
    lesson_set_generation_status(lesson=lesson, status="failed", error="The model was down.")
    client.force_login(user)
    html = client.get(f"/courses/{course.pk}/").content.decode()
    assert "Intro to Java" in html and "Basics" in html
    assert re.search(rf'data-lesson-id="{lesson.pk}" data-status="failed"', html)
    assert 'data-action="generate-module"' in html
    assert "/static/pages/course-page.js" in html
    assert "Sign out" in html


def test_generate_buttons_are_disabled_with_a_note_without_generation_routes(
    client, user, course, monkeypatch
):
    monkeypatch.setattr("pages.views.generation_available", lambda: False)
    client.force_login(user)
    html = client.get(f"/courses/{course.pk}/").content.decode()
    assert 'id="generation-note"' in html
    assert re.search(r'data-action="generate"[^>]*disabled', html)


def test_generate_buttons_are_live_when_the_generation_routes_exist(
    client, user, course, monkeypatch
):
    monkeypatch.setattr("pages.views.generation_available", lambda: True)
    client.force_login(user)
    html = client.get(f"/courses/{course.pk}/").content.decode()
    assert 'id="generation-note"' not in html
    assert not re.search(r'data-action="generate"[^>]*disabled', html)
    assert 'data-generation="on"' in html


def test_generation_is_available_exactly_when_the_route_resolves():
    """The pages ask the URL resolver, so they switch on when the jobs routes are deployed."""
    from django.urls import resolve

    from api.views import unknown_path
    from pages.views import generation_available

    routed = resolve("/api/lessons/1/generate").func is not unknown_path
    assert generation_available() is routed


def test_the_learner_home_lists_enrolled_courses_without_edit_buttons(client, learner, course):
    client.force_login(learner)
    html = client.get("/learn/").content.decode()
    assert "Intro to Java" in html and "Variables" in html
    assert 'data-action="generate' not in html
    assert "Sign out" in html


def test_the_lesson_page_carries_the_lesson_as_json_for_the_renderer(client, learner, lesson):
    lesson_apply_content(lesson=lesson, content={"content": "# Boxes\n\n<script>x</script>"})
    client.force_login(learner)
    html = client.get(f"/lessons/{lesson.pk}/").content.decode()
    assert '<script id="lesson-data" type="application/json">' in html
    assert "<script>x</script>" not in html  # escaped into the JSON, rendered as text by JS
    assert "/static/pages/lesson-page.js" in html


def test_an_outsider_gets_404_for_a_course_or_lesson_page(client, other_user, course, lesson):
    client.force_login(other_user)
    assert client.get(f"/courses/{course.pk}/").status_code == 404
    assert client.get(f"/lessons/{lesson.pk}/").status_code == 404


def test_the_playground_stays_reachable_for_staff(client, staff_user, learner):
    client.force_login(staff_user)
    assert client.get("/playground/").status_code == 200
    assert 'href="/playground/"' in client.get("/courses/").content.decode()
    client.force_login(learner)
    assert client.get("/playground/").status_code == 403


def test_pages_use_no_cdn(client, user, course, lesson):
    client.force_login(user)
    for path in ("/courses/", "/learn/", f"/lessons/{lesson.pk}/"):
        html = client.get(path).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', html), path
