"""The wire contract (PROTOCOL.md) as pydantic models: client frames, close codes, limits.

A frame is validated into one of these models and the consumer branches on its class; a
client's `type` never becomes a method name.
"""

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ai_chat.exceptions import InvalidFrame, InvalidMessage, MessageTooLarge, UnknownType
from ai_chat.kinds.base import validation_details

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


def decode_text_frame(text_data: str | None) -> dict[str, Any]:
    """The JSON object a text frame holds, or the protocol's error for anything else."""
    if text_data is None:
        raise InvalidFrame("Binary frames are not accepted; send JSON text.")
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8", "replace")) > (
        MAX_FRAME_BYTES
    ):
        raise MessageTooLarge()
    try:
        raw = json.loads(text_data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidFrame("The frame is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise InvalidFrame("The frame must be a JSON object.")
    if "\\u" in text_data and not _utf8_encodable(raw):  # an unpaired \ud800 escape
        raise InvalidFrame("The frame holds an unpaired surrogate escape; it is not Unicode.")
    return raw


def request_id_of(raw: dict[str, Any]) -> str | None:
    """The frame's `request_id`, when it is one that may be echoed back."""
    value = raw.get("request_id")
    return value if isinstance(value, str) and len(value) <= MAX_REQUEST_ID else None


def parse_client_frame(
    raw: dict[str, Any], adapter: TypeAdapter[Any], types: frozenset[str]
) -> Any:
    """Validate a decoded frame into one of an endpoint's frame models."""
    type_ = raw.get("type")
    if not isinstance(type_, str) or type_ not in types:  # a list is unhashable
        raise UnknownType(f"Unknown frame type; expected one of {sorted(types)}.")
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        # Each error's location starts with the union's tag: name the frame's own fields.
        details = [
            {**d, "field": d["field"].removeprefix(f"{type_}.")} for d in validation_details(exc)
        ]
        raise InvalidMessage(details=details) from None


def _utf8_encodable(raw: dict[str, Any]) -> bool:
    """Whether the parsed frame can be echoed back as UTF-8 (no lone surrogates in it)."""
    try:
        json.dumps(raw, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
