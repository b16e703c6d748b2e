"""The declarations apps make on realtime, and what realtime derives from them."""

import pytest

from realtime import registry
from realtime.actions import service_action
from realtime.protocol import MarkReadFrame, events_parse
from realtime.registry import AlreadyRegistered, ClientAction, EventKind, RoomKind, SnapshotPart
from realtime.rooms import InvalidRoom, parse_room, room_syntax
from realtime.server_frames import NotificationItem, PresenceItem


def test_the_room_forms_are_the_declared_kinds_in_order():
    """realtime's `user:` first, then learning's rooms, as INSTALLED_APPS declared them."""
    assert [kind.name for kind in registry.room_kinds()] == [
        "user",
        "course",
        "lesson",
        "instructor",
    ]
    assert room_syntax() == "`user:{id}`, `course:{id}`, `lesson:{id}` or `instructor:{id}`"
    assert parse_room("lesson:12").has_presence and not parse_room("user:12").has_presence


def test_a_room_of_a_kind_nobody_declared_is_not_a_room():
    """`team:1` has the shape of a room but no app declared `team`."""
    with pytest.raises(InvalidRoom, match="expected `user:"):
        parse_room("team:1")


def test_declaring_a_name_twice_is_refused_and_changes_nothing():
    """A second room kind, part, action or event of a taken name is refused."""
    before = registry.version()
    with pytest.raises(AlreadyRegistered):
        registry.room_kind_register(RoomKind(name="user", may_join=lambda **_: True, who="x"))
    with pytest.raises(AlreadyRegistered):
        part = SnapshotPart(key="unread_count", annotation=int, read=lambda **_: 0)
        registry.snapshot_part_register(room_kind="user", part=part)
    with pytest.raises(AlreadyRegistered):
        part = SnapshotPart(key="presence", annotation=list[PresenceItem], read=lambda **_: [])
        registry.snapshot_part_register(room_kind="course", part=part)
    with pytest.raises(AlreadyRegistered):
        run = service_action(frame=MarkReadFrame, summary="", run=lambda **_: {}, ack={})
        registry.client_action_register(run)
    with pytest.raises(AlreadyRegistered):
        kind = EventKind(event="notification", action="create", payload=NotificationItem)
        registry.event_register(kind)
    assert registry.version() == before


def test_an_event_declared_for_some_rooms_is_known_only_there():
    """`generation` `update` has a model in lesson and course rooms; the runner's own
    `generation` events to `user:` rooms carry its payload."""
    assert registry.event_kind_get(event="generation", action="update", room_kind="lesson")
    assert registry.event_kind_get(event="generation", action="update", room_kind="user") is None
    assert registry.event_kind_get(event="progress", action="update", room_kind="user")
    assert "generation" in registry.event_names()


def test_every_declared_action_is_a_frame_the_endpoint_parses():
    """A frame of each declared action validates into that action's frame model."""
    frames = {
        "subscribe": {"room": "user:1"},
        "unsubscribe": {"room": "user:1"},
        "mark_read": {"notification_ids": [1]},
        "progress": {"lesson_id": 1, "percent": 5},
        "confusion": {"lesson_id": 1},
        "resolve_confusion": {"confusion_id": 1},
        "ask_question": {"lesson_id": 1, "text": "Why?"},
        "answer_question": {"question_id": 1, "text": "Because."},
    }
    for action in registry.client_actions():
        parsed = events_parse({"type": action.type, **frames[action.type]})
        assert isinstance(parsed, action.frame)
    assert all(isinstance(a, ClientAction) for a in registry.client_actions())
