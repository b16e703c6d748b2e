"""The wire contract (PROTOCOL.md) as pydantic models: client frames, close codes, limits.

A frame is validated into one of these models and the consumer branches on its class; a
client's `type` never becomes a method name.
"""

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_FRAME_BYTES = 64 * 1024
MAX_REQUEST_ID = 64


class CloseCode:
    """WebSocket close codes the service uses."""

    UNAUTHORIZED = 4401
    AUTH_TIMEOUT = 4408
    TOO_MANY_CONNECTIONS = 4429


# JSON has no uuid type: ids arrive as strings, the one conversion strict mode must allow.
Uuid = Annotated[uuid.UUID, Field(strict=False)]


class ClientFrame(BaseModel):
    # Strict: "1", 2.0 or true for an integer field is the client's mistake, not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    request_id: str | None = Field(default=None, max_length=MAX_REQUEST_ID)


class AuthFrame(ClientFrame):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=16384)


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


class PingFrame(ClientFrame):
    type: Literal["ping"]


AnyClientFrame = Annotated[
    AuthFrame
    | MessageFrame
    | RefinementFrame
    | SaveFrame
    | CancelFrame
    | ResumeFrame
    | HistoryFrame
    | FeedbackFrame
    | PingFrame,
    Field(discriminator="type"),
]
CLIENT_FRAME_TYPES = frozenset(
    {"auth", "message", "refinement", "save", "cancel", "resume", "history", "feedback", "ping"}
)
client_frame_adapter: TypeAdapter[Any] = TypeAdapter(AnyClientFrame)
