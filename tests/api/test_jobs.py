"""The generation routes: lesson and module generate, a job and its cancel, for each caller."""

import json

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from ai_chat.models import AIDailyUsage
from jobs.models import LessonJob
from lessons.models import Lesson

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """Jobs handed to the broker after commit, recorded instead of sent."""
    calls: list[int] = []
    monkeypatch.setattr("jobs.services.queue._send", lambda job_id, *_: calls.append(job_id))
    return calls


def post(client: Client, path: str, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def test_learner_generates_a_pending_lesson_and_follows_its_job(bearer, learner, lesson, sent):
    response = post(bearer(learner), f"/api/lessons/{lesson.pk}/generate")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["lesson"]["generation_status"] == "generating"
    assert body["lesson"]["job_id"] == body["job"]["id"]
    assert body["job"]["status"] == "queued" and body["job"]["error"] is None
    assert sent == [body["job"]["id"]]
    job = bearer(learner).get(f"/api/jobs/{body['job']['id']}").json()
    assert job["lesson_id"] == lesson.pk and job["attempts"] == 0
    assert bearer(learner).get(f"/api/lessons/{lesson.pk}").json()["job_id"] == job["id"]


def test_two_clicks_get_the_same_job(bearer, user, learner, lesson, sent):
    first = post(bearer(user), f"/api/lessons/{lesson.pk}/generate").json()
    second = post(bearer(learner), f"/api/lessons/{lesson.pk}/generate")
    assert second.status_code == 202
    assert second.json()["job"]["id"] == first["job"]["id"]
    assert len(sent) == 1 and LessonJob.objects.count() == 1


def test_completed_lesson_is_200_without_a_job_and_force_is_for_editors(
    bearer, user, learner, lesson
):
    Lesson.objects.filter(pk=lesson.pk).update(generation_status="completed", content="# Done")
    response = post(bearer(learner), f"/api/lessons/{lesson.pk}/generate")
    assert response.status_code == 200 and response.json()["job"] is None
    refused = post(bearer(learner), f"/api/lessons/{lesson.pk}/generate", {"force": True})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    forced = post(bearer(user), f"/api/lessons/{lesson.pk}/generate", {"force": True})
    assert forced.status_code == 202 and forced.json()["job"]["status"] == "queued"


def test_hand_edited_pending_lesson_is_a_conflict_without_force(bearer, user, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(content="# Written by hand")
    response = post(bearer(user), f"/api/lessons/{lesson.pk}/generate")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_module_generate_queues_what_needs_it_for_editors_only(bearer, user, learner, module):
    done = module.lessons.get(position=1)
    Lesson.objects.filter(pk=done.pk).update(generation_status="completed")
    response = post(bearer(user), f"/api/modules/{module.pk}/generate")
    assert response.status_code == 202
    body = response.json()
    assert (body["queued"], body["skipped"]) == (1, 1)
    assert [job["lesson_id"] for job in body["jobs"]] == [module.lessons.get(position=0).pk]
    refused = post(bearer(learner), f"/api/modules/{module.pk}/generate")
    assert refused.status_code == 403


def test_outsider_and_anonymous_see_nothing(bearer, user, other_user, lesson, module):
    job = post(bearer(user), f"/api/lessons/{lesson.pk}/generate").json()["job"]
    outsider = bearer(other_user)
    for path in (
        f"/api/lessons/{lesson.pk}/generate",
        f"/api/modules/{module.pk}/generate",
        f"/api/jobs/{job['id']}/cancel",
    ):
        response = post(outsider, path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert post(Client(), path).status_code == 401
    assert outsider.get(f"/api/jobs/{job['id']}").status_code == 404
    assert Client().get(f"/api/jobs/{job['id']}").status_code == 401


def test_editor_sees_and_cancels_a_learners_job(bearer, user, learner, lesson):
    job = post(bearer(learner), f"/api/lessons/{lesson.pk}/generate").json()["job"]
    assert bearer(user).get(f"/api/jobs/{job['id']}").status_code == 200
    cancelled = post(bearer(user), f"/api/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"]["code"] == "cancelled"
    assert bearer(user).get(f"/api/lessons/{lesson.pk}").json()["generation_status"] == "pending"
    again = post(bearer(user), f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 200  # cancelling a cancelled job answers with it


def test_cancelling_a_finished_job_is_a_conflict(bearer, user, lesson):
    job = post(bearer(user), f"/api/lessons/{lesson.pk}/generate").json()["job"]
    LessonJob.objects.filter(pk=job["id"]).update(status="succeeded")
    response = post(bearer(user), f"/api/jobs/{job['id']}/cancel")
    assert response.status_code == 409


def test_spent_budget_is_429_with_retry_after(bearer, user, lesson, settings):
    settings.DAILY_TOKEN_BUDGET = 100
    AIDailyUsage.objects.create(user=user, day=timezone.now().date(), used_tokens=100)
    response = post(bearer(user), f"/api/lessons/{lesson.pk}/generate")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert int(response["Retry-After"]) >= 1


def test_session_post_needs_the_csrf_token(user, lesson):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = post(client, f"/api/lessons/{lesson.pk}/generate")
    assert refused.status_code == 403
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    accepted = client.post(
        f"/api/lessons/{lesson.pk}/generate",
        data="{}",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 202, accepted.content


def test_invalid_body_is_400_naming_the_field(bearer, user, lesson):
    response = post(bearer(user), f"/api/lessons/{lesson.pk}/generate", {"force": "maybe"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "force"
