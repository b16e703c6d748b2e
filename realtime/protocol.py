"""The client frames of `/ws/events/`: realtime's own as pydantic models, and the parsing of a
text frame into any declared one.

`auth` and `ping` are the socket layer's frames; `subscribe`, `unsubscribe` and `mark_read`
are realtime's; apps declare the rest (`realtime.registry.client_action_register`). Frame
parsing follows the AI endpoints exactly (PROTOCOL.md, "Frames").
"""

import functools
from typing import Annotated, Any, Literal, Union

from pydantic import Field, StrictInt, TypeAdapter

from realtime import registry
from sockets.frames import AuthFrame, ClientFrame, PingFrame, parse_client_frame

MAX_ROOM_LENGTH = 64
MAX_MARK_READ = 100
SHARED_FRAMES: tuple[type[ClientFrame], ...] = (AuthFrame, PingFrame)
__all__ = ["ClientFrame", "Id", "MarkReadFrame", "SubscribeFrame", "UnsubscribeFrame"]

# A database id in a frame (the base of apps' frames is `ClientFrame`, re-exported here).
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class SubscribeFrame(ClientFrame):
    type: Literal["subscribe"]
    room: str = Field(min_length=1, max_length=MAX_ROOM_LENGTH)


class UnsubscribeFrame(ClientFrame):
    type: Literal["unsubscribe"]
    room: str = Field(min_length=1, max_length=MAX_ROOM_LENGTH)


class MarkReadFrame(ClientFrame):
    type: Literal["mark_read"]
    notification_ids: list[Id] = Field(min_length=1, max_length=MAX_MARK_READ)


def events_client_models() -> dict[str, type[Any]]:
    """Frame type -> model of every client frame of `/ws/events/`, shared ones first."""
    models = [*SHARED_FRAMES, *(action.frame for action in registry.client_actions())]
    return {registry.frame_type(model): model for model in models}


def events_frame_types() -> frozenset[str]:
    return frozenset(events_client_models())


def events_parse(raw: dict[str, Any]) -> Any:
    """Validate a decoded frame into one of the endpoint's frame models."""
    adapter, types = _parser(registry.version())
    return parse_client_frame(raw, adapter, types)


@functools.cache
def _parser(version: int) -> tuple[TypeAdapter[Any], frozenset[str]]:
    models = tuple(events_client_models().values())
    union: Any = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union), events_frame_types()
