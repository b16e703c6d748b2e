"""Kind `lesson`: one lesson's description, outline and full content."""

from typing import Annotated, Any

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field

from ai_chat.kinds.base import (
    ContextSchema,
    Kind,
    SavedObject,
    Schema,
    Target,
    editable_lesson_target,
    titled,
)
from ai_chat.kinds.registry import register
from lessons.materials import lesson_materials
from lessons.selectors import lesson_editable_by
from lessons.services import lesson_apply_content

Text = Annotated[str, Field(min_length=1, max_length=1000)]


class LessonContext(ContextSchema):
    lesson_id: int = Field(ge=1)


class OutlineSection(Schema):
    heading: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=2000)


class KeyTerm(Schema):
    term: str = Field(min_length=1, max_length=200)
    definition: str = Field(min_length=1, max_length=2000)


class LessonResult(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    objectives: list[Text] = Field(min_length=1, max_length=20)
    outline: list[OutlineSection] = Field(min_length=1, max_length=40)
    content: str = Field(min_length=1, max_length=200_000)
    estimated_minutes: int = Field(ge=1, le=600)
    key_terms: list[KeyTerm] = Field(default_factory=list, max_length=50)


@register
class LessonKind(Kind):
    name = "lesson"
    path = "/ws/ai/lesson-content/"
    order = 20
    object_types = ("lesson",)
    example_prompt = "Write this lesson with short examples"
    example_context = {"lesson_id": 1}
    example_rows = {"lesson_id": (lesson_editable_by, "lesson you may edit")}
    context_model = LessonContext
    result_model = LessonResult
    prompt_version = "lesson-2026-11-22"
    # The course around the lesson goes into the prompt so that the lesson fits its neighbours
    # instead of repeating them.
    instructions = (
        "You are an expert teacher writing one lesson of a course for an instructor. "
        "Answer only with a JSON object matching the given schema: no prose around it, no "
        "markdown fence. `content` is the full lesson in markdown, with headings matching the "
        "outline, worked examples and a short recap. Fit the course's level and age range and "
        "do not repeat what neighbouring lessons cover."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        assert isinstance(context, LessonContext)
        return editable_lesson_target(user=user, lesson_id=context.lesson_id)

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        lesson: Any = target.row
        course = lesson.course
        siblings = [
            title
            for title in lesson.course.lessons.order_by("module__position", "position").values_list(
                "title", flat=True
            )
        ]
        return "\n".join(
            [
                f"Request: {content}",
                f"Course: {course.title} (level {course.level}, ages {course.age_range or 'any'}, "
                f"language {course.language})",
                f"Course description: {course.description}",
                f"Module: {lesson.module.title if lesson.module else 'none'}",
                f"Lesson to write: {lesson.title}",
                f"Lesson description: {lesson.description}",
                f"Lesson objectives: {'; '.join(lesson.objectives) or 'not given'}",
                f"All lessons of the course, in order: {'; '.join(siblings)}",
                *filter(None, [lesson_materials(lesson)]),
            ]
        )

    def title_for(self, *, content: str, target: Target) -> str:
        fallback = super().title_for(content=content, target=target)
        return titled("Lesson", target.row, fallback)

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        lesson_id = context.get("lesson_id")
        return {
            "title": f"[Placeholder] Lesson {lesson_id}",
            "description": "Offline placeholder lesson. No model was involved.",
            "objectives": ["Read a placeholder lesson", "See how lesson content streams"],
            "outline": [
                {"heading": "Introduction", "summary": "What this lesson covers."},
                {"heading": "Main idea", "summary": "The core of the lesson."},
                {"heading": "Recap", "summary": "What to remember."},
            ],
            "content": (
                "# Introduction\n\nThis is placeholder content from the offline provider.\n\n"
                "# Main idea\n\nConfigure `GEMINI_API_KEY` to generate real lessons.\n\n"
                "# Recap\n\n- Placeholder content is deterministic.\n"
            ),
            "estimated_minutes": 25,
            "key_terms": [{"term": "Placeholder", "definition": "Content made without a model."}],
        }

    def save(
        self,
        *,
        user: User,
        data: dict[str, Any],
        context: ContextSchema,
        target: Target,
    ) -> list[SavedObject]:
        lesson = lesson_apply_content(lesson=target.row, content=data)  # type: ignore[arg-type]
        return [SavedObject("lesson", lesson, False)]


class ResearchNotes(Schema):
    text: str = Field(min_length=1)


class LessonResearchKind(LessonKind):
    """The research turn before a grounded lesson is written (`GEMINI_GROUNDING`, on a model
    that needs two calls): free-text notes from Google Search, stored in the lesson's
    conversation so the lesson turn that follows reads them as its history.

    Not registered: it is a turn of the `lesson` conversation, not an endpoint of its own (its
    `name` stays `lesson` for the conversation, metrics and events).
    """

    structured = False
    result_model = ResearchNotes  # type: ignore[assignment]  # free text, not a LessonResult
    prompt_version = "lesson-research-2026-12-01"
    instructions = (
        "You research one lesson of a course for the teacher who will write it. Search the web "
        "and answer in concise markdown notes: the accurate, current facts, definitions, worked "
        "examples and common mistakes the lesson needs, at the course's level. Say where "
        "sources disagree. Do not write the lesson itself."
    )


LESSON_RESEARCH = LessonResearchKind()
