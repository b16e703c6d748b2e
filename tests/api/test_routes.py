"""Every route with its owner, an enrolled learner, an outsider (404, never 403, for what they
may not see) and no credentials; and the OpenAPI document against the routes."""

import json

import pytest
from django.test import Client

from api.site import api

pytestmark = pytest.mark.django_db(transaction=True)


def routes(course, module, lesson):
    """(method, path, body, status for a viewer, status for an outsider)."""
    return [
        ("get", "/api/courses", None, 200, 200),
        ("post", "/api/courses", {"title": "New", "description": "d"}, 201, 201),
        ("get", f"/api/courses/{course.pk}", None, 200, 404),
        ("get", f"/api/modules/{module.pk}/lessons", None, 200, 404),
        ("get", f"/api/lessons/{lesson.pk}", None, 200, 404),
    ]


def call(client: Client, method: str, path: str, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_every_route_for_owner_learner_outsider_and_anonymous(
    bearer, user, learner, other_user, course, module, lesson
):
    """Viewers get answers, an outsider gets 404 for another's course, nobody gets in unsigned."""
    table = routes(course, module, lesson)
    for who in (user, learner):
        client = bearer(who)
        for method, path, body, status, _ in table:
            response = call(client, method, path, body)
            assert response.status_code == status, (who, method, path, response.content)
    outsider = bearer(other_user)
    for method, path, body, _, status in table:
        response = call(outsider, method, path, body)
        assert response.status_code == status, (method, path, response.content)
        if status == 404:
            assert response.json()["error"]["code"] == "not_found"
    anonymous = Client()
    for method, path, body, _, _ in table:
        response = call(anonymous, method, path, body)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "auth_required"


def test_outsider_list_holds_none_of_anothers_courses(bearer, other_user, course):
    """The course list is scoped: an outsider sees an empty page."""
    body = bearer(other_user).get("/api/courses").json()
    assert body == {"items": [], "count": 0, "page": 1, "pages": 1}


def test_openapi_document_lists_exactly_the_routes(db, course, module, lesson):
    """Every route is in /api/openapi.json (3.1) with its method, and nothing else is."""
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    expected = {
        ("get", "/api/courses"),
        ("post", "/api/courses"),
        ("get", "/api/courses/{course_id}"),
        ("get", "/api/modules/{module_id}/lessons"),
        ("get", "/api/lessons/{lesson_id}"),
    }
    assert expected <= documented
    registered = {
        (method.lower(), f"/api/{path}".replace("//", "/").rstrip("/"))
        for router in api._get_bound_routers()
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    assert documented == {(m, p.rstrip("/")) for m, p in registered}
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"} in [
        {k: v for k, v in s.items() if k in ("type", "scheme")} for s in schemes.values()
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)


def test_docs_page_loads_swagger_from_local_static_files(db):
    """/api/docs uses the bundled Swagger UI: no CDN."""
    html = Client().get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui" in html
    assert "cdn" not in html.lower()
