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
from pydantic_core import to_json

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

    @classmethod
    def chunks_of(cls, conversation_id: uuid.UUID, message_id: uuid.UUID) -> "ChunkFrames":
        """The frames of one generation's chunks, built the cheap way (see `ChunkFrames`)."""
        return ChunkFrames(cls, conversation_id, message_id)


class ChunkFrames:
    """Builds a generation's `streaming` frames without pydantic's validation, wire included.

    One frame per chunk is the hot path of every generation: `StreamingFrame.make` validates
    its fields and serialises it afterwards, about 8 µs a chunk, more than the socket write.
    Here every field comes from the generation itself (UUIDs it holds, an index it counts, text
    the provider's reader decoded), so the instance is assembled as `model_construct` would
    (about 1 µs) and its JSON written beside it, string values encoded by pydantic's own
    serialiser. `tests/generation/test_chunk_frames.py` checks both against `make`'s, field
    for field and byte for byte.
    """

    __slots__ = ("_cls", "_conversation_id", "_message_id", "_prefix")

    def __init__(
        self, cls: type[StreamingFrame], conversation_id: uuid.UUID, message_id: uuid.UUID
    ) -> None:
        self._cls = cls
        self._conversation_id = conversation_id
        self._message_id = message_id
        self._prefix = (
            f'{{"type":"streaming","conversation_id":"{conversation_id}",'
            f'"message_id":"{message_id}","index":'
        )

    def __call__(
        self, index: int, chunk: str, partial: dict[str, Any] | None = None
    ) -> StreamingFrame:
        if not isinstance(index, int) or index < 0 or not isinstance(chunk, str):
            raise ValueError(f"not a chunk: index {index!r}, chunk of type {type(chunk)}")
        wire = f'{self._prefix}{index},"chunk":{to_json(chunk).decode()}'
        if partial is None:
            wire += "}"
        elif isinstance(partial, dict):
            wire += f',"partial":{to_json(partial, inf_nan_mode="null").decode()}}}'
        else:
            raise ValueError(f"not a partial result: {type(partial)}")
        frame = self._cls.__new__(self._cls)
        object.__setattr__(
            frame,
            "__dict__",
            {
                "request_id": None,
                "type": "streaming",
                "conversation_id": self._conversation_id,
                "message_id": self._message_id,
                "index": index,
                "chunk": chunk,
                "partial": partial,
            },
        )
        object.__setattr__(frame, "__pydantic_fields_set__", set(_FIELDS_SET))
        object.__setattr__(frame, "__pydantic_extra__", None)
        object.__setattr__(frame, "__pydantic_private__", {"_wire": wire})
        return frame


# What `make(..., partial=...)` marks as set: every field given, `partial` even when None.
_FIELDS_SET = ("type", "conversation_id", "message_id", "index", "chunk", "partial")


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
