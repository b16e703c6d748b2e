"""Signing in to the API: Firebase bearer tokens (checked by firebase-admin) before the session
cookie, CSRF on the cookie's unsafe methods, and each refusal's code. No token reaches a log."""

import json
import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_token_in_logs(firebase, caplog):
    caplog.set_level(logging.DEBUG)
    yield
    for token in firebase.minted:
        pieces = [token, *(part for part in token.split(".") if len(part) >= 8)]
        for piece in pieces:
            assert piece not in caplog.text


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_new_firebase_user_is_signed_in_and_sees_no_courses(firebase):
    """A valid token of a uid never seen makes its Django user, as the `auth` frame does."""
    client = Client(headers={"Authorization": f"Bearer {firebase.token(uid='fresh')}"})
    response = client.get("/api/courses")
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda f: f.token(exp=10**9, iat=10**9 - 60, auth_time=10**9 - 60), "expired_token"),
        (lambda f: f.token(key=f.other_key), "invalid_token"),
        (lambda f: f.token(aud="another-project"), "invalid_token"),
        (lambda f: "not-a-jwt", "invalid_token"),
    ],
)
def test_a_refused_token_is_401_with_its_code(firebase, make_token, code):
    client = Client(headers={"Authorization": f"Bearer {make_token(firebase)}"})
    response = client.get("/api/courses")
    assert response.status_code == 401
    assert error_code(response) == code


def test_a_revoked_token_is_401_revoked_token(firebase, settings):
    settings.FIREBASE_CHECK_REVOKED = True
    token = firebase.token(uid="u9", iat=1_700_000_000, auth_time=1_700_000_000)
    firebase.revoke("u9")
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/courses")
    assert response.status_code == 401
    assert error_code(response) == "revoked_token"


def test_a_disabled_user_is_403_user_disabled(bearer, make_user):
    ghost = make_user("ghost", is_active=False)
    response = bearer(ghost).get("/api/courses")
    assert response.status_code == 403
    assert error_code(response) == "user_disabled"


def test_a_bad_token_is_refused_even_with_a_good_session(firebase, client, user):
    """A refused bearer ends the request: it does not fall through to the cookie."""
    client.force_login(user)
    response = client.get("/api/courses", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_session_cookie_reads_without_csrf(client, user, course):
    client.force_login(user)
    response = client.get(f"/api/courses/{course.pk}")
    assert response.status_code == 200
    assert response.json()["role"] == "owner"


def test_session_post_without_csrf_is_403_and_with_it_201(user):
    """Without `X-CSRFToken` a cookie POST is 403 forbidden; with it, the course is made."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    body = json.dumps({"title": "Mine"})
    refused = client.post("/api/courses", data=body, content_type="application/json")
    assert refused.status_code == 403
    assert error_code(refused) == "forbidden"
    assert "CSRF" in refused.json()["error"]["message"]
    secret = "k" * 32  # a well-formed CSRF secret, as the browser would hold in its cookie
    client.cookies["csrftoken"] = secret
    created = client.post(
        "/api/courses",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert created.status_code == 201, created.content
    assert created.json()["title"] == "Mine"


def test_bearer_post_needs_no_csrf(bearer, user):
    """Bearer is listed before the session: a token POST is never CSRF-checked."""
    client = bearer(user)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/api/courses", data=json.dumps({"title": "T"}), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["role"] == "owner"
