"""The conversation engine's own wire errors (PROTOCOL.md, "Error codes").

The errors every endpoint shares (invalid frames, not found, rate limits, internal errors) are
`sockets.errors`; these are the generation endpoints' own. Services and kinds raise them; the
socket layer turns any `ProtocolError` into an `error` frame in one place.
"""

from sockets.errors import ProtocolError


class MessageTooLong(ProtocolError):
    code = "message_too_long"
    default_message = "The message content is too long."


class Busy(ProtocolError):
    code = "busy"
    retryable = True
    default_message = "A generation is already running."


class QuotaExceeded(ProtocolError):
    code = "quota_exceeded"
    retryable = True
    default_message = "Today's token budget is spent."


class NothingToRefine(ProtocolError):
    code = "nothing_to_refine"
    default_message = "This conversation has no result to refine yet."


class NothingToSave(ProtocolError):
    code = "nothing_to_save"
    default_message = "There is no completed result to save."


class NotRunning(ProtocolError):
    code = "not_running"
    default_message = "No generation is running for this conversation."


class AIUnavailable(ProtocolError):
    code = "ai_unavailable"
    retryable = True
    default_message = "The AI provider is unavailable; try again shortly."


class AIInvalidOutput(ProtocolError):
    code = "ai_invalid_output"
    retryable = True
    default_message = "The AI returned a result that failed validation; try again."


class ConversationArchived(ProtocolError):
    code = "conversation_archived"
    default_message = (
        "This conversation is archived and read only: unarchive it, or start a new one."
    )
