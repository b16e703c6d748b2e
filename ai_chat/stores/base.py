"""The interface of a conversation store, as the generation consumer uses it."""

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from ai_chat.generation.job import GenerationJob
from ai_chat.server_frames import (
    ConversationListFrame,
    ConversationUpdatedFrame,
    HistoryPageFrame,
    SavedFrame,
)
from sockets.server_frames import ServerFrame


@dataclass(frozen=True)
class PreparedTurn:
    """A turn stored and ready to run: its conversation, and the job that generates it."""

    conversation_id: str
    created: bool
    title: str
    job: GenerationJob


class ConversationStore(Protocol):
    @property
    def shared(self) -> bool:
        """Whether every process sees its conversations (a cancel may go to another one)."""

    @property
    def rate_key(self) -> str:
        """The key of the message rate limit: `user:{id}`, or the client's address."""

    @property
    def rate_per_minute(self) -> int:
        """Messages a minute the key may send."""

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
        """Check and store a turn (raises the protocol's errors)."""

    async def history(
        self, *, kind: str, conversation_id: uuid.UUID, before: uuid.UUID | None, limit: int
    ) -> HistoryPageFrame:
        """A page of the conversation's messages, newest first."""

    async def resumable(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> str:
        """The assistant message to resume (default: the latest), or `NotFound`."""

    async def running(self, *, kind: str, conversation_id: uuid.UUID) -> str | None:
        """The conversation's generation still running, if any (`NotFound` for not yours)."""

    async def replay(self, message_id: str) -> list[ServerFrame]:
        """The frames of an ended message, rebuilt from the store (empty while it runs)."""

    async def save(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> SavedFrame:
        """Write a result's rows."""

    async def feedback(self, *, message_id: uuid.UUID, rating: int, comment: str) -> None:
        """Store a rating of an assistant message."""

    async def list_conversations(
        self, *, kind: str, archived: bool, page: int, page_size: int
    ) -> ConversationListFrame:
        """A page of the conversations of `kind`, last activity first."""

    async def update_conversation(
        self,
        *,
        kind: str,
        conversation_id: uuid.UUID,
        title: str | None,
        archived: bool | None,
    ) -> ConversationUpdatedFrame:
        """Rename, archive or unarchive a conversation (`NotFound` for not yours)."""
