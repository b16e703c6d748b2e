"""Asking for a lesson or module to be generated: who may, and one job per lesson."""

import pytest
from django.db import transaction

from ai_chat.exceptions import QuotaExceeded
from ai_chat.models import AIDailyUsage
from jobs.exceptions import NotAllowed, NotVisible, StateConflict
from jobs.models import LessonJob
from jobs.services.requests import lesson_generate_request, module_generate_request
from lessons.models import Lesson

pytestmark = pytest.mark.django_db


def test_learner_asking_for_a_pending_lesson_queues_one_job(learner, lesson, sent):
    with transaction.atomic():
        outcome = lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False)
        assert sent == []  # nothing reaches the broker before the commit
    assert outcome.queued
    assert outcome.lesson.generation_status == "generating"
    assert outcome.job.status == "queued"
    assert outcome.job.user == learner
    assert outcome.job.idempotency_key.startswith(f"lesson:{lesson.pk}:")
    assert outcome.job.idempotency_key.endswith(":lesson-2026-11-22")


def test_queued_job_is_sent_once_the_transaction_commits(
    user, lesson, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    assert sent == [(outcome.job.pk, 0)]
    assert LessonJob.objects.get().celery_task_id


def test_asking_twice_answers_with_the_running_job(user, learner, lesson):
    first = lesson_generate_request(user=learner, lesson_id=lesson.pk, force=False)
    second = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    assert not second.queued
    assert second.job.pk == first.job.pk
    assert LessonJob.objects.count() == 1


def test_a_stale_read_loses_the_claim_and_gets_the_winning_job(user, lesson):
    from jobs.services.requests import _request_one

    stale = Lesson.objects.select_related("course").get(pk=lesson.pk)
    first = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    assert stale.generation_status == "pending"  # this caller read before the first claimed
    second = _request_one(user=user, lesson=stale, force=False, editor=True)
    assert not second.queued
    assert second.job.pk == first.job.pk
    assert LessonJob.objects.count() == 1


def test_completed_lesson_answers_without_a_job(user, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(generation_status="completed")
    outcome = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    assert outcome.job is None and not outcome.queued
    assert LessonJob.objects.count() == 0


def test_learner_may_not_force(learner, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(generation_status="completed")
    with pytest.raises(NotAllowed):
        lesson_generate_request(user=learner, lesson_id=lesson.pk, force=True)


def test_outsider_is_told_the_lesson_does_not_exist(other_user, lesson):
    with pytest.raises(NotVisible):
        lesson_generate_request(user=other_user, lesson_id=lesson.pk, force=False)
    with pytest.raises(NotVisible):
        module_generate_request(user=other_user, module_id=lesson.module_id, force=False)


def test_staff_may_force_a_completed_lesson(staff_user, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(generation_status="completed")
    outcome = lesson_generate_request(user=staff_user, lesson_id=lesson.pk, force=True)
    assert outcome.queued
    assert outcome.job.previous_status == "completed"


def test_lesson_edited_by_hand_needs_force(user, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(content="# My own words")
    with pytest.raises(StateConflict):
        lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    assert lesson_generate_request(user=user, lesson_id=lesson.pk, force=True).queued


def test_spent_budget_is_refused_before_anything_is_queued(user, lesson, settings):
    settings.DAILY_TOKEN_BUDGET = 1000
    from django.utils import timezone

    AIDailyUsage.objects.create(user=user, day=timezone.now().date(), used_tokens=1000)
    with pytest.raises(QuotaExceeded):
        lesson_generate_request(user=user, lesson_id=lesson.pk, force=False)
    lesson.refresh_from_db()
    assert lesson.generation_status == "pending"


def test_module_generation_queues_each_lesson_that_needs_it(user, course):
    module = course.modules.get()
    done = course.lessons.get(position=1)
    Lesson.objects.filter(pk=done.pk).update(generation_status="completed")
    outcome = module_generate_request(user=user, module_id=module.pk, force=False)
    assert [job.lesson_id for job in outcome.jobs] == [course.lessons.get(position=0).pk]
    assert outcome.skipped == [done.pk]
    again = module_generate_request(user=user, module_id=module.pk, force=False)
    assert again.jobs == [] and len(again.skipped) == 2


def test_learner_may_not_generate_a_whole_module(learner, course):
    with pytest.raises(NotAllowed):
        module_generate_request(user=learner, module_id=course.modules.get().pk, force=False)
