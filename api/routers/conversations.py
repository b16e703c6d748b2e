"""`/api/conversations`: the caller's AI conversations (every endpoint's), listed, opened,
renamed and archived. Someone else's conversation is 404, like one that does not exist."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from ninja import Query, Router
from pydantic import BaseModel, Field

from ai_chat.kinds.registry import kind_literal
from ai_chat.services.conversations import conversation_get_for_user, conversation_history
from ai_chat.services.listing import conversation_summary, conversation_update, conversations_page
from api.auth import ApiRequest
from api.errors import InvalidRequest, NotFound
from api.schemas import ErrorOut, PageQuery
from sockets.errors import InvalidMessage
from sockets.errors import NotFound as MissingRow

if TYPE_CHECKING:
    KindName = str
else:
    KindName = kind_literal()

router = Router(tags=["conversations"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ConversationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    status: str = Field(description="`active`, or `archived` (read only, out of the list).")
    generating: bool = Field(description="An answer is being written now.")
    context: dict[str, Any]
    created_at: datetime
    last_activity: datetime = Field(description="Its latest message.")


class ConversationPageOut(BaseModel):
    items: list[ConversationOut]
    count: int
    page: int
    pages: int


class MessageOut(BaseModel):
    id: uuid.UUID
    role: str
    content: str
    data: dict[str, Any] | None
    status: str
    created_at: datetime


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut] = Field(description="Newest first.")
    has_more: bool = Field(description="Older messages exist: ask again with `before`.")


class ConversationQuery(PageQuery):
    kind: KindName | None = Field(None, description="Only this kind (endpoint); default all.")
    archived: bool = Field(False, description="List the archived conversations instead.")


class MessagesQuery(BaseModel):
    before: uuid.UUID | None = Field(None, description="Messages older than this message.")
    limit: int = Field(50, ge=1, le=100)


class ConversationPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    archived: bool | None = Field(None, description="True archives it, false unarchives it.")


def _list(*, user: Any, query: ConversationQuery) -> dict[str, Any]:
    listed = conversations_page(
        user=user,
        kind=query.kind,
        archived=query.archived,
        page=query.page,
        page_size=query.page_size,
    )
    return {
        "items": listed.items,
        "count": listed.count,
        "page": listed.page,
        "pages": listed.pages,
    }


def _open(*, user: Any, conversation_id: uuid.UUID, query: MessagesQuery) -> dict[str, Any]:
    try:
        conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
        messages, has_more = conversation_history(
            user=user, conversation=conversation, before=query.before, limit=query.limit
        )
    except MissingRow as missing:
        raise NotFound(missing.message) from None
    rows = [
        {f: getattr(m, f) for f in ("id", "role", "content", "data", "status", "created_at")}
        for m in messages
    ]
    return {**conversation_summary(conversation), "messages": rows, "has_more": has_more}


def _patch(*, user: Any, conversation_id: uuid.UUID, payload: ConversationPatch) -> dict[str, Any]:
    try:
        return conversation_update(
            user=user,
            conversation_id=conversation_id,
            title=payload.title,
            archived=payload.archived,
        )
    except MissingRow as missing:
        raise NotFound(missing.message) from None
    except InvalidMessage as invalid:
        raise InvalidRequest(invalid.message, details=invalid.details) from None


@router.get(
    "/conversations",
    response={200: ConversationPageOut, **ERRORS},
    summary="My conversations",
)
async def conversation_list(request: ApiRequest, query: Query[ConversationQuery]) -> Any:
    """The caller's conversations with the AI endpoints, last activity first: of one kind or
    all, active (default) or archived."""
    return await database_sync_to_async(_list)(user=request.auth, query=query)


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationDetailOut, **ERRORS},
    summary="Open a conversation",
)
async def conversation_open(
    request: ApiRequest, conversation_id: uuid.UUID, query: Query[MessagesQuery]
) -> Any:
    """The conversation and a page of its messages, newest first (continue it on its
    endpoint's socket with `message` and its `conversation_id`)."""
    return await database_sync_to_async(_open)(
        user=request.auth, conversation_id=conversation_id, query=query
    )


@router.patch(
    "/conversations/{conversation_id}",
    response={200: ConversationOut, **ERRORS},
    summary="Rename or archive a conversation",
)
async def conversation_patch(
    request: ApiRequest, conversation_id: uuid.UUID, payload: ConversationPatch
) -> Any:
    """Rename it (`title`), archive it (`archived` true: read only, out of the default list;
    a new turn is refused with `conversation_archived`) or unarchive it."""
    return await database_sync_to_async(_patch)(
        user=request.auth, conversation_id=conversation_id, payload=payload
    )
