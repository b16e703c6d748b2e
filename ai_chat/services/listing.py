"""A user's conversations as a list: newest activity first, per kind, active or archived;
renamed and archived (the plan's `session_close`) by their owner only.

An archived conversation is read only (`conversation_archived` on a new turn) and leaves the
default list; unarchiving brings it back. Renaming and archiving do not count as activity: they
leave `updated_at` (the list's "last activity") as it was.
"""

import math
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet

from ai_chat.exceptions import ConversationArchived
from ai_chat.kinds import socket_kind_names
from ai_chat.models import AIConversation, AIMessage
from ai_chat.services.conversations import conversation_get_for_user
from sockets.errors import InvalidMessage

MAX_TITLE_LENGTH = 200


@dataclass(frozen=True)
class ConversationPage:
    items: list[dict[str, Any]]
    count: int
    page: int
    pages: int


def conversations_for_user(
    *, user: User, kind: str | None = None, archived: bool = False
) -> QuerySet[AIConversation]:
    """The user's conversations (of one kind, or all), last activity first: those of a socket
    endpoint, where they can be continued (an import's model calls are reviewed in the admin)."""
    status = AIConversation.Status.ARCHIVED if archived else AIConversation.Status.ACTIVE
    conversations = AIConversation.objects.filter(
        user=user, status=status, kind__in=socket_kind_names()
    )
    if kind is not None:
        conversations = conversations.filter(kind=kind)
    return _with_generating(conversations).order_by("-updated_at", "-pk")


def _with_generating(conversations: QuerySet[AIConversation]) -> QuerySet[AIConversation]:
    """Annotated `generating`: whether an answer is being written now."""
    running = AIMessage.objects.filter(
        conversation=OuterRef("pk"), status=AIMessage.Status.STREAMING
    )
    return conversations.annotate(generating=Exists(running))


def conversation_summary(conversation: AIConversation) -> dict[str, Any]:
    """What a list shows of a conversation (the socket's and the API's one shape)."""
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation.title,
        "status": conversation.status,
        "generating": bool(getattr(conversation, "generating", False)),
        "context": conversation.context,
        "created_at": conversation.created_at,
        "last_activity": conversation.updated_at,
    }


def conversations_page(
    *, user: User, kind: str | None, archived: bool, page: int, page_size: int
) -> ConversationPage:
    """One page of `conversations_for_user`; a page past the end is empty, not an error."""
    conversations = conversations_for_user(user=user, kind=kind, archived=archived)
    count = conversations.count()
    start = (page - 1) * page_size
    rows = list(conversations[start : start + page_size]) if start < count else []
    return ConversationPage(
        items=[conversation_summary(c) for c in rows],
        count=count,
        page=page,
        pages=max(math.ceil(count / page_size), 1),
    )


def conversation_update(
    *,
    user: User,
    conversation_id: uuid.UUID | str,
    kind: str | None = None,
    title: str | None = None,
    archived: bool | None = None,
) -> dict[str, Any]:
    """Rename and/or archive (or unarchive) one of the user's conversations; its summary."""
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id, kind=kind)
    fields: dict[str, Any] = {}
    if title is not None:
        fields["title"] = clean_title(title)
    if archived is not None:
        fields["status"] = (
            AIConversation.Status.ARCHIVED if archived else AIConversation.Status.ACTIVE
        )
    if fields:
        # `update`, not `save`: renaming is not activity, so `updated_at` stays.
        AIConversation.objects.filter(pk=conversation.pk).update(**fields)
    updated = _with_generating(AIConversation.objects.filter(pk=conversation.pk)).get()
    return conversation_summary(updated)


def clean_title(title: str) -> str:
    """A title as stored: spaces collapsed, at most MAX_TITLE_LENGTH; `invalid_message` when
    nothing is left."""
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidMessage(
            "A title needs at least one character that is not a space.",
            details=[{"field": "title", "message": "blank"}],
        )
    return cleaned[:MAX_TITLE_LENGTH]


def conversation_check_writable(conversation: AIConversation) -> None:
    """`conversation_archived` for a new turn in an archived conversation."""
    if conversation.status == AIConversation.Status.ARCHIVED:
        raise ConversationArchived(conversation_id=str(conversation.pk))
