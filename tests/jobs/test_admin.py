"""Jobs and lesson revisions are reviewable in the admin, read-only."""

import pytest
from django.urls import reverse

from jobs.services.requests import lesson_generate_request
from lessons.models import LessonRevision

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_job_changelist_shows_lesson_asker_and_status(staff_client, learner, lesson):
    lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False)
    page = staff_client.get(reverse("admin:jobs_lessonjob_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Variables" in text and "lea" in text and "queued" in text


def test_job_change_page_is_read_only(staff_client, user, lesson):
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    page = staff_client.get(reverse("admin:jobs_lessonjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert "idempotency" in page.content.decode().lower()
    assert staff_client.get(reverse("admin:jobs_lessonjob_add")).status_code == 403


def test_revision_changelist_shows_the_kept_content(staff_client, lesson):
    LessonRevision.objects.create(lesson=lesson, reason="regenerated", title="Variables v1")
    page = staff_client.get(reverse("admin:lessons_lessonrevision_changelist"))
    assert page.status_code == 200 and "Variables v1" in page.content.decode()
