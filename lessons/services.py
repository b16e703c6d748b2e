"""Writes to lessons: apply generated content, move the generation status, keep revisions.

Every transition of the generation status sends `lesson_generation_changed` after its
transaction commits (a rollback sends nothing), so whoever follows the lesson hears of it.
"""

import hashlib
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from lessons.models import Lesson, LessonRevision, LessonSource
from lessons.signals import GenerationChange, lesson_content_applied, lesson_generation_changed

CONTENT_FIELDS = (
    "title",
    "description",
    "objectives",
    "outline",
    "content",
    "key_terms",
    "estimated_minutes",
)

JobId = int | str | None


@transaction.atomic
def lesson_apply_content(
    *, lesson: Lesson, content: Mapping[str, Any], job_id: JobId = None
) -> Lesson:
    """Write a lesson's generated fields and mark its generation completed.

    Content it replaces is kept first as a `LessonRevision`: nothing is overwritten silently.
    """
    if lesson.content and lesson.content != content.get("content", lesson.content):
        lesson_revision_create(lesson=lesson, reason="regenerated")
    for name in CONTENT_FIELDS:
        if name in content:
            setattr(lesson, name, content[name])
    lesson.generation_status = Lesson.GenerationStatus.COMPLETED
    lesson.generation_error = ""
    lesson.generated_content_hash = content_hash(lesson.content)
    lesson.save()
    lesson_content_applied.send(sender=Lesson, lesson=lesson)
    _generation_changed(lesson, job_id)
    return lesson


@transaction.atomic
def lesson_set_generation_status(
    *, lesson: Lesson, status: str, error: str = "", job_id: JobId = None
) -> Lesson:
    """Move a lesson's generation status; an error is kept only with `failed`."""
    if status not in Lesson.GenerationStatus.values:
        raise ValueError(f"unknown generation status {status!r}")
    lesson.generation_status = status
    lesson.generation_error = error if status == Lesson.GenerationStatus.FAILED else ""
    lesson.save(update_fields=["generation_status", "generation_error", "updated_at"])
    _generation_changed(lesson, job_id)
    return lesson


def lesson_web_sources_replace(
    *,
    lesson: Lesson,
    sources: Iterable[Mapping[str, str]],
    search_suggestions: str = "",
    search_queries: Iterable[str] = (),
) -> None:
    """The web pages a generation was grounded in become the lesson's `web` sources, replacing
    the previous generation's (content written without research has none); repository
    documents are left as they are. Called in the transaction that applies the content."""
    LessonSource.objects.filter(lesson=lesson, kind=LessonSource.Kind.WEB).delete()
    LessonSource.objects.bulk_create(
        LessonSource(
            lesson=lesson,
            position=position,
            kind=LessonSource.Kind.WEB,
            title=source.get("title", "")[:300],
            uri=source.get("uri", "")[:2000],
        )
        for position, source in enumerate(sources)
    )
    lesson.search_suggestions = search_suggestions
    lesson.search_queries = list(search_queries)
    lesson.save(update_fields=["search_suggestions", "search_queries", "updated_at"])


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def lesson_is_edited(*, lesson: Lesson) -> bool:
    """Whether the content differs from what the last generation wrote: someone edited it."""
    return bool(lesson.content) and content_hash(lesson.content) != lesson.generated_content_hash


def lesson_revision_create(*, lesson: Lesson, reason: str) -> LessonRevision:
    """Keep the lesson's current content (before something replaces it)."""
    return LessonRevision.objects.create(
        lesson=lesson,
        reason=reason[:100],
        edited=lesson_is_edited(lesson=lesson),
        **{name: getattr(lesson, name) for name in CONTENT_FIELDS},
    )


@transaction.atomic
def lesson_generation_claim(
    *, lesson_id: int, statuses: Iterable[str], job_id: JobId = None
) -> GenerationChange | None:
    """Move a lesson in one of `statuses` to `generating` with one conditional UPDATE.

    None when the lesson was not in one of them: another click, tab or worker claimed it.
    Otherwise the change that will be sent at the commit (set its `job_id` once the job
    exists).
    """
    claimed = Lesson.objects.filter(pk=lesson_id, generation_status__in=list(statuses)).update(
        generation_status=Lesson.GenerationStatus.GENERATING,
        generation_error="",
        updated_at=timezone.now(),
    )
    return _generation_changed_by_id(lesson_id, job_id) if claimed else None


@transaction.atomic
def lesson_generation_release(
    *, lesson_id: int, status: str, error: str = "", job_id: JobId = None
) -> bool:
    """Move a `generating` lesson to `status` (a failure, a cancel); False if not generating."""
    if status not in Lesson.GenerationStatus.values:
        raise ValueError(f"unknown generation status {status!r}")
    released = Lesson.objects.filter(
        pk=lesson_id, generation_status=Lesson.GenerationStatus.GENERATING
    ).update(
        generation_status=status,
        generation_error=error if status == Lesson.GenerationStatus.FAILED else "",
        updated_at=timezone.now(),
    )
    if released:
        _generation_changed_by_id(lesson_id, job_id)
    return bool(released)


def _generation_changed(lesson: Lesson, job_id: JobId) -> GenerationChange:
    """Send `lesson_generation_changed` with the lesson as it is now, once this commits."""
    change = GenerationChange(
        lesson_id=lesson.pk,
        module_id=lesson.module_id,
        course_id=lesson.course_id,
        generation_status=str(lesson.generation_status),
        generation_error=lesson.generation_error,
        job_id=job_id,
    )
    send = partial(lesson_generation_changed.send, sender=Lesson, change=change)
    transaction.on_commit(send, robust=True)
    return change


def _generation_changed_by_id(lesson_id: int, job_id: JobId) -> GenerationChange:
    """The same, for a transition made by a conditional UPDATE (read back in its transaction)."""
    lesson = Lesson.objects.only(
        "module_id", "course_id", "generation_status", "generation_error"
    ).get(pk=lesson_id)
    return _generation_changed(lesson, job_id)
