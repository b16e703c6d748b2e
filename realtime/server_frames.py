"""The server frames of `/ws/events/` as pydantic models, for the AsyncAPI document and tests.

`auth_success`, `auth_error`, `error` and `pong` are the AI endpoints' (`ai_chat.server_frames`).
The consumer builds plain dicts; tests validate what it really sends against these models,
which forbid unknown fields.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sockets.server_frames import ServerFrame

EventName = Literal["analytics", "confusion", "generation", "notification", "presence", "progress"]
ActionName = Literal["create", "update", "delete"]
Seq = int


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationItem(Part):
    id: int
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class ProgressItem(Part):
    learner_id: int
    lesson_id: int
    course_id: int
    percent: int = Field(ge=0, le=100, description="The furthest reached.")
    position: str = Field(description="The latest position, as text.")
    completed_at: datetime | None
    updated_at: datetime
    learner_name: str | None = Field(default=None, description="In instructor rooms only.")


class ConfusionItem(Part):
    id: int
    learner_id: int
    learner_name: str
    lesson_id: int
    course_id: int
    position: str
    note: str
    created_at: datetime
    resolved_by: int | None
    resolved_at: datetime | None


class GenerationItem(Part):
    conversation_id: str
    message_id: str
    kind: str


class PresenceItem(Part):
    user_id: int
    display_name: str


class LessonState(Part):
    lesson_id: int
    course_id: int
    title: str
    generation_status: Literal["pending", "generating", "completed", "failed"]


class LessonCounts(Part):
    """Per-lesson analytics; an `analytics` event carries only the counts that changed."""

    lesson_id: int
    course_id: int
    viewers: int | None = None
    completions: int | None = None
    open_confusions: int | None = None


class NotificationsRead(Part):
    notification_ids: list[int]
    read_at: datetime


class LessonGeneration(Part):
    lesson_id: int
    course_id: int
    generation_status: Literal["pending", "generating", "completed", "failed"]
    generation_error: str


class UserSnapshot(Part):
    notifications: list[NotificationItem] = Field(description="The newest 50 unread.")
    unread_count: int
    generations: list[GenerationItem] = Field(description="The user's running generations.")
    progress: list[ProgressItem] = Field(description="Own progress, 50 latest updated.")
    confusions: list[ConfusionItem] = Field(description="Own confusions, 50 newest.")


class CourseSnapshot(Part):
    presence: list[PresenceItem]
    lessons: list[LessonState]


class LessonSnapshot(Part):
    presence: list[PresenceItem]
    lesson: LessonState | None


class InstructorSnapshot(Part):
    confusions: list[ConfusionItem] = Field(description="Open ones of taught courses, 100 newest.")
    analytics: list[LessonCounts]


class SubscribedFrame(ServerFrame):
    """Answers `subscribe` (also a re-sync): the room's state now and its latest `seq`."""

    type: Literal["subscribed"]
    room: str
    snapshot: UserSnapshot | CourseSnapshot | LessonSnapshot | InstructorSnapshot
    seq: Seq = Field(description="Events after this one carry seq + 1, seq + 2, ...")


class UnsubscribedFrame(ServerFrame):
    type: Literal["unsubscribed"]
    room: str


class EventFrame(ServerFrame):
    """An event of a subscribed room. A `seq` more than one above the last seen means events
    were missed: subscribe again. A `seq` not above it is already in the snapshot: ignore it."""

    type: Literal["event"]
    room: str
    event: EventName
    action: ActionName
    payload: dict[str, Any]
    timestamp: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
    seq: Seq


class AckFrame(ServerFrame):
    """Answers `mark_read`, `progress`, `confusion` and `resolve_confusion`."""

    type: Literal["ack"]
    of: Literal["mark_read", "progress", "confusion", "resolve_confusion"]
    notification_ids: list[int] | None = Field(default=None, description="mark_read: marked.")
    progress: ProgressItem | None = None
    confusion: ConfusionItem | None = None


# The payload of each (event, action) the server publishes; `generation` events to `user:{id}`
# carry the generation runner's own payload and are not listed.
EVENT_PAYLOADS: dict[tuple[str, str], type[Part]] = {
    ("notification", "create"): NotificationItem,
    ("notification", "update"): NotificationsRead,
    ("progress", "update"): ProgressItem,
    ("confusion", "create"): ConfusionItem,
    ("confusion", "update"): ConfusionItem,
    ("presence", "create"): PresenceItem,
    ("presence", "delete"): PresenceItem,
    ("analytics", "update"): LessonCounts,
}

EVENTS_SERVER_FRAMES: dict[str, type[ServerFrame]] = {
    "subscribed": SubscribedFrame,
    "unsubscribed": UnsubscribedFrame,
    "event": EventFrame,
    "ack": AckFrame,
}
events_server_frame_adapter: TypeAdapter[Any] = TypeAdapter(
    SubscribedFrame | UnsubscribedFrame | EventFrame | AckFrame
)
