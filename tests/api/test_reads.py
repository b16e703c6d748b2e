"""What the read routes answer: roles, lesson counts by status, modules with their lessons,
pagination, and a lesson's content only once it is completed."""

import json

import pytest

from courses.models import Course
from learning.models import Enrollment
from lessons.models import Lesson
from lessons.services import lesson_apply_content, lesson_set_generation_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_course_list_gives_each_callers_role_and_lesson_counts(
    bearer, user, learner, staff_user, course, lesson
):
    lesson_set_generation_status(lesson=lesson, status="failed", error="The model was down.")
    expected_counts = {"pending": 1, "generating": 0, "completed": 0, "failed": 1}
    for who, role in ((user, "owner"), (learner, "learner"), (staff_user, "staff")):
        body = bearer(who).get("/api/courses").json()
        assert body["count"] == 1
        [item] = body["items"]
        assert item["id"] == course.pk
        assert item["role"] == role
        assert item["lesson_counts"] == expected_counts


def test_an_enrolled_instructor_has_the_instructor_role(bearer, make_user, course):
    teacher = make_user("tia")
    Enrollment.objects.create(learner=teacher, course=course, role="instructor")
    [item] = bearer(teacher).get("/api/courses").json()["items"]
    assert item["role"] == "instructor"


def test_course_detail_has_modules_with_their_lessons_in_order(bearer, user, course, module):
    Lesson.objects.filter(module=module, position=1).update(estimated_minutes=25)
    body = bearer(user).get(f"/api/courses/{course.pk}").json()
    [only] = body["modules"]
    assert (only["id"], only["title"], only["position"]) == (module.pk, "Basics", 0)
    assert [(x["title"], x["generation_status"]) for x in only["lessons"]] == [
        ("Variables", "pending"),
        ("Loops", "pending"),
    ]
    assert only["lessons"][1]["estimated_duration_minutes"] == 25


def test_module_lessons_are_paginated(bearer, user, module):
    client = bearer(user)
    first = client.get(f"/api/modules/{module.pk}/lessons?page_size=1").json()
    second = client.get(f"/api/modules/{module.pk}/lessons?page_size=1&page=2").json()
    past = client.get(f"/api/modules/{module.pk}/lessons?page_size=1&page=3").json()
    assert (first["count"], first["pages"], first["page"]) == (2, 2, 1)
    assert [x["title"] for x in first["items"] + second["items"]] == ["Variables", "Loops"]
    assert past["items"] == [] and past["page"] == 3


def test_course_list_pages_newest_first(bearer, user):
    for n in range(3):
        Course.objects.create(owner=user, title=f"C{n}")
    body = bearer(user).get("/api/courses?page_size=2").json()
    assert (body["count"], body["pages"]) == (3, 2)
    assert [x["title"] for x in body["items"]] == ["C2", "C1"]


def test_a_lesson_shows_its_content_only_once_completed(bearer, learner, lesson):
    client = bearer(learner)
    lesson.content = "# Draft by hand"
    lesson.save()
    pending = client.get(f"/api/lessons/{lesson.pk}").json()
    assert pending["generation_status"] == "pending"
    assert pending["content"] == ""
    lesson_apply_content(lesson=lesson, content={"content": "# Variables\n\nA box."})
    done = client.get(f"/api/lessons/{lesson.pk}").json()
    assert done["content"] == "# Variables\n\nA box."
    assert done["course_id"] == lesson.course_id and done["module_id"] == lesson.module_id
    assert done["sources"] == [] and done["job_id"] is None
    assert done["updated_at"].endswith("Z") or "+00:00" in done["updated_at"]


def test_a_failed_lesson_carries_its_error(bearer, user, lesson):
    lesson_set_generation_status(lesson=lesson, status="failed", error="The model was down.")
    body = bearer(user).get(f"/api/lessons/{lesson.pk}").json()
    assert body["generation_status"] == "failed"
    assert body["generation_error"] == "The model was down."


def test_a_created_course_is_a_draft_the_caller_owns(bearer, user):
    response = bearer(user).post(
        "/api/courses",
        data=json.dumps({"title": "  Rust  ", "description": "Ownership"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["status"], body["role"], body["modules"]) == (
        "Rust",
        "draft",
        "owner",
        [],
    )
    assert Course.objects.get(pk=body["id"]).owner == user


def test_a_lesson_names_its_latest_generation_job(bearer, user, lesson):
    from jobs.models import LessonJob

    LessonJob.objects.create(user=user, lesson=lesson, idempotency_key="k1", status="failed")
    latest = LessonJob.objects.create(user=user, lesson=lesson, idempotency_key="k2")
    assert bearer(user).get(f"/api/lessons/{lesson.pk}").json()["job_id"] == latest.pk
