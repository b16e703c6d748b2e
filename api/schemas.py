"""What the API reads and answers (API.md, "Courses and on-demand lessons")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

MAX_PAGE_SIZE = 100
MAX_DESCRIPTION_LENGTH = 10_000


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorOut(BaseModel):
    """Every error answer."""

    error: ErrorBody


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, description="1-based page number.")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="At most 100.")


class LessonCounts(BaseModel):
    """Lessons per `generation_status`."""

    pending: int
    generating: int
    completed: int
    failed: int


class LessonSummaryOut(BaseModel):
    id: int
    title: str
    generation_status: str
    generation_error: str
    estimated_duration_minutes: int | None


class ModuleOut(BaseModel):
    id: int
    title: str
    description: str
    position: int
    lessons: list[LessonSummaryOut]


class CourseSummaryOut(BaseModel):
    id: int
    title: str
    description: str
    status: str
    role: str = Field(description="`owner`, `staff`, `learner` or `instructor` (enrolled).")
    lesson_counts: LessonCounts
    created_at: datetime
    updated_at: datetime


class CourseOut(BaseModel):
    id: int
    title: str
    description: str
    status: str
    level: str
    role: str
    modules: list[ModuleOut]
    created_at: datetime
    updated_at: datetime


class CourseIn(BaseModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH)] = ""


class SourceOut(BaseModel):
    kind: str = Field(description="`web` (a page found by search) or `document` (a repository's).")
    title: str
    uri: str = Field(description="The page, or the document's address at `commit`; may be empty.")
    path: str = Field(description="The document's path in the repository; empty for web pages.")
    heading: str = Field(description="The document's heading the lesson draws on, if known.")
    commit: str = Field(description="The commit the document was read at; empty for web pages.")


class LessonOut(BaseModel):
    id: int
    course_id: int
    module_id: int | None
    title: str
    description: str
    objectives: list[Any]
    estimated_duration_minutes: int | None
    generation_status: str
    generation_error: str
    content: str = Field(description="Markdown; empty until the generation completed.")
    sources: list[SourceOut] = Field(
        description="What the lesson was written from: web pages or repository documents."
    )
    search_suggestions: str = Field(
        description=(
            "Google Search suggestions (HTML) that Google's terms require to be shown with a "
            "lesson grounded in Google Search; empty otherwise. Show it as it is, isolated "
            "(the lesson page frames it in a sandbox, without scripts)."
        )
    )
    job_id: int | None = Field(description="The latest generation job; null until jobs exist.")
    updated_at: datetime


class PageOut(BaseModel):
    count: int
    page: int
    pages: int


class CoursePageOut(PageOut):
    items: list[CourseSummaryOut]


class LessonPageOut(PageOut):
    items: list[LessonSummaryOut]
