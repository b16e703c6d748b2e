"""The API's error shape for every failure: validation (400, per field), unknown paths and
methods, a body too large (413), rate limits (429 with Retry-After), and a crash (500 with a
reference that is in the log, no traceback)."""

import json
import logging

import pytest
from django.test import Client, RequestFactory

from api import errors
from api.site import api

pytestmark = pytest.mark.django_db(transaction=True)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_a_body_that_fails_validation_is_400_naming_each_field(bearer, user):
    response = bearer(user).post(
        "/api/courses",
        data=json.dumps({"title": "   ", "description": 5}),
        content_type="application/json",
    )
    error = assert_error(response, 400, "invalid_request")
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"title", "description"}


def test_a_body_that_is_not_json_is_400(bearer, user):
    response = bearer(user).post("/api/courses", data="{", content_type="application/json")
    assert_error(response, 400, "invalid_request")


def test_page_size_over_100_is_400_naming_it(bearer, user):
    error = assert_error(bearer(user).get("/api/courses?page_size=101"), 400, "invalid_request")
    assert error["details"][0]["field"] == "page_size"
    assert error["details"][0]["in"] == "query"


def test_a_path_id_that_is_not_a_number_is_400(bearer, user):
    error = assert_error(bearer(user).get("/api/lessons/abc"), 400, "invalid_request")
    assert error["details"][0]["field"] == "lesson_id"


def test_an_unknown_path_and_a_wrong_method_answer_json(bearer, user):
    client = bearer(user)
    assert_error(client.get("/api/nothing/here"), 404, "not_found")
    response = client.delete("/api/courses")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_a_body_over_the_upload_limit_is_413(bearer, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"title": "t", "description": "x" * 5000})
    response = bearer(user).post("/api/courses", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")


def test_rate_limits_answer_429_with_retry_after():
    request = RequestFactory().get("/api/courses")
    response = api.on_exception(request, errors.QuotaExceeded(retry_after=42))
    assert_error(response, 429, "quota_exceeded")
    assert response["Retry-After"] == "42"


def test_a_crash_is_500_with_a_reference_that_is_in_the_log(bearer, user, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("api.routers.lessons.lesson_get_viewable", broken)
    caplog.set_level(logging.ERROR)
    response = bearer(user).get("/api/lessons/1", headers={"X-Request-ID": "ref-crash-1"})
    error = assert_error(response, 500, "internal_error")
    assert error["details"] == [{"reference": "ref-crash-1"}]
    assert "database on fire" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "api.errors"]
    assert logged and "ref-crash-1" in logged[0].getMessage()
    assert "database on fire" in caplog.text


def test_sessions_never_see_html_errors_either(client, user):
    """No credentials on a list route is JSON 401 (not a redirect to the sign-in page)."""
    response = Client().get("/api/courses")
    assert_error(response, 401, "auth_required")
