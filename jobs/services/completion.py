"""A finished generation becomes the lesson's content, once, with its provenance."""

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from ai_chat.models import AIGeneratedObject, AIMessage, AIResultSave
from jobs.generation import GenerationOutcome
from jobs.models import LessonJob
from jobs.services.events import lesson_generation_announce, lesson_generation_notify
from jobs.services.lifecycle import Lease
from lessons.models import Lesson
from lessons.services import lesson_apply_content, lesson_web_sources_replace


@transaction.atomic
def job_succeed(*, lease: Lease, outcome: GenerationOutcome) -> bool:
    """Apply the result to the lesson and end the job `succeeded`; False when the job is no
    longer this attempt's (cancelled or taken over): then nothing is written."""
    ended = LessonJob.objects.filter(
        pk=lease.job_id, lease_token=lease.token, status=LessonJob.Status.RUNNING
    ).update(
        status=LessonJob.Status.SUCCEEDED,
        model=outcome.model[:100],
        prompt_version=outcome.prompt_version[:50],
        error_code="",
        error_message="",
        lease_token="",
        lease_expires_at=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not ended:
        return False
    job = LessonJob.objects.select_related("user").get(pk=lease.job_id)
    lesson = Lesson.objects.select_for_update().get(pk=job.lesson_id)
    lesson_apply_content(lesson=lesson, content=outcome.data or {}, job_id=job.pk)
    grounding = outcome.grounding
    lesson_web_sources_replace(
        lesson=lesson,
        sources=[{"title": s.title, "uri": s.uri} for s in grounding.sources] if grounding else [],
        search_suggestions=grounding.search_entry_point if grounding else "",
        search_queries=grounding.queries if grounding else (),
    )
    _record_provenance(job=job, lesson=lesson, message_id=outcome.message_id)
    lesson_generation_announce(lesson_id=lesson.pk, job_id=job.pk, user_id=job.user_id)
    lesson_generation_notify(lesson_id=lesson.pk, job_id=job.pk, user=job.user)
    return True


def _record_provenance(*, job: LessonJob, lesson: Lesson, message_id: str) -> None:
    """Which message wrote the lesson, as a `save` over the WebSocket records it."""
    message = AIMessage.objects.get(pk=uuid.UUID(message_id))
    record, created = AIResultSave.objects.get_or_create(
        message=message, defaults={"user": job.user}
    )
    if created:
        AIGeneratedObject.objects.create(
            save_record=record,
            message=message,
            position=0,
            object_type="lesson",
            content_type=ContentType.objects.get_for_model(lesson),
            object_id=lesson.pk,
            created=False,
        )
