"""Kind `chat`: free-text tutor answers in markdown."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field

from ai_chat.kinds.base import ContextSchema, Kind, Schema, Target


class ChatContext(ContextSchema):
    course_id: int | None = Field(default=None, ge=1)
    lesson_id: int | None = Field(default=None, ge=1)


class ChatResult(Schema):
    text: str = Field(min_length=1)


class ChatKind(Kind):
    name = "chat"
    context_model = ChatContext
    result_model = ChatResult
    structured = False
    prompt_version = "chat-2026-11-22"
    instructions = (
        "You are a patient tutor. Answer the learner's question in clear markdown, at their "
        "level, with a short example where it helps. If you do not know, say so."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        # Grounding in what the learner is looking at arrives with the tutor chat issue.
        return Target()

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        return {
            "text": (
                "**Placeholder answer.** The offline provider is active, so no model read your "
                "question. Set `GEMINI_API_KEY` for real answers."
            )
        }
