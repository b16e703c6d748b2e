"""The import wizard's page: reachable from the teacher's pages, only for courses the person may
edit, with its module script (no inline script) and a note when the import routes are missing."""

import re

import pytest

from learning.models import Enrollment

pytestmark = pytest.mark.django_db


def test_the_teacher_pages_link_the_wizard(client, user, course):
    client.force_login(user)
    html = client.get(f"/courses/{course.pk}/").content.decode()
    assert 'href="/courses/import/"' in html
    assert f'href="/courses/{course.pk}/import/"' in html


def test_the_wizard_for_a_new_course_lists_the_courses_the_person_may_edit(
    client, user, other_user, course
):
    from courses.models import Course

    Course.objects.create(owner=other_user, title="Somebody else's course")
    client.force_login(user)
    response = client.get("/courses/import/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{course.pk}">Intro to Java</option>' in html
    assert "Somebody else" not in html
    assert 'data-course-id=""' in html
    assert "/static/pages/import-wizard.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: no inline script
    assert not re.search(r'\sstyle="', html)  # nor inline styles
    assert "Sign out" in html


def test_the_wizard_of_a_course_resumes_that_course(client, user, course):
    client.force_login(user)
    html = client.get(f"/courses/{course.pk}/import/").content.decode()
    assert f'data-course-id="{course.pk}"' in html
    assert f'<option value="{course.pk}" selected>' in html
    assert 'data-level="beginner"' in html
    for stage in (1, 2, 3, 4):
        assert f'data-stage-bar="{stage}"' in html


def test_only_editors_open_a_course_wizard(client, make_user, other_user, staff_user, course):
    client.force_login(other_user)
    assert client.get(f"/courses/{course.pk}/import/").status_code == 404
    learner = make_user("lea")
    Enrollment.objects.create(learner=learner, course=course)
    client.force_login(learner)
    assert client.get(f"/courses/{course.pk}/import/").status_code == 403
    client.force_login(staff_user)
    assert client.get(f"/courses/{course.pk}/import/").status_code == 200


@pytest.mark.parametrize(("redis_url", "events"), [("", "local"), ("redis://x:6379/0", "shared")])
def test_the_wizard_knows_whether_a_workers_events_can_reach_it(
    client, user, settings, redis_url, events
):
    """Without Redis the channel layer is the server's own: the page reads the status instead."""
    settings.REDIS_URL = redis_url
    client.force_login(user)
    assert f'data-events="{events}"' in client.get("/courses/import/").content.decode()


def test_anonymous_visitors_sign_in_before_the_wizard(client, course):
    response = client.get(f"/courses/{course.pk}/import/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_without_the_import_routes_the_wizard_says_so_and_cannot_start(client, user, monkeypatch):
    monkeypatch.setattr("pages.views.import_available", lambda: False)
    client.force_login(user)
    html = client.get("/courses/import/").content.decode()
    assert 'id="import-unavailable"' in html
    assert 'data-available="off"' in html
    assert re.search(r'id="start-import"[^>]*disabled', html)


def test_import_is_available_exactly_when_the_route_resolves():
    from django.urls import resolve

    from api.views import unknown_path
    from pages.views import import_available

    routed = resolve("/api/courses/1/analyze-repository").func is not unknown_path
    assert import_available() is routed
