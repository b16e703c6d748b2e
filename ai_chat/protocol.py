"""The generation endpoints' client frames (PROTOCOL.md) as pydantic models.

The frames every endpoint shares (`auth`, `ping`), decoding and parsing are `sockets.frames`.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from sockets.frames import AuthFrame, ClientFrame, PingFrame, Uuid, client_frame_types


class MessageFrame(ClientFrame):
    type: Literal["message"]
    # The upper bound is MAX_MESSAGE_LENGTH, a setting: checked by the consumer (message_too_long).
    content: str = Field(min_length=1)
    conversation_id: Uuid | None = None
    context: dict[str, Any] | None = None


class RefinementFrame(ClientFrame):
    type: Literal["refinement"]
    conversation_id: Uuid
    content: str = Field(min_length=1)


class SaveFrame(ClientFrame):
    type: Literal["save"]
    conversation_id: Uuid
    message_id: Uuid | None = None


class CancelFrame(ClientFrame):
    type: Literal["cancel"]
    conversation_id: Uuid


class ResumeFrame(ClientFrame):
    type: Literal["resume"]
    conversation_id: Uuid
    message_id: Uuid | None = None
    after_index: int = Field(default=-1, ge=-1, le=10_000_000)


class HistoryFrame(ClientFrame):
    type: Literal["history"]
    conversation_id: Uuid
    before: Uuid | None = None
    limit: int = Field(default=50, ge=1, le=100)


class FeedbackFrame(ClientFrame):
    type: Literal["feedback"]
    message_id: Uuid
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class ConversationsFrame(ClientFrame):
    """List the user's conversations of this endpoint's kind, last activity first."""

    type: Literal["conversations"]
    archived: bool = Field(default=False, description="List the archived ones instead.")
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=20, ge=1, le=100)


class UpdateConversationFrame(ClientFrame):
    """Rename a conversation, or archive it (read only, out of the list) or unarchive it."""

    type: Literal["update_conversation"]
    conversation_id: Uuid
    title: str | None = Field(default=None, min_length=1, max_length=200)
    archived: bool | None = None


AnyClientFrame = Annotated[
    AuthFrame
    | MessageFrame
    | RefinementFrame
    | SaveFrame
    | CancelFrame
    | ResumeFrame
    | HistoryFrame
    | FeedbackFrame
    | ConversationsFrame
    | UpdateConversationFrame
    | PingFrame,
    Field(discriminator="type"),
]
client_frame_adapter: TypeAdapter[Any] = TypeAdapter(AnyClientFrame)
CLIENT_FRAME_TYPES = client_frame_types(AnyClientFrame)
