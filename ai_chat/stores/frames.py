"""Server frames built from stored rows: history pages, and replays of ended messages."""

from typing import Any

from ai_chat.models import AIConversation, AIMessage
from ai_chat.server_frames import (
    CancelledFrame,
    CompleteFrame,
    HistoryMessage,
    HistoryPageFrame,
    StreamingFrame,
)
from sockets.errors import error_class_for
from sockets.server_frames import ServerFrame

# A history page stays far below the transport's message limit (1 MiB by default) however
# long the results in it: a page holds as many messages as fit, at least one, and says
# `has_more` when it stopped early, so the client asks again with `before`.
HISTORY_PAGE_BYTES = 512 * 1024


def origin_marks(origin: str) -> dict[str, bool]:
    """The mark of an answer that is not the model's: `cached` or `fallback` (none for the
    model's own)."""
    if origin == AIMessage.Origin.CACHE:
        return {"cached": True}
    if origin == AIMessage.Origin.FALLBACK:
        return {"fallback": True}
    return {}


def history_page(
    conversation_id: Any, messages: list[dict[str, Any]], has_more: bool
) -> HistoryPageFrame:
    """The `history` frame of these messages (newest first), cut to HISTORY_PAGE_BYTES."""
    kept: list[HistoryMessage] = []
    size = 0
    for fields in messages:
        message = HistoryMessage(**fields)
        size += len(message.__pydantic_serializer__.to_json(message))
        if kept and size > HISTORY_PAGE_BYTES:
            has_more = True
            break
        kept.append(message)
    return HistoryPageFrame.make(conversation_id=conversation_id, messages=kept, has_more=has_more)


def history_frame(
    conversation: AIConversation, messages: list[AIMessage], has_more: bool
) -> HistoryPageFrame:
    rows = [
        {
            "id": m.pk,
            "role": m.role,
            "content": m.content,
            "data": m.data,
            "status": m.status,
            "created_at": m.created_at,
            **origin_marks(m.origin),
        }
        for m in messages
    ]
    return history_page(conversation.pk, rows, has_more)


def replay_frames(message_id: str) -> list[ServerFrame]:
    """The frames of an ended message rebuilt from the database, for when its log is gone.

    The stored text comes back as one `streaming` frame (index 0), then the final frame. A
    message still streaming in a process that is alive has no rebuild: it is followed live.
    """
    message = AIMessage.objects.filter(pk=message_id).first()
    if message is None or message.status == AIMessage.Status.STREAMING:
        return []
    ids = {"conversation_id": message.conversation_id, "message_id": message.pk}
    frames: list[ServerFrame] = []
    if message.content:
        frames.append(StreamingFrame.make(**ids, index=0, chunk=message.content))
    if message.status == AIMessage.Status.COMPLETED:
        usage = {"input_tokens": message.input_tokens, "output_tokens": message.output_tokens}
        frames.append(
            CompleteFrame.make(
                **ids,
                data=message.data,
                usage=usage,
                model=message.model,
                **origin_marks(message.origin),
            )
        )
    elif message.status == AIMessage.Status.CANCELLED:
        frames.append(CancelledFrame.make(**ids))
    else:
        # An interrupted message's process died: like a provider failure, worth retrying.
        interrupted = message.status == AIMessage.Status.INTERRUPTED
        code = "ai_unavailable" if interrupted else (message.error_code or "internal_error")
        error = error_class_for(code)(
            message.error or "The generation failed.",
            conversation_id=str(message.conversation_id),
        )
        frames.append(error.to_frame(message_id=str(message.pk)))
    return frames
