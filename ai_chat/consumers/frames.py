"""Server frames built from stored rows: history pages, and replays of ended messages."""

from typing import Any

from ai_chat.models import AIConversation, AIMessage
from sockets.errors import error_class_for


def history_frame(
    conversation: AIConversation, messages: list[AIMessage], has_more: bool
) -> dict[str, Any]:
    return {
        "type": "history",
        "conversation_id": str(conversation.pk),
        "messages": [
            {
                "id": str(m.pk),
                "role": m.role,
                "content": m.content,
                "data": m.data,
                "status": m.status,
                "created_at": m.created_at.isoformat().replace("+00:00", "Z"),
            }
            for m in messages
        ],
        "has_more": has_more,
    }


def replay_frames(message_id: str) -> list[dict[str, Any]]:
    """The frames of an ended message rebuilt from the database, for when its log is gone.

    The stored text comes back as one `streaming` frame (index 0), then the final frame. A
    message still streaming in a process that is alive has no rebuild: it is followed live.
    """
    message = AIMessage.objects.filter(pk=message_id).first()
    if message is None or message.status == AIMessage.Status.STREAMING:
        return []
    ids = {"conversation_id": str(message.conversation_id), "message_id": str(message.pk)}
    frames: list[dict[str, Any]] = []
    if message.content:
        frames.append({"type": "streaming", **ids, "index": 0, "chunk": message.content})
    if message.status == AIMessage.Status.COMPLETED:
        frames.append(
            {
                "type": "complete",
                **ids,
                "data": message.data,
                "usage": {
                    "input_tokens": message.input_tokens,
                    "output_tokens": message.output_tokens,
                },
                "model": message.model,
            }
        )
    elif message.status == AIMessage.Status.CANCELLED:
        frames.append({"type": "cancelled", **ids})
    else:
        # An interrupted message's process died: like a provider failure, worth retrying.
        interrupted = message.status == AIMessage.Status.INTERRUPTED
        code = "ai_unavailable" if interrupted else (message.error_code or "internal_error")
        error = error_class_for(code)(
            message.error or "The generation failed.", conversation_id=ids["conversation_id"]
        )
        frames.append({**error.to_frame(), "message_id": ids["message_id"]})
    return frames
