"""The playground page at `/playground/` (staff only) and the events page at `/events/` (any
signed-in user): plain templates around static ES modules."""

import json
import re

import pytest

from ai_chat.kinds import socket_kind_names

pytestmark = pytest.mark.django_db

BUILT_IN = ["course", "lesson", "quiz", "assignment", "chat"]


def test_staff_user_gets_the_page_with_the_client_module(client, staff_user):
    """A signed-in staff user gets the page, which loads the static playground and client."""
    client.force_login(staff_user)
    response = client.get("/playground/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="module"' in html
    assert "/static/ai_chat/playground.js" in html
    assert "/static/ai_chat/lectern-client.js" in html
    assert "/static/ai_chat/playground.css" in html


def test_page_lists_every_kind_with_example_contexts(client, staff_user, lesson, assignment):
    """Each endpoint comes with a prompt and a context the server would accept."""
    client.force_login(staff_user)
    html = client.get("/playground/").content.decode()
    raw = re.search(r'<script id="endpoints" type="application/json">(.*?)</script>', html, re.S)
    endpoints = {e["kind"]: e for e in json.loads(raw.group(1))}
    assert list(endpoints) == list(socket_kind_names())  # every socket kind, in order
    assert [k for k in endpoints if k in BUILT_IN] == BUILT_IN
    assert endpoints["chat"]["path"] == "/ws/ai/chat/"
    assert endpoints["course"]["path"] == "/ws/ai/course-generation/"
    assert endpoints["course"]["context"]["age_range"] == "8-12"
    assert endpoints["lesson"]["context"] == {"lesson_id": lesson.pk}
    assert endpoints["quiz"]["context"]["lesson_id"] == lesson.pk
    assert endpoints["assignment"]["context"]["assignment_id"] == assignment.pk


def test_page_uses_no_cdn(client, staff_user):
    """Everything is served from this site: the machine may have no internet."""
    client.force_login(staff_user)
    html = client.get("/playground/").content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_anonymous_user_is_redirected_to_sign_in(client):
    """An anonymous visitor goes to the sign-in page, and comes back to the playground after."""
    response = client.get("/playground/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/playground/"


def test_signed_in_user_who_is_not_staff_is_refused(client, user):
    """A signed-in learner or instructor without staff status gets 403."""
    client.force_login(user)
    assert client.get("/playground/").status_code == 403


def test_staff_page_also_holds_the_events_panel_and_chat_modules(client, staff_user):
    """The playground carries the events panel, its module, and the chat's markdown renderer."""
    client.force_login(staff_user)
    html = client.get("/playground/").content.decode()
    assert 'id="events-panel"' in html
    assert "/static/ai_chat/events-panel.js" in html
    assert "/static/ai_chat/markdown.js" in html
    assert 'id="feedback"' in html and 'id="typing"' in html


def test_events_page_redirects_anonymous_users_to_sign_in(client):
    response = client.get("/events/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/events/"


def test_events_page_is_open_to_a_signed_in_learner(client, user, lesson):
    """A learner without staff status gets the events panel and the learner view only."""
    client.force_login(user)
    response = client.get("/events/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-user-id="{user.pk}"' in html
    assert "/static/ai_chat/events-panel.js" in html
    assert 'id="mark-confusing"' in html and 'id="progress"' in html
    assert "/static/ai_chat/playground.js" not in html  # the AI endpoints stay staff-only
    assert 'id="endpoint"' not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_events_page_prefills_a_lesson_the_user_may_view(client, staff_user, lesson):
    client.force_login(staff_user)
    html = client.get("/events/").content.decode()
    assert f'id="lesson-id" type="number" min="1" value="{lesson.pk}"' in html


def test_examples_say_when_there_is_no_row_to_point_at(client, staff_user):
    """On a database with no lesson or assignment the user may edit, the example says so
    instead of pointing at id 1."""
    client.force_login(staff_user)
    html = client.get("/playground/").content.decode()
    raw = re.search(r'<script id="endpoints" type="application/json">(.*?)</script>', html, re.S)
    endpoints = {e["kind"]: e for e in json.loads(raw.group(1))}
    for kind, what in (("lesson", "lesson"), ("quiz", "lesson"), ("assignment", "assignment")):
        assert endpoints[kind]["context"] is None
        assert endpoints[kind]["missing"] == (
            f"No example context: you have no {what} you may edit yet."
        )
    assert endpoints["course"]["context"]["age_range"] == "8-12"
    assert endpoints["course"]["missing"] == ""
