"""What ai_chat adds to `/ws/events/` (in `AiChatConfig.ready`): the user's running generations
in the `user:{id}` snapshot, and the `generation` events the runner publishes there."""

from typing import Any

from ai_chat.selectors import messages_running_for_user
from realtime import registry
from realtime.registry import SnapshotPart
from sockets.server_frames import Part


class GenerationItem(Part):
    conversation_id: str
    message_id: str
    kind: str


def generations_running(*, user: Any, room_id: int) -> list[dict[str, Any]]:
    """The user's running generations, as snapshot entries."""
    return [
        {
            "conversation_id": str(m.conversation_id),
            "message_id": str(m.pk),
            "kind": m.conversation.kind,
        }
        for m in messages_running_for_user(user=user)
    ]


def ai_chat_declare() -> None:
    """Declare ai_chat's part of the user snapshot and its `generation` events."""
    registry.snapshot_part_register(
        room_kind="user",
        part=SnapshotPart(
            key="generations",
            annotation=list[GenerationItem],
            description="The user's running generations.",
            read=generations_running,
        ),
    )
    # The runner's payloads (conversation, message, kind, status) are its own: no model.
    registry.event_name_register("generation")
