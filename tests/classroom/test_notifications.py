"""Automatic notifications: stored with read state, sent live to `user:{id}`, each once."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from courses.models import Course
from courses.services import course_publish, course_update_fields
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from learning.models import Enrollment
from realtime.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(user) -> list[str]:
    return [n.data.get("kind") for n in Notification.objects.filter(user=user).order_by("pk")]


async def test_a_resolved_confusion_notifies_the_learner_live_and_stored(
    events, user, learner, lesson
):
    lea = await events(learner)
    await lea.subscribe(f"user:{learner.pk}")
    ack = await lea.request(type="confusion", lesson_id=lesson.pk, position="p3", note="Huh?")
    teacher = await events(user)
    await teacher.request(type="resolve_confusion", confusion_id=ack["confusion"]["id"])
    note = (await lea.events_until("notification", "create"))[-1]["payload"]
    assert note["data"]["kind"] == "confusion_resolved"
    assert note["data"]["confusion_id"] == ack["confusion"]["id"]
    assert note["title"] == "Your confusion on “Variables” at p3 was resolved"
    await teacher.request(type="resolve_confusion", confusion_id=ack["confusion"]["id"])
    assert await sync_to_async(kinds)(learner) == ["confusion_resolved"]  # once
    await lea.send(type="mark_read", notification_ids=[note["id"]])
    assert (await lea.answer("ack"))["notification_ids"] == [note["id"]]
    assert await Notification.objects.filter(read_at__isnull=False).acount() == 1


def test_a_generated_lesson_notifies_whoever_asked_once(learner, lesson):
    """The job notifies its asker (kind lesson_generated); nobody else, and not twice."""
    job = lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False).job
    assert job_run(job_id=job.pk) == "succeeded"
    assert job_run(job_id=job.pk) == "skipped"
    assert kinds(learner) == ["lesson_generated"]
    assert Notification.objects.exclude(user=learner).count() == 0


def test_publishing_and_updating_a_course_tells_its_learners(user, learner, course, make_user):
    """Published: every learner, always; updated: once until they read it; instructors and
    the owner are not told."""
    Enrollment.objects.create(learner=make_user("ivy"), course=course, role="instructor")
    assert course_publish(course=course) is True
    assert course_publish(course=course) is False
    course_update_fields(course=course, data={"title": "Intro to Java, revised"})
    course_update_fields(course=course, data={"description": "Again"})
    assert kinds(learner) == ["course_published", "course_updated"]
    assert Notification.objects.exclude(user=learner).count() == 0
    Notification.objects.filter(user=learner).update(read_at="2026-01-01T00:00:00Z")
    course_update_fields(course=course, data={"description": "Once more"})
    assert kinds(learner) == ["course_published", "course_updated", "course_updated"]
    latest = Notification.objects.filter(user=learner).first()
    assert latest.title == "Course updated: Intro to Java, revised"
    assert latest.data == {"kind": "course_updated", "course_id": course.pk}


def test_the_admin_publish_action_tells_learners(client, staff_user, learner, course):
    client.force_login(staff_user)
    url = reverse("admin:courses_course_changelist")
    client.post(url, {"action": "publish", "_selected_action": [course.pk]})
    assert Course.objects.get(pk=course.pk).status == "published"
    assert kinds(learner) == ["course_published"]


def test_editing_a_course_in_the_admin_tells_its_learners(client, staff_user, learner, course):
    """A change saved on the admin's change page: `course_updated`; status set to published:
    `course_published`; saving with nothing changed: nothing."""
    from tests.test_admin_domain import course_form_data

    client.force_login(staff_user)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = course_form_data(course, objectives="", prerequisites="")
    assert client.post(url, data).status_code == 302
    assert kinds(learner) == []
    assert client.post(url, data | {"title": "Java, revised"}).status_code == 302
    assert kinds(learner) == ["course_updated"]
    published = data | {"title": "Java, revised", "status": "published"}
    assert client.post(url, published).status_code == 302
    assert kinds(learner) == ["course_updated", "course_published"]
