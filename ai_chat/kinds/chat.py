"""Kind `chat`: free-text tutor answers in markdown, grounded in what the learner is viewing."""

from typing import Any

from django.conf import settings
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

    def answer_cache_row(self, *, target: Target) -> Any:
        """Answers are cached per lesson (a course alone is too broad a ground)."""
        return target.row if isinstance(target.row, Lesson) else None

    def fallback_answer(self, *, target: Target) -> str | None:
        """From the lesson being read: its outline and key terms (or the course's lessons), and
        a plain word that this is not an answer to the question."""
        lesson: Any = target.row if isinstance(target.row, Lesson) else None
        course: Any = lesson.course if lesson is not None else target.row
        if course is None:
            return None
        head = (
            "**The tutor is unavailable right now**, so this is not an answer to your question: "
            "here is what the material covers. Ask again in a moment for a real answer."
        )
        if lesson is None:
            titles = course.lessons.order_by("module__position", "position").values_list(
                "title", flat=True
            )
            listed = "\n".join(f"- {title}" for title in titles) or "- (no lessons yet)"
            return f"{head}\n\n### {course.title}: its lessons\n\n{listed}"
        parts = [head, f"### {lesson.title}"]
        if lesson.description:
            parts.append(lesson.description)
        sections = [_line(s, "heading", "summary") for s in lesson.outline or []]
        if any(sections):
            parts.append("**Outline**\n\n" + "\n".join(f"- {s}" for s in sections if s))
        terms = [_line(t, "term", "definition") for t in lesson.key_terms or []]
        if any(terms):
            parts.append("**Key terms**\n\n" + "\n".join(f"- {t}" for t in terms if t))
        if len(parts) == 2:
            parts.append("This lesson has no outline or key terms yet.")
        return "\n\n".join(parts)

    def welcome(self, *, target: Target) -> str:
        """TUTOR_WELCOME with `{topic}`: the lesson (and its course), the course, or general."""
        lesson: Any = target.row if isinstance(target.row, Lesson) else None
        if lesson is not None:
            topic = f'the lesson "{lesson.title}" of "{lesson.course.title}"'
        elif target.row is not None:
            topic = f'the course "{getattr(target.row, "title", target.row)}"'
        else:
            topic = "what you are learning"
        return str(settings.TUTOR_WELCOME).replace("{topic}", topic)

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


def _line(item: Any, name: str, detail: str) -> str:
    """`name: detail` of an outline section or key term (a bare string is taken as it is)."""
    if isinstance(item, str):
        return item.strip()
    if not isinstance(item, dict):
        return ""
    head, rest = str(item.get(name) or "").strip(), str(item.get(detail) or "").strip()
    if head and rest:
        return f"**{head}**: {rest}"
    return head or rest
