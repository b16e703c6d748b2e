"""`DatabaseStore`: a signed-in user's conversations, in the database, scoped to that user."""

import uuid
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.models import AIMessage
from ai_chat.server_frames import (
    ConversationListFrame,
    ConversationUpdatedFrame,
    HistoryPageFrame,
    SavedFrame,
)
from ai_chat.services.conversations import (
    conversation_get_for_user,
    conversation_history,
    feedback_record,
    message_get_for_user,
)
from ai_chat.services.listing import conversation_update, conversations_page
from ai_chat.services.saving import result_save
from ai_chat.services.turns import turn_prepare
from ai_chat.services.workers import worker_id
from ai_chat.stores.base import PreparedTurn
from ai_chat.stores.frames import history_frame, replay_frames
from sockets.server_frames import ServerFrame


@dataclass
class DatabaseStore:
    user: Any
    shared = True

    @property
    def rate_key(self) -> str:
        return f"user:{self.user.pk}"

    @property
    def rate_per_minute(self) -> int:
        return int(settings.RATE_LIMIT_MESSAGES_PER_MINUTE)

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
        turn = await database_sync_to_async(turn_prepare)(
            user=self.user,
            kind_name=kind,
            content=content,
            context=context,
            conversation_id=conversation_id,
            refinement=refinement,
            model=model,
            worker=worker_id(),
        )
        return PreparedTurn(
            conversation_id=str(turn.conversation.pk),
            created=turn.created,
            title=turn.conversation.title,
            job=turn.job,
        )

    async def history(
        self, *, kind: str, conversation_id: uuid.UUID, before: uuid.UUID | None, limit: int
    ) -> HistoryPageFrame:
        def page() -> HistoryPageFrame:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=conversation_id, kind=kind
            )
            messages, has_more = conversation_history(
                user=self.user, conversation=conversation, before=before, limit=limit
            )
            return history_frame(conversation, messages, has_more)

        return await database_sync_to_async(page)()

    async def resumable(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> str:
        def find() -> str:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=conversation_id, kind=kind
            )
            message = message_get_for_user(
                user=self.user, conversation=conversation, message_id=message_id
            )
            return str(message.pk)

        return await database_sync_to_async(find)()

    async def running(self, *, kind: str, conversation_id: uuid.UUID) -> str | None:
        def running_message() -> str | None:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=conversation_id, kind=kind
            )
            message = (
                conversation.messages.filter(status=AIMessage.Status.STREAMING)
                .order_by("-created_at")
                .first()
            )
            return str(message.pk) if message else None

        return await database_sync_to_async(running_message)()

    async def replay(self, message_id: str) -> list[ServerFrame]:
        return await database_sync_to_async(replay_frames)(message_id)

    async def save(
        self, *, kind: str, conversation_id: uuid.UUID, message_id: uuid.UUID | None
    ) -> SavedFrame:
        def save() -> SavedFrame:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=conversation_id, kind=kind
            )
            outcome = result_save(user=self.user, conversation=conversation, message_id=message_id)
            return SavedFrame.make(
                conversation_id=conversation_id,
                message_id=outcome.message_id,
                objects=outcome.objects,
                created=outcome.created,
            )

        return await database_sync_to_async(save)()

    async def feedback(self, *, message_id: uuid.UUID, rating: int, comment: str) -> None:
        await database_sync_to_async(feedback_record)(
            user=self.user, message_id=message_id, rating=rating, comment=comment
        )

    async def list_conversations(
        self, *, kind: str, archived: bool, page: int, page_size: int
    ) -> ConversationListFrame:
        listed = await database_sync_to_async(conversations_page)(
            user=self.user, kind=kind, archived=archived, page=page, page_size=page_size
        )
        return ConversationListFrame.make(
            archived=archived,
            items=listed.items,
            count=listed.count,
            page=listed.page,
            pages=listed.pages,
        )

    async def update_conversation(
        self,
        *,
        kind: str,
        conversation_id: uuid.UUID,
        title: str | None,
        archived: bool | None,
    ) -> ConversationUpdatedFrame:
        summary = await database_sync_to_async(conversation_update)(
            user=self.user,
            conversation_id=conversation_id,
            kind=kind,
            title=title,
            archived=archived,
        )
        return ConversationUpdatedFrame.make(conversation=summary)
