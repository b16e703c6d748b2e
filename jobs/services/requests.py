"""Asking for lessons to be generated: who may, what it claims, and the job it queues."""

import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ai_chat.exceptions import QuotaExceeded
from ai_chat.kinds import get_kind
from ai_chat.models import AIDailyUsage
from ai_chat.services.quota import seconds_until_tomorrow
from courses.models import Module
from jobs.exceptions import NotAllowed, NotVisible, StateConflict
from jobs.models import LessonJob
from jobs.selectors import course_is_editor, course_viewable, job_active_for_lesson
from jobs.services.events import lesson_generation_announce
from jobs.services.queue import job_enqueue
from lessons.models import Lesson
from lessons.services import lesson_generation_claim, lesson_is_edited

Status = Lesson.GenerationStatus


@dataclass
class LessonRequestOutcome:
    lesson: Lesson
    job: LessonJob | None
    queued: bool  # this request queued a new job


@dataclass
class ModuleRequestOutcome:
    jobs: list[LessonJob] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def lesson_idempotency_key(*, lesson: Lesson) -> str:
    """Lesson, skeleton and prompt version: what a generation's result depends on."""
    skeleton = json.dumps(
        [lesson.title, lesson.description, lesson.objectives, lesson.module_id],
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(skeleton.encode()).hexdigest()[:32]
    return f"lesson:{lesson.pk}:{digest}:{get_kind('lesson').prompt_version}"


def quota_check(*, user: User) -> None:
    """Refuse at once when today's budget is already spent (the worker reserves the real cost)."""
    budget = settings.DAILY_TOKEN_BUDGET
    spent = (
        AIDailyUsage.objects.filter(user_id=user.pk, day=timezone.now().date())
        .annotate(committed=F("used_tokens") + F("reserved_tokens"))
        .values_list("committed", flat=True)
        .first()
    )
    if spent is not None and spent >= budget:
        raise QuotaExceeded(
            f"Today's budget of {budget} tokens is spent.", retry_after=seconds_until_tomorrow()
        )


def lesson_generate_request(*, user: User, lesson_id: int, force: bool) -> LessonRequestOutcome:
    """Queue a generation of the lesson unless one runs or it is done; answer either way."""
    lesson = (
        Lesson.objects.select_related("course")
        .filter(pk=lesson_id, course__in=course_viewable(user=user))
        .first()
    )
    if lesson is None:
        raise NotVisible("Lesson not found.")
    editor = course_is_editor(user=user, course=lesson.course)
    if force and not editor:
        raise NotAllowed("Only the course's owner or staff may regenerate a lesson.")
    return _request_one(user=user, lesson=lesson, force=force, editor=editor)


def module_generate_request(*, user: User, module_id: int, force: bool) -> ModuleRequestOutcome:
    """Queue one job per lesson of the module that needs one; editors only."""
    module = (
        Module.objects.select_related("course")
        .filter(pk=module_id, course__in=course_viewable(user=user))
        .first()
    )
    if module is None:
        raise NotVisible("Module not found.")
    if not course_is_editor(user=user, course=module.course):
        raise NotAllowed("Only the course's owner or staff may generate a whole module.")
    outcome = ModuleRequestOutcome()
    for lesson in module.lessons.select_related("course").order_by("position"):
        try:
            one = _request_one(user=user, lesson=lesson, force=force, editor=True)
        except StateConflict:
            outcome.skipped.append(lesson.pk)
            continue
        if one.queued and one.job is not None:
            outcome.jobs.append(one.job)
        else:
            outcome.skipped.append(lesson.pk)
    return outcome


def _request_one(*, user: User, lesson: Lesson, force: bool, editor: bool) -> LessonRequestOutcome:
    if lesson.generation_status == Status.GENERATING:
        return LessonRequestOutcome(lesson, job_active_for_lesson(lesson_id=lesson.pk), False)
    if lesson.generation_status == Status.COMPLETED and not force:
        return LessonRequestOutcome(lesson, None, False)
    if lesson_is_edited(lesson=lesson) and not force:
        raise StateConflict(
            "This lesson's content was edited by hand; an editor must regenerate it with "
            "`force` (the current content is kept as a revision)."
        )
    quota_check(user=user)
    statuses = [Status.PENDING.value, Status.FAILED.value]
    if force and editor:
        statuses.append(Status.COMPLETED.value)
    try:
        job = _claim_and_create(user=user, lesson=lesson, force=force, statuses=statuses)
    except IntegrityError:  # another request's job got there first (one live job per lesson)
        job = None
    lesson.refresh_from_db()
    if job is None:  # lost the race: answer with the job that won
        return LessonRequestOutcome(lesson, job_active_for_lesson(lesson_id=lesson.pk), False)
    return LessonRequestOutcome(lesson, job, True)


@transaction.atomic
def _claim_and_create(
    *, user: User, lesson: Lesson, force: bool, statuses: list[str]
) -> LessonJob | None:
    previous = lesson.generation_status
    claimed = lesson_generation_claim(lesson_id=lesson.pk, statuses=statuses)
    if claimed is None:
        return None
    job = LessonJob.objects.create(
        user=user,
        lesson=lesson,
        force=force,
        previous_status=Status.PENDING if previous == Status.FAILED else previous,
        idempotency_key=lesson_idempotency_key(lesson=lesson),
        prompt_version=get_kind("lesson").prompt_version,
    )
    claimed.job_id = job.pk  # the `generating` event names its job
    job_enqueue(job=job)
    lesson_generation_announce(lesson_id=lesson.pk, job_id=job.pk, user_id=user.pk)
    return job
