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


class AnswerItem(Part):
    id: int
    author_id: int
    author_name: str
    text: str
    created_at: datetime


class QuestionItem(Part):
    """A question on a lesson with its answers (oldest first); hidden ones are never sent."""

    id: int
    lesson_id: int
    course_id: int
    lesson_title: str
    learner_id: int
    learner_name: str
    text: str
    created_at: datetime
    answered_at: datetime | None = Field(description="When the first answer came; null: open.")
    answers: list[AnswerItem]


class QuestionRemoved(Part):
    """A question a moderator hid or deleted: drop it."""

    id: int
    lesson_id: int
    course_id: int


class StrugglingLesson(Part):
    lesson_id: int
    title: str
    open_confusions: int
    open_questions: int


class ResponseTime(Part):
    """From a confusion or question to its resolution or first answer, over the last 90 days
    (the newest 1,000 of each); null without any."""

    samples: int
    p50_seconds: float | None
    p90_seconds: float | None


class CourseAnalytics(Part):
    """What an instructor acts on; an event carries only the fields that changed."""

    course_id: int
    enrolled: int | None = Field(default=None, description="Learners enrolled.")
    lessons: int | None = None
    completions: int | None = Field(default=None, description="Lessons completed by them.")
    completion_rate: float | None = Field(
        default=None, description="completions / (enrolled x lessons), 0 to 1."
    )
    active_now: int | None = Field(
        default=None, description="Enrolled learners viewing the course or one of its lessons."
    )
    struggling: list[StrugglingLesson] | None = Field(
        default=None, description="Lessons by open confusions + open questions, at most 5."
    )
    response_time: ResponseTime | None = None
