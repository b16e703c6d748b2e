"""What apps plug into `/ws/events/`: room kinds, snapshot parts, client actions and events.

Each is declared by the app that owns what it is about, in its `AppConfig.ready` (realtime
itself declares `user:` rooms, `subscribe`, `unsubscribe`, `mark_read`, notifications and
presence). The consumer, the frame models, the snapshots and the AsyncAPI channel are derived
from these declarations, in the order they were made (INSTALLED_APPS order), so realtime names
no app. A declaration is made once: a second one of the same name is refused.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel

from ops import metrics

# (*, user, room_id) -> value: a snapshot part, or whether the user may join (ORM, in a thread).
RoomReader = Callable[..., Any]
# (value, presence) -> value: a part's completion with live presence data, on the event loop.
LiveReader = Callable[[Any, Any], Awaitable[Any]]
# (*, room, presence) -> None: the room's presence changed (on the event loop).
PresenceHook = Callable[..., Awaitable[None]]
# (socket, frame) -> the answer frame: serves a client action (on the event loop).
Serve = Callable[[Any, Any], Awaitable[dict[str, Any]]]


class AlreadyRegistered(ValueError):
    """A room kind, snapshot part, client action or event was declared twice."""


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    """One key of a room's snapshot: its schema and how to read it."""

    key: str
    annotation: Any
    read: RoomReader
    description: str | None = None
    live: LiveReader | None = None


@dataclass(slots=True)
class RoomKind:
    """`{name}:{id}` rooms: who may join (`may_join`, and in words `who`), whether joining is
    viewing (`presence`), and the parts of their snapshot."""

    name: str
    may_join: RoomReader
    who: str
    presence: bool = False
    on_presence: PresenceHook | None = None
    parts: list[SnapshotPart] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClientAction:
    """A client frame of `/ws/events/`: its model, what it does and what answers it.

    A `limited` action counts against the user's `EVENTS_RATE_LIMIT_PER_MINUTE` (one budget
    for all of them); over it, the frame is answered `rate_limited` with `retry_after`."""

    frame: type[BaseModel]
    summary: str
    serve: Serve
    reply: str
    ack: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    limited: bool = True

    @property
    def type(self) -> str:
        return frame_type(self.frame)


@dataclass(frozen=True, slots=True)
class EventKind:
    """An (event, action) published to rooms, with its payload model; `rooms` narrows the
    room kinds it goes to (empty: any)."""

    event: str
    action: str
    payload: type[BaseModel]
    rooms: tuple[str, ...] = ()


_room_kinds: dict[str, RoomKind] = {}
_actions: dict[str, ClientAction] = {}
_events: dict[tuple[str, str], EventKind] = {}
_event_names: list[str] = []
_version = [0]


def version() -> int:
    """Changes with every declaration: what is derived from the registry is cached on it."""
    return _version[0]


def frame_type(frame: type[BaseModel]) -> str:
    """The `type` literal of a frame model."""
    return str(get_args(frame.model_fields["type"].annotation)[0])


def room_kind_register(kind: RoomKind) -> RoomKind:
    """Declare a room kind (its snapshot parts follow with `snapshot_part_register`)."""
    if kind.name in _room_kinds:
        raise AlreadyRegistered(f"room kind {kind.name!r}")
    _room_kinds[kind.name] = kind
    _version[0] += 1
    return kind


def snapshot_part_register(*, room_kind: str, part: SnapshotPart) -> None:
    """Add a part to the snapshot of a room kind, after the parts declared before it."""
    kind = _room_kinds[room_kind]
    if any(p.key == part.key for p in kind.parts) or part.key == "presence":
        raise AlreadyRegistered(f"snapshot part {room_kind}.{part.key}")
    kind.parts.append(part)
    _version[0] += 1


def client_action_register(action: ClientAction) -> None:
    """Declare a client frame of `/ws/events/` and how it is served."""
    if action.type in _actions:
        raise AlreadyRegistered(f"client action {action.type!r}")
    _actions[action.type] = action
    _version[0] += 1


def event_register(kind: EventKind) -> None:
    """Declare an (event, action) and its payload model."""
    key = (kind.event, kind.action)
    if key in _events:
        raise AlreadyRegistered(f"event {kind.event}.{kind.action}")
    _events[key] = kind
    event_name_register(kind.event)


def event_name_register(name: str) -> None:
    """Declare an event name whose payloads are the publisher's own (no model)."""
    if name not in _event_names:
        _event_names.append(name)
        metrics.register_events(name)
        _version[0] += 1


def room_kinds() -> list[RoomKind]:
    return list(_room_kinds.values())


def room_kind_get(name: str) -> RoomKind | None:
    return _room_kinds.get(name)


def client_actions() -> list[ClientAction]:
    return list(_actions.values())


def client_action_get(frame_type: str) -> ClientAction | None:
    return _actions.get(frame_type)


def event_kinds() -> list[EventKind]:
    return list(_events.values())


def event_kind_get(*, event: str, action: str, room_kind: str) -> EventKind | None:
    """The declared payload of an event sent to a room of `room_kind`, if there is one."""
    kind = _events.get((event, action))
    if kind is None or (kind.rooms and room_kind not in kind.rooms):
        return None
    return kind


def event_names() -> list[str]:
    return sorted(_event_names)
