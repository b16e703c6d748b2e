"""The tutor chat: free-text answers, `typing` frames, a `welcome` on connect, and anonymous
use where allowed."""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from ai_chat.consumers.base import BaseAIConsumer
from ai_chat.kinds import get_kind
from ai_chat.kinds.base import Target
from ai_chat.kinds.chat import ChatContext, ChatKind
from ai_chat.server_frames import WelcomeFrame
from sockets.errors import NotFound


class ChatConsumer(BaseAIConsumer):
    kind = "chat"
    typing_frames = True
    anonymous_setting = "CHAT_ALLOW_ANONYMOUS"

    async def ready(self, request_id: str | None) -> None:
        """Greet: TUTOR_WELCOME, naming the lesson or course of `?lesson_id=` / `?course_id=`
        when the user may view it (otherwise, and for anonymous use, the general greeting)."""
        if not settings.TUTOR_WELCOME:
            return
        grounding = self._grounding()
        welcome = await database_sync_to_async(self._welcome)(grounding)
        await self.send_frame(welcome, request_id)

    def _grounding(self) -> ChatContext:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ids: dict[str, int] = {}
        for name in ("course_id", "lesson_id"):
            value = (query.get(name) or [""])[0]
            if value.isdigit() and 0 < int(value) < 2**63:
                ids[name] = int(value)
        return ChatContext(**ids)

    def _welcome(self, grounding: ChatContext) -> WelcomeFrame:
        kind = get_kind(self.kind)
        assert isinstance(kind, ChatKind)
        user: Any = self.user or AnonymousUser()
        target = Target()
        if user.is_authenticated and (grounding.course_id or grounding.lesson_id):
            try:
                target = kind.resolve_target(user=user, context=grounding)
            except NotFound:  # not theirs to see: greeted as if it were not named
                target = Target()
        row: Any = target.row
        lesson_id = row.pk if row is not None and hasattr(row, "course_id") else None
        course_id = row.course_id if lesson_id is not None else (row.pk if row else None)
        return WelcomeFrame.make(
            text=kind.welcome(target=target), course_id=course_id, lesson_id=lesson_id
        )
