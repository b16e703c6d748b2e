"""The tutor chat: free-text answers, a typing state, and anonymous use where allowed."""

from typing import Any

from django.conf import settings

from ai_chat.consumers.base import BaseAIConsumer
from ai_chat.exceptions import NotRunning
from ai_chat.protocol import CancelFrame, HistoryFrame, MessageFrame, RefinementFrame, ResumeFrame
from ai_chat.services.anonymous import AnonymousSession, client_address
from ai_chat.services.generation import GenerationJob
from ai_chat.services.streams import FINAL_TYPES
from sockets.errors import NotFound, RateLimited
from sockets.frames import ClientFrame, PingFrame


class ChatConsumer(BaseAIConsumer):
    kind = "chat"

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.anonymous = AnonymousSession()
        await super().connect()

    def anonymous_allowed(self) -> bool:
        return settings.CHAT_ALLOW_ANONYMOUS

    async def _start(
        self, job: GenerationJob, *, created: bool, title: str, request_id: str | None
    ) -> None:
        await super()._start(job, created=created, title=title, request_id=request_id)
        await self._typing(job.conversation_id, job.message_id, True, request_id)

    async def _relay_frame(self, frame: dict[str, Any], request_id: str | None) -> None:
        if frame["type"] in FINAL_TYPES:
            if self.user is None:
                self.anonymous.finish(frame)
            await self._typing(
                frame.get("conversation_id"), frame.get("message_id"), False, request_id
            )
        await super()._relay_frame(frame, request_id)

    async def _typing(
        self,
        conversation_id: str | None,
        message_id: str | None,
        active: bool,
        request_id: str | None,
    ) -> None:
        await self.send_frame(
            {
                "type": "typing",
                "conversation_id": conversation_id,
                "message_id": message_id,
                "active": active,
            },
            request_id,
        )

    # --- anonymous use: nothing is stored past the connection ------------------------------

    async def handle_anonymous(self, frame: ClientFrame) -> None:
        if not self.anonymous_allowed():
            return await super().handle_anonymous(frame)
        if isinstance(frame, PingFrame):
            await self.send_frame({"type": "pong"}, frame.request_id)
        elif isinstance(frame, MessageFrame | RefinementFrame):
            retry_after = await self.runtime.rate.hit(
                f"anon:{client_address(self.scope)}", settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE
            )
            if retry_after > 0:
                raise RateLimited(retry_after=retry_after)
            conversation, created, job = self.anonymous.prepare(
                kind_name=self.kind,
                content=frame.content,
                context=getattr(frame, "context", None),
                conversation_id=frame.conversation_id,
                refinement=isinstance(frame, RefinementFrame),
            )
            await self._start(
                job, created=created, title=conversation.title, request_id=frame.request_id
            )
        elif isinstance(frame, HistoryFrame):
            page = self.anonymous.history(frame.conversation_id, frame.before, frame.limit)
            await self.send_frame(page, frame.request_id)
        elif isinstance(frame, ResumeFrame):
            conversation = self.anonymous.get(frame.conversation_id)
            answers = [m["id"] for m in conversation.messages if m["role"] == "assistant"]
            message_id = str(frame.message_id) if frame.message_id else (answers or [""])[-1]
            if message_id not in answers or not self.generation.hub.is_local(message_id):
                raise NotFound("Message not found.", conversation_id=conversation.id)
            self._follow(message_id, after_index=frame.after_index, request_id=frame.request_id)
        elif isinstance(frame, CancelFrame):
            conversation = self.anonymous.get(frame.conversation_id)
            if conversation.running is None or not self.generation.runner.cancel(conversation.id):
                raise NotRunning(conversation_id=conversation.id)
        else:  # save, feedback: nothing of an anonymous chat is kept to act on
            await super().handle_anonymous(frame)
