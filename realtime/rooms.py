"""Room names and their Channels groups; who may join comes from the declared room kinds.

A room is `{kind}:{id}` with a kind declared in `realtime.registry` (realtime's own `user:`,
learning's `course:`, `lesson:` and `instructor:`) and a positive database id. A room that does
not exist is refused exactly like one the user may not join: existence is not revealed.
"""

import re
from dataclasses import dataclass
from typing import Any

from realtime import registry

# Ids are database keys: positive and within a signed 64-bit integer.
_ROOM_RE = re.compile(r"^([a-z_]{1,32}):([1-9][0-9]{0,17})$")


class InvalidRoom(ValueError):
    """The room name is not one of the room forms."""


@dataclass(frozen=True, slots=True)
class Room:
    kind: str
    id: int

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def group(self) -> str:
        """The Channels group: "course:12" -> "room.course.12"."""
        return f"room.{self.kind}.{self.id}"

    @property
    def has_presence(self) -> bool:
        """Whether subscribing means "viewing" (declared by the room kind)."""
        kind = registry.room_kind_get(self.kind)
        return kind is not None and kind.presence

    def __str__(self) -> str:
        return self.name


def room_syntax() -> str:
    """The room forms in words: "`user:{id}`, `course:{id}` or `lesson:{id}`"."""
    forms = [f"`{kind.name}:{{id}}`" for kind in registry.room_kinds()]
    return forms[0] if len(forms) == 1 else f"{', '.join(forms[:-1])} or {forms[-1]}"


def parse_room(name: Any) -> Room:
    """The room a name stands for; `InvalidRoom` when it is not one of the forms."""
    match = _ROOM_RE.match(name) if isinstance(name, str) else None
    if match is None or registry.room_kind_get(match.group(1)) is None:
        raise InvalidRoom(f"Unknown room; expected {room_syntax()}.")
    return Room(kind=match.group(1), id=int(match.group(2)))


def room_may_join(*, user: Any, room: Room) -> bool:
    """Whether the user may subscribe to the room (ORM: call it off the event loop)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    kind = registry.room_kind_get(room.kind)
    return kind is not None and bool(kind.may_join(user=user, room_id=room.id))
