"""What learning puts on `/ws/events/`, as models: snapshot entries and event payloads (the
AsyncAPI document and the tests read them; `learning.payloads` builds the plain dicts)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from sockets.server_frames import Part

GenerationStatus = Literal["pending", "generating", "completed", "failed"]


class ProgressItem(Part):
    learner_id: int
    lesson_id: int
    course_id: int
    percent: int = Field(ge=0, le=100, description="The furthest reached.")
    position: str = Field(description="The latest position, as text.")
    completed_at: datetime | None
    updated_at: datetime
    learner_name: str | None = Field(default=None, description="In instructor rooms only.")


class ConfusionItem(Part):
    id: int
    learner_id: int
    learner_name: str
    lesson_id: int
    course_id: int
    position: str
    note: str
    created_at: datetime
    resolved_by: int | None
    resolved_at: datetime | None


class LessonState(Part):
    lesson_id: int
    course_id: int
    title: str
    generation_status: GenerationStatus


class LessonCounts(Part):
    """Per-lesson analytics; an `analytics` event carries only the counts that changed."""

    lesson_id: int
    course_id: int
    viewers: int | None = None
    completions: int | None = None
    open_confusions: int | None = None


class LessonGeneration(Part):
    """A lesson's generation status after a transition (API.md, on-demand lessons)."""

    lesson_id: int
    module_id: int | None
    course_id: int
    generation_status: GenerationStatus
    generation_error: str
    job_id: int | str | None
