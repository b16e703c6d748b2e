"""Room names, their Channels groups, and who may join each room (PROTOCOL.md, "Events").

| room              | who may join                                           |
| ----------------- | ------------------------------------------------------ |
| `user:{id}`       | that user only                                         |
| `course:{id}`     | the course's owner, staff, and users enrolled in it    |
| `lesson:{id}`     | the same as the lesson's course                        |
| `instructor:{id}` | that user only (they hear about the courses they teach) |

A room that does not exist is refused exactly like one the user may not join: existence is not
revealed.
"""

import re
from dataclasses import dataclass
from typing import Any

from learning.selectors import course_can_view, lesson_get_viewable

ROOM_KINDS = ("user", "course", "lesson", "instructor")
# Ids are database keys: positive and within a signed 64-bit integer.
_ROOM_RE = re.compile(r"^(user|course|lesson|instructor):([1-9][0-9]{0,17})$")
ROOM_SYNTAX = "`user:{id}`, `course:{id}`, `lesson:{id}` or `instructor:{id}`"


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
        """Whether subscribing means "viewing": course and lesson rooms."""
        return self.kind in ("course", "lesson")

    def __str__(self) -> str:
        return self.name


def parse_room(name: Any) -> Room:
    """The room a name stands for; `InvalidRoom` when it is not one of the forms."""
    match = _ROOM_RE.match(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidRoom(f"Unknown room; expected {ROOM_SYNTAX}.")
    return Room(kind=match.group(1), id=int(match.group(2)))


def room_may_join(*, user: Any, room: Room) -> bool:
    """Whether the user may subscribe to the room (ORM: call it off the event loop)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if room.kind in ("user", "instructor"):
        return bool(room.id == user.pk)
    if room.kind == "course":
        return course_can_view(user=user, course_id=room.id)
    if room.kind == "lesson":
        return lesson_get_viewable(user=user, lesson_id=room.id) is not None
    return False
