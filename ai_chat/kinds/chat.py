"""Kind `chat`: free-text tutor answers in markdown, grounded in what the learner is viewing."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field

from ai_chat.kinds.base import ContextSchema, Kind, Schema, Target
from ai_chat.kinds.registry import register
from learning.selectors import course_viewable_by, lesson_get_viewable
from lessons.models import Lesson
from sockets.errors import NotFound

# Grounding text is bounded: a long lesson must not crowd out the question or the budget.
MAX_LESSON_CONTENT = 12_000


class ChatContext(ContextSchema):
    course_id: int | None = Field(default=None, ge=1)
    lesson_id: int | None = Field(default=None, ge=1)


class ChatResult(Schema):
    text: str = Field(min_length=1)


@register
class ChatKind(Kind):
    name = "chat"
    path = "/ws/ai/chat/"
    consumer = "ai_chat.consumers.chat.ChatConsumer"
    order = 50
    example_prompt = "Explain **loops** in Java with a short example"
    context_model = ChatContext
    result_model = ChatResult
    structured = False
    # Each turn's prompt carries the lesson again: earlier turns are sent as asked.
    history_from_prompt = False
    prompt_version = "chat-2026-11-22"
    # The course and lesson are given as reference, not as instructions: a learner's question
    # decides what to answer, and the tutor says so when the material does not cover it.
    instructions = (
        "You are a patient tutor. Answer the learner's question in clear markdown, at their "
        "level, with a short example where it helps. When course material is given, base your "
        "answer on it and say when the question goes beyond it. If you do not know, say so. "
        "Never include raw HTML."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        """Only a course or lesson the user may view (owner, enrolled, staff) grounds answers."""
        assert isinstance(context, ChatContext)
        if context.lesson_id is not None:
            lesson = lesson_get_viewable(user=user, lesson_id=context.lesson_id)
            if lesson is None or context.course_id not in (None, lesson.course_id):
                raise NotFound("Lesson not found.")
            return Target(lesson)
        if context.course_id is not None:
            course = course_viewable_by(user=user).filter(pk=context.course_id).first()
            if course is None:
                raise NotFound("Course not found.")
            return Target(course)
        return Target()

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        # The target is the lesson being read (in its course), the course, or nothing.
        lesson: Any = target.row if isinstance(target.row, Lesson) else None
        course: Any = lesson.course if lesson is not None else target.row
        if course is None:
            return content
        outline = "; ".join(
            course.lessons.order_by("module__position", "position").values_list("title", flat=True)
        )
        parts = [
            f"Course: {course.title} (level {course.level}, ages {course.age_range or 'any'})",
            f"Course description: {course.description}",
            f"Lessons of the course: {outline or 'none yet'}",
        ]
        if lesson is not None:
            parts += [
                f"The learner is reading the lesson: {lesson.title}",
                f"Lesson content:\n{lesson.content[:MAX_LESSON_CONTENT] or '(not written yet)'}",
            ]
        return "\n".join([*parts, "", f"Learner's question: {content}"])

    def title_for(self, *, content: str, target: Target) -> str:
        return content.strip().splitlines()[0][:200] if content.strip() else "Tutor chat"

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        grounded = (
            " about this course" if context.get("course_id") or context.get("lesson_id") else ""
        )
        return {
            "text": (
                f"**Placeholder answer{grounded}.** The offline provider is active, so no model "
                "read your question. Set `GEMINI_API_KEY` for real answers."
            )
        }
