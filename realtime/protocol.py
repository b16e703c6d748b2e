"""The client frames of `/ws/events/` as pydantic models, and the parsing of a text frame.

`auth` and `ping` are the AI endpoints' own frames; the rest are the events endpoint's. Frame
parsing follows the AI endpoints exactly (PROTOCOL.md, "Frames").
"""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictInt, TypeAdapter

from learning.models import MAX_NOTE_LENGTH, MAX_POSITION_LENGTH
from sockets.frames import AuthFrame, ClientFrame, PingFrame

MAX_ROOM_LENGTH = 64
MAX_MARK_READ = 100

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


def _position_text(value: Any) -> Any:
    """A position is a string (an anchor, a timestamp) or an integer (a page, a second)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("position must be a string or an integer")
    return value


# Stored and sent back as text.
Position = Annotated[str, BeforeValidator(_position_text), Field(max_length=MAX_POSITION_LENGTH)]


class SubscribeFrame(ClientFrame):
    type: Literal["subscribe"]
    room: str = Field(min_length=1, max_length=MAX_ROOM_LENGTH)


class UnsubscribeFrame(ClientFrame):
    type: Literal["unsubscribe"]
    room: str = Field(min_length=1, max_length=MAX_ROOM_LENGTH)


class MarkReadFrame(ClientFrame):
    type: Literal["mark_read"]
    notification_ids: list[Id] = Field(min_length=1, max_length=MAX_MARK_READ)


class ProgressFrame(ClientFrame):
    type: Literal["progress"]
    lesson_id: Id
    percent: StrictInt = Field(ge=0, le=100)
    position: Position = ""


class ConfusionFrame(ClientFrame):
    type: Literal["confusion"]
    lesson_id: Id
    position: Position = ""
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class ResolveConfusionFrame(ClientFrame):
    type: Literal["resolve_confusion"]
    confusion_id: Id


AnyEventsFrame = Annotated[
    AuthFrame
    | PingFrame
    | SubscribeFrame
    | UnsubscribeFrame
    | MarkReadFrame
    | ProgressFrame
    | ConfusionFrame
    | ResolveConfusionFrame,
    Field(discriminator="type"),
]
EVENTS_FRAME_TYPES = frozenset(
    {
        "auth",
        "ping",
        "subscribe",
        "unsubscribe",
        "mark_read",
        "progress",
        "confusion",
        "resolve_confusion",
    }
)
events_frame_adapter: TypeAdapter[Any] = TypeAdapter(AnyEventsFrame)
