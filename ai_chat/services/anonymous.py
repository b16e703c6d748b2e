"""Anonymous tutor chats: kept in the connection only, never in the database."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from ai_chat.agent.base import GenerationRequest, Turn
from ai_chat.exceptions import Busy, NothingToRefine
from ai_chat.kinds import get_kind
from ai_chat.services.generation import GenerationJob
from sockets.errors import InvalidMessage, NotFound


@dataclass
class AnonymousConversation:
    id: str
    title: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    running: str | None = None

    def turns(self) -> tuple[Turn, ...]:
        turns: list[Turn] = []
        for question, answer in zip(self.messages[::2], self.messages[1::2], strict=False):
            if answer["status"] == "completed":
                turns += [Turn("user", question["content"]), Turn("model", answer["content"])]
        return tuple(turns)


@dataclass
class AnonymousSession:
    """The conversations of one anonymous connection."""

    conversations: dict[str, AnonymousConversation] = field(default_factory=dict)

    def get(self, conversation_id: uuid.UUID | str) -> AnonymousConversation:
        conversation = self.conversations.get(str(conversation_id))
        if conversation is None:
            raise NotFound("Conversation not found.", conversation_id=str(conversation_id))
        return conversation

    def prepare(
        self,
        *,
        kind_name: str,
        content: str,
        context: dict[str, Any] | None,
        conversation_id: uuid.UUID | None,
        refinement: bool,
    ) -> tuple[AnonymousConversation, bool, GenerationJob]:
        kind = get_kind(kind_name)
        parsed = kind.parse_context(context)
        if any(parsed.model_dump(exclude_none=True).values()):
            # Grounding reads courses, which anonymous users may not see.
            raise InvalidMessage(
                "Sign in to ask about a course or lesson.",
                details=[{"field": "context", "message": "not available without signing in"}],
            )
        created = conversation_id is None
        if conversation_id is None:
            conversation = AnonymousConversation(id=str(uuid.uuid4()), title=content[:200])
            self.conversations[conversation.id] = conversation
        else:
            conversation = self.get(conversation_id)
        if conversation.running:
            raise Busy(conversation_id=conversation.id)
        if refinement and not any(m["status"] == "completed" for m in conversation.messages):
            raise NothingToRefine(conversation_id=conversation.id)
        history = conversation.turns()
        message_id = str(uuid.uuid4())
        conversation.messages.append(_message(str(uuid.uuid4()), "user", content, "completed"))
        conversation.messages.append(_message(message_id, "assistant", "", "streaming"))
        conversation.running = message_id
        job = GenerationJob(
            user_id=0,
            conversation_id=conversation.id,
            message_id=message_id,
            kind=kind,
            context=parsed,
            request=GenerationRequest(
                kind=kind_name,
                instructions=kind.instructions,
                prompt=content,
                history=history,
                result_schema=kind.result_schema(),
                context=parsed.model_dump(mode="json"),
                max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS,
            ),
            persist=False,
        )
        return conversation, created, job

    def finish(self, frame: dict[str, Any]) -> None:
        """Record how a generation ended (from its final frame)."""
        conversation = self.conversations.get(frame.get("conversation_id", ""))
        if conversation is None or conversation.running is None:
            return
        message = next(m for m in conversation.messages if m["id"] == conversation.running)
        if frame["type"] == "complete":
            message.update(status="completed", content=frame["data"]["text"], data=frame["data"])
        else:
            message["status"] = "cancelled" if frame["type"] == "cancelled" else "failed"
        conversation.running = None

    def history(self, conversation_id: uuid.UUID, before: uuid.UUID | None, limit: int) -> dict:
        conversation = self.get(conversation_id)
        newest_first = conversation.messages[::-1]
        if before is not None:
            ids = [m["id"] for m in newest_first]
            if str(before) not in ids:
                raise NotFound("Message not found.", conversation_id=conversation.id)
            newest_first = newest_first[ids.index(str(before)) + 1 :]
        return {
            "type": "history",
            "conversation_id": conversation.id,
            "messages": newest_first[:limit],
            "has_more": len(newest_first) > limit,
        }


def _message(message_id: str, role: str, content: str, status: str) -> dict[str, Any]:
    created = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
    return {
        "id": message_id,
        "role": role,
        "content": content,
        "data": None,
        "status": status,
        "created_at": created,
    }


def client_address(scope: dict[str, Any]) -> str:
    """The client's address; X-Forwarded-For only when the peer is a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if peer not in settings.TRUSTED_PROXIES:
        return peer
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest hop that is not one of our proxies
        if hop not in settings.TRUSTED_PROXIES:
            return hop
    return peer
