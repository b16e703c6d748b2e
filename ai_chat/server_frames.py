"""The server frames of the wire contract (PROTOCOL.md, "Server frames") as pydantic models.

The frames every endpoint shares (`auth_success`, `auth_error`, `error`, `pong`) are
`sockets.server_frames`; these are the generation endpoints' own. They forbid unknown fields,
so a field added on one side only fails the tests that validate what the consumer sends.

Kind names and object types come from the kind registry (`ai_chat.kinds`).
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import Field, TypeAdapter

from ai_chat.kinds.registry import kind_literal, object_type_literal
from sockets.server_frames import (
    AuthErrorFrame,
    AuthSuccessFrame,
    ErrorFrame,
    Part,
    PongFrame,
    ServerFrame,
    absent,
)

if TYPE_CHECKING:
    KindName = str
    ObjectType = str
else:
    # From the registry: the kinds, and the object types their saves declare.
    KindName = kind_literal()
    ObjectType = object_type_literal()
MessageRole = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "completed", "failed", "cancelled", "interrupted"]


ConversationId = Annotated[uuid.UUID, Field(description="The conversation.")]
MessageId = Annotated[uuid.UUID, Field(description="The assistant message being generated.")]


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
    cached: bool | None = Field(
        default=None, exclude_if=absent, description="From the answer cache (as `complete`)."
    )
    fallback: bool | None = Field(
        default=None, exclude_if=absent, description="Built from the lesson (as `complete`)."
    )


class ConversationItem(Part):
    """One conversation of a list."""

    id: uuid.UUID
    kind: KindName
    title: str
    status: Literal["active", "archived"] = Field(
        description="`archived`: read only, listed only with `archived` true."
    )
    generating: bool = Field(description="An answer is being written now.")
    context: dict[str, Any] = Field(description="The context of its latest turn (per kind).")
    created_at: datetime = Field(description="ISO 8601, UTC.")
    last_activity: datetime = Field(description="Its latest message; ISO 8601, UTC.")


class ConversationListFrame(ServerFrame):
    """A page of the user's conversations of this endpoint's kind, answering `conversations`."""

    type: Literal["conversations"]
    archived: bool
    items: list[ConversationItem]
    count: int = Field(ge=0, description="Conversations in the whole list.")
    page: int = Field(ge=1)
    pages: int = Field(ge=1)


class ConversationUpdatedFrame(ServerFrame):
    """`update_conversation` renamed, archived or unarchived the conversation."""

    type: Literal["conversation_updated"]
    conversation: ConversationItem


class WelcomeFrame(ServerFrame):
    """Tutor chat: sent once the socket is ready (after `auth_success`, or at once where anonymous
    use is allowed), naming the lesson or course the socket was opened on."""

    type: Literal["welcome"]
    text: str = Field(description="TUTOR_WELCOME, its `{topic}` filled in.")
    course_id: int | None = Field(
        default=None, exclude_if=absent, description="The course it is grounded on."
    )
    lesson_id: int | None = Field(
        default=None, exclude_if=absent, description="The lesson it is grounded on."
    )


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
        default=None,
        exclude_if=absent,
        description="Structured kinds: the result parsed so far (sometimes).",
    )


class CompleteFrame(ServerFrame):
    """The generation ended with a validated result."""

    type: Literal["complete"]
    conversation_id: ConversationId
    message_id: MessageId
    data: dict[str, Any] = Field(description="The validated result; its schema is per kind.")
    usage: TokenUsage
    model: str
    cached: bool | None = Field(
        default=None,
        exclude_if=absent,
        description="Tutor chat: true when the answer came from the answer cache (no tokens).",
    )
    fallback: bool | None = Field(
        default=None,
        exclude_if=absent,
        description="Tutor chat: true when every provider was down and the answer was built "
        "from the lesson (its outline and key terms), not written by a model.",
    )


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


class TypingFrame(ServerFrame):
    """Tutor chat: the assistant started (`active` true) or stopped answering."""

    type: Literal["typing"]
    conversation_id: ConversationId
    message_id: uuid.UUID | None = Field(
        default=None,
        exclude_if=absent,
        description="The answer concerned (absent when a failure ended it).",
    )
    active: bool


class FeedbackSavedFrame(ServerFrame):
    """The rating and comment of a `feedback` frame were stored."""

    type: Literal["feedback_saved"]
    message_id: MessageId


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
    | ConversationListFrame
    | ConversationUpdatedFrame
    | WelcomeFrame
    | PongFrame,
    Field(discriminator="type"),
]
SERVER_FRAME_MODELS: tuple[type[ServerFrame], ...] = get_args(get_args(AnyServerFrame)[0])
SERVER_FRAMES: dict[str, type[ServerFrame]] = {
    get_args(model.model_fields["type"].annotation)[0]: model for model in SERVER_FRAME_MODELS
}
SERVER_FRAME_TYPES = frozenset(SERVER_FRAMES)

server_frame_adapter: TypeAdapter[Any] = TypeAdapter(AnyServerFrame)
