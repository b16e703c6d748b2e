"""The server frames of `/ws/events/` as pydantic models, for the AsyncAPI document and tests.

`auth_success`, `auth_error`, `error` and `pong` are the socket layer's. `subscribed`, `event`
and `ack` are derived from the registry (`realtime.registry`): the snapshot of each room kind,
the event names, and the fields each client action's `ack` carries. The consumer builds plain
dicts; tests validate what it really sends against these models, which forbid unknown fields.
"""

import functools
from datetime import datetime
from typing import Any, Literal, Union, cast

from pydantic import BaseModel, Field, create_model

from realtime import registry
from sockets.server_frames import Part, ServerFrame

ActionName = Literal["create", "update", "delete"]
Seq = int
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


class NotificationItem(Part):
    id: int
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationsRead(Part):
    notification_ids: list[int]
    read_at: datetime


class PresenceItem(Part):
    user_id: int
    display_name: str


class UnsubscribedFrame(ServerFrame):
    type: Literal["unsubscribed"]
    room: str


def events_server_frames() -> dict[str, type[ServerFrame]]:
    """Frame type -> model of every server frame of `/ws/events/` but the shared ones."""
    return _server_frames(registry.version())


def snapshot_models() -> dict[str, type[BaseModel]]:
    """Room kind -> the model of its snapshot."""
    return _snapshot_models(registry.version())


def event_frame_model() -> type[ServerFrame]:
    return events_server_frames()["event"]


@functools.cache
def _server_frames(version: int) -> dict[str, type[ServerFrame]]:
    return {
        "subscribed": _subscribed_frame(),
        "unsubscribed": UnsubscribedFrame,
        "event": _event_frame(),
        "ack": _ack_frame(),
    }


@functools.cache
def _snapshot_models(version: int) -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for kind in registry.room_kinds():
        fields: dict[str, Any] = {}
        if kind.presence:
            fields["presence"] = (list[PresenceItem], ...)
        for part in kind.parts:
            fields[part.key] = (part.annotation, Field(description=part.description))
        name = "".join(p.capitalize() for p in kind.name.split("_"))
        models[kind.name] = create_model(f"{name}Snapshot", __base__=Part, **fields)
    return models


def _subscribed_frame() -> type[ServerFrame]:
    snapshots = tuple(snapshot_models().values())
    return create_model(
        "SubscribedFrame",
        __base__=ServerFrame,
        __doc__="Answers `subscribe` (also a re-sync): the room's state now and its latest `seq`.",
        type=(cast(Any, Literal["subscribed"]), ...),
        room=(str, ...),
        snapshot=(cast(Any, Union[snapshots]), ...),  # noqa: UP007
        seq=(Seq, Field(description="Events after this one carry seq + 1, seq + 2, ...")),
    )


def _event_frame() -> type[ServerFrame]:
    return create_model(
        "EventFrame",
        __base__=ServerFrame,
        __doc__="An event of a subscribed room. A `seq` more than one above the last seen "
        "means events\nwere missed: subscribe again. A `seq` not above it is already in the "
        "snapshot: ignore it.",
        type=(cast(Any, Literal["event"]), ...),
        room=(str, ...),
        event=(cast(Any, Literal[tuple(registry.event_names())]), ...),
        action=(ActionName, ...),
        payload=(dict[str, Any], ...),
        timestamp=(str, Field(pattern=TIMESTAMP)),
        seq=(Seq, ...),
    )


def _ack_frame() -> type[ServerFrame]:
    actions = [a for a in registry.client_actions() if a.reply == "ack"]
    names = [f"`{a.type}`" for a in actions]
    listed = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)
    fields: dict[str, Any] = {}
    for action in actions:
        for name, spec in action.ack.items():
            fields.setdefault(name, spec)
    return create_model(
        "AckFrame",
        __base__=ServerFrame,
        __doc__=f"Answers {listed}.",
        type=(cast(Any, Literal["ack"]), ...),
        of=(cast(Any, Literal[tuple(a.type for a in actions)]), ...),
        **fields,
    )
