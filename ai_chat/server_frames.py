"""The server frames of the wire contract (PROTOCOL.md, "Server frames") as pydantic models.

The consumer builds its frames as plain dicts; these models describe them, for the AsyncAPI
document (`ai_chat.asyncapi`) and for the tests that validate what the consumer really sends.
They forbid unknown fields, so a field added on one side only fails those tests.

This module imports no Django code: the literals below are checked against their sources
(exception classes, kinds, model choices) by tests/test_asyncapi.py.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ai_chat.protocol import MAX_REQUEST_ID

ErrorCode = Literal[
    "invalid_frame",
    "unknown_type",
    "invalid_message",
    "message_too_long",
    "message_too_large",
    "not_found",
    "busy",
    "rate_limited",
    "quota_exceeded",
    "token_expired",
    "nothing_to_refine",
    "nothing_to_save",
    "not_running",
    "ai_unavailable",
    "ai_invalid_output",
    "internal_error",
    "forbidden",
]
AuthErrorCode = Literal[
    "invalid_token",
    "expired_token",
    "revoked_token",
    "user_disabled",
    "auth_required",
    "auth_timeout",
]
KindName = Literal["course", "lesson", "quiz", "assignment", "chat"]
ObjectType = Literal["course", "module", "lesson", "quiz", "quiz_question", "assignment_question"]
MessageRole = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "completed", "failed", "cancelled", "interrupted"]

ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))
AUTH_ERROR_CODES: frozenset[str] = frozenset(get_args(AuthErrorCode))

ConversationId = Annotated[uuid.UUID, Field(description="The conversation.")]
MessageId = Annotated[uuid.UUID, Field(description="The assistant message being generated.")]


class Part(BaseModel):
    """Base of the objects nested in server frames."""

    model_config = ConfigDict(extra="forbid")


class UserInfo(Part):
    """The signed-in user."""

    id: int
    email: str = Field(description="May be empty when the account has no e-mail.")
    display_name: str


class TokenUsage(Part):
    """Tokens spent on a result, retries included."""

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class SavedObjectRef(Part):
    """One row written (or found already written) by `save`."""

    type: ObjectType
    id: int


class HistoryMessage(Part):
    """One message of a conversation."""

    id: uuid.UUID
    role: MessageRole
    content: str
    data: dict[str, Any] | None = Field(
        description="The structured result of a completed assistant message, else null."
    )
    status: MessageStatus
    created_at: datetime = Field(description="ISO 8601, UTC.")


class ErrorDetail(Part):
    """One field at fault."""

    field: str = Field(description='Dotted path of the field, e.g. "context.lesson_id".')
    message: str


class ServerFrame(BaseModel):
    """Base of every server frame."""

    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(
        default=None,
        max_length=MAX_REQUEST_ID,
        description="The `request_id` of the client frame this frame answers, if it had one.",
    )


class AuthSuccessFrame(ServerFrame):
    """The connection is authenticated: after a session handshake, or an accepted `auth`."""

    type: Literal["auth_success"]
    user: UserInfo


class AuthErrorFrame(ServerFrame):
    """Authentication failed; the server then closes with 4401 (4408 for `auth_timeout`)."""

    type: Literal["auth_error"]
    code: AuthErrorCode
    message: str


class ConversationFrame(ServerFrame):
    """The conversation a `message` or `refinement` belongs to; first frame of a generation."""

    type: Literal["conversation"]
    conversation_id: ConversationId
    kind: KindName
    created: bool = Field(description="True when this request started the conversation.")
    title: str


class StartedFrame(ServerFrame):
    """A generation started."""

    type: Literal["started"]
    conversation_id: ConversationId
    message_id: MessageId


class StreamingFrame(ServerFrame):
    """A chunk of the model's text, numbered from 0 per message."""

    type: Literal["streaming"]
    conversation_id: ConversationId
    message_id: MessageId
    index: int = Field(ge=0)
    chunk: str
    partial: dict[str, Any] | None = Field(
        default=None, description="Structured kinds: the result parsed so far (sometimes)."
    )


class CompleteFrame(ServerFrame):
    """The generation ended with a validated result."""

    type: Literal["complete"]
    conversation_id: ConversationId
    message_id: MessageId
    data: dict[str, Any] = Field(description="The validated result; its schema is per kind.")
    usage: TokenUsage
    model: str


class SavedFrame(ServerFrame):
    """`save` wrote the result's rows, or had already written them (`created` false)."""

    type: Literal["saved"]
    conversation_id: ConversationId
    message_id: MessageId
    objects: list[SavedObjectRef]
    created: bool


class CancelledFrame(ServerFrame):
    """The generation was cancelled; what it produced so far is kept on the message."""

    type: Literal["cancelled"]
    conversation_id: ConversationId
    message_id: MessageId


class HistoryPageFrame(ServerFrame):
    """A page of a conversation's messages, answering `history`."""

    type: Literal["history"]
    conversation_id: ConversationId
    messages: list[HistoryMessage]
    has_more: bool


class ErrorFrame(ServerFrame):
    """A request failed, or a generation ended in failure. The connection stays open."""

    type: Literal["error"]
    code: ErrorCode
    message: str
    retryable: bool
    retry_after: int | None = Field(
        default=None, ge=1, description="Seconds to wait before retrying, where it applies."
    )
    details: list[ErrorDetail] | None = Field(default=None, description="The fields at fault.")
    conversation_id: uuid.UUID | None = Field(
        default=None, description="The conversation concerned, where it applies."
    )
    message_id: uuid.UUID | None = Field(
        default=None, description="The assistant message whose generation this error ended."
    )


class TypingFrame(ServerFrame):
    """Tutor chat: the assistant started (`active` true) or stopped answering."""

    type: Literal["typing"]
    conversation_id: ConversationId
    message_id: uuid.UUID | None = Field(
        default=None, description="The answer concerned (absent when a failure ended it)."
    )
    active: bool


class FeedbackSavedFrame(ServerFrame):
    """The rating and comment of a `feedback` frame were stored."""

    type: Literal["feedback_saved"]
    message_id: MessageId


class PongFrame(ServerFrame):
    """The answer to `ping`."""

    type: Literal["pong"]


AnyServerFrame = Annotated[
    AuthSuccessFrame
    | AuthErrorFrame
    | ConversationFrame
    | StartedFrame
    | StreamingFrame
    | CompleteFrame
    | SavedFrame
    | CancelledFrame
    | HistoryPageFrame
    | ErrorFrame
    | TypingFrame
    | FeedbackSavedFrame
    | PongFrame,
    Field(discriminator="type"),
]
SERVER_FRAME_MODELS: tuple[type[ServerFrame], ...] = get_args(get_args(AnyServerFrame)[0])
SERVER_FRAMES: dict[str, type[ServerFrame]] = {
    get_args(model.model_fields["type"].annotation)[0]: model for model in SERVER_FRAME_MODELS
}
SERVER_FRAME_TYPES = frozenset(SERVER_FRAMES)

server_frame_adapter: TypeAdapter[Any] = TypeAdapter(AnyServerFrame)
