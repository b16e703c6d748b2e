"""`MemoryStore`: an anonymous tutor chat's conversations, kept in the connection only.

Nothing of an anonymous chat reaches the database: its conversations live as long as the socket,
its generations are recorded here (`MemoryRecorder`) and it cannot be saved or rated.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from accounts.firebase import AuthFailed
from ai_chat.agent.base import GenerationRequest, Turn
from ai_chat.exceptions import Busy, ConversationArchived, NothingToRefine
from ai_chat.generation.job import GenerationJob
from ai_chat.generation.recording import Ending, clean_data, clean_text
from ai_chat.kinds import get_kind
from ai_chat.server_frames import (
    ConversationListFrame,
    ConversationUpdatedFrame,
    HistoryPageFrame,
    SavedFrame,
)
from ai_chat.services.context import context_plan, with_summary
from ai_chat.services.listing import clean_title
from ai_chat.stores.base import PreparedTurn
from ai_chat.stores.frames import history_page
from sockets.errors import InvalidMessage, NotFound
from sockets.server_frames import ServerFrame

SIGN_IN = "Sign in to keep a conversation: anonymous chats are not stored."


@dataclass
class MemoryConversation:
    id: str
    title: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    running: str | None = None
    status: str = "active"
    # Bounded context: the summary of the first `summary_turns` turns, sent instead of them.
    summary: str = ""
    summary_turns: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(tz=UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(tz=UTC))

    def listed(self, kind: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": kind,
            "title": self.title,
            "status": self.status,
            "generating": self.running is not None,
            "context": {},
            "created_at": self.created_at,
            "last_activity": self.updated_at,
        }

    def turns(self) -> tuple[Turn, ...]:
        turns: list[Turn] = []
        for question, answer in zip(self.messages[::2], self.messages[1::2], strict=False):
            if answer["status"] == "completed":
                turns += [Turn("user", question["content"]), Turn("model", answer["content"])]
        return tuple(turns)

    def message(self, message_id: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["id"] == message_id), None)


@dataclass
class MemoryRecorder:
    """Records a generation of an anonymous conversation in the connection."""

    conversation: MemoryConversation
    message_id: str

    async def record(self, ending: Ending) -> None:
        message = self.conversation.message(self.message_id)
        if message is not None:
            message.update(
                status=ending.status,
                content=clean_text(ending.content),
                data=clean_data(ending.data),
            )
            if ending.data is not None and "text" in ending.data:
                message["content"] = clean_text(str(ending.data["text"]))
        if self.conversation.running == self.message_id:
            self.conversation.running = None

    async def record_failure(self, ending: Ending) -> None:
        await self.record(ending)

    async def checkpoint(self, text: str) -> None:
        """Nothing to keep: an anonymous chat does not outlive its process."""

    async def record_summary(self, summary: str, through: int) -> None:
        self.conversation.summary, self.conversation.summary_turns = summary, through


@dataclass
class MemoryStore:
    """The conversations of one anonymous connection, keyed on the client's address for limits."""

    address: str
    conversations: dict[str, MemoryConversation] = field(default_factory=dict)
    shared = False

    @property
    def rate_key(self) -> str:
        return f"anon:{self.address}"

    @property
    def rate_per_minute(self) -> int:
        return int(settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE)

    def get(self, conversation_id: uuid.UUID | str) -> MemoryConversation:
        conversation = self.conversations.get(str(conversation_id))
        if conversation is None:
            raise NotFound("Conversation not found.", conversation_id=str(conversation_id))
        return conversation

    async def prepare(
        self,
        *,
        kind: str,
        content: str,
        context: dict[str, Any] | None,
        conversation_id: uuid.UUID | None,
        refinement: bool,
        model: str,
    ) -> PreparedTurn:
        spec = get_kind(kind)
        parsed = spec.parse_context(context)
        if any(parsed.model_dump(exclude_none=True).values()):
            # Grounding reads courses, which anonymous users may not see.
            raise InvalidMessage(
                "Sign in to ask about a course or lesson.",
                details=[{"field": "context", "message": "not available without signing in"}],
            )
        created = conversation_id is None
        if conversation_id is None:
            conversation = MemoryConversation(id=str(uuid.uuid4()), title=content[:200])
            self.conversations[conversation.id] = conversation
        else:
            conversation = self.get(conversation_id)
        if conversation.status == "archived":
            raise ConversationArchived(conversation_id=conversation.id)
        if conversation.running:
            raise Busy(conversation_id=conversation.id)
        if refinement and not any(m["status"] == "completed" for m in conversation.messages):
            raise NothingToRefine(conversation_id=conversation.id)
        plan = context_plan(
            kind=kind,
            turns=conversation.turns(),
            summary=conversation.summary,
            summary_turns=conversation.summary_turns,
            instructions=spec.instructions,
            prompt=content,
        )
        message_id = str(uuid.uuid4())
        conversation.messages.append(_message(str(uuid.uuid4()), "user", content, "completed"))
        conversation.messages.append(_message(message_id, "assistant", "", "streaming"))
        conversation.running = message_id
        conversation.updated_at = datetime.now(tz=UTC)
        request = GenerationRequest(
            kind=kind,
            instructions=with_summary(spec.instructions, plan.summary),
            prompt=content,
            history=plan.history,
            result_schema=spec.result_schema(),
            context=parsed.model_dump(mode="json"),
            max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS,
            user_text=content,
            refinement=refinement,
        )
        job = GenerationJob(
            user_id=0,
            conversation_id=conversation.id,
            message_id=message_id,
            kind=spec,
            context=parsed,
            request=request,
            recorder=MemoryRecorder(conversation, message_id),
            summary=plan.work,
        )
        return PreparedTurn(conversation.id, created, conversation.title, job)

    async def history(
        self, *, kind: str, conversation_id: uuid.UUID, before: uuid.UUID | None, limit: int
    ) -> HistoryPageFrame:
        conversation = self.get(conversation_id)
        newest_first = conversation.messages[::-1]
        if before is not None:
            ids = [m["id"] for m in newest_first]
            if str(before) not in ids:
                raise NotFound("Message not found.", conversation_id=conversation.id)
            newest_first = newest_first[ids.index(str(before)) + 1 :]
        return history_page(conversation.id, newest_first[:limit], len(newest_first) > limit)

    async def resumable(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> str:
        conversation = self.get(conversation_id)
        answers = [m["id"] for m in conversation.messages if m["role"] == "assistant"]
        wanted = str(message_id) if message_id else (answers or [""])[-1]
        if wanted not in answers:
            raise NotFound("Message not found.", conversation_id=conversation.id)
        return wanted

    async def running(self, *, kind: str, conversation_id: uuid.UUID) -> str | None:
        return self.get(conversation_id).running

    async def replay(self, message_id: str) -> list[ServerFrame]:
        # The hub keeps an anonymous generation's frames for STREAM_LOG_TTL_SECONDS; after
        # that a resume finds nothing, and says so.
        return []

    async def list_conversations(
        self, *, kind: str, archived: bool, page: int, page_size: int
    ) -> ConversationListFrame:
        status = "archived" if archived else "active"
        listed = sorted(
            (c for c in self.conversations.values() if c.status == status),
            key=lambda c: c.updated_at,
            reverse=True,
        )
        start = (page - 1) * page_size
        return ConversationListFrame.make(
            archived=archived,
            items=[c.listed(kind) for c in listed[start : start + page_size]],
            count=len(listed),
            page=page,
            pages=max(-(-len(listed) // page_size), 1),
        )

    async def update_conversation(
        self,
        *,
        kind: str,
        conversation_id: uuid.UUID,
        title: str | None,
        archived: bool | None,
    ) -> ConversationUpdatedFrame:
        conversation = self.get(conversation_id)
        if title is not None:
            conversation.title = clean_title(title)
        if archived is not None:
            conversation.status = "archived" if archived else "active"
        return ConversationUpdatedFrame.make(conversation=conversation.listed(kind))

    async def save(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> SavedFrame:
        raise AuthFailed("auth_required", SIGN_IN)

    async def feedback(self, *, message_id: uuid.UUID, rating: int, comment: str) -> None:
        raise AuthFailed("auth_required", SIGN_IN)


def _message(message_id: str, role: str, content: str, status: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "role": role,
        "content": content,
        "data": None,
        "status": status,
        "created_at": datetime.now(tz=UTC),
    }
