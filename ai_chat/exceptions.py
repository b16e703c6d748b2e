"""One exception per wire error code (PROTOCOL.md, "Error codes").

Services and kinds raise these; the consumer turns any of them into an `error` frame in one
place (`ProtocolError.to_frame`). Anything else that escapes becomes `internal_error`.
"""

from typing import Any, ClassVar


class ProtocolError(Exception):
    """An error the client is told about with an `error` frame."""

    code: ClassVar[str] = "internal_error"
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "Something went wrong."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        conversation_id: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.retry_after = retry_after
        self.conversation_id = conversation_id
        super().__init__(self.message)

    def to_frame(self, *, request_id: str | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "type": "error",
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.retry_after is not None:
            frame["retry_after"] = max(1, round(self.retry_after))
        if self.details:
            frame["details"] = self.details
        if self.conversation_id is not None:
            frame["conversation_id"] = self.conversation_id
        if request_id is not None:
            frame["request_id"] = request_id
        return frame


class InvalidFrame(ProtocolError):
    code = "invalid_frame"
    default_message = "Frames must be UTF-8 text holding one JSON object."


class UnknownType(ProtocolError):
    code = "unknown_type"
    default_message = "Unknown or missing frame type."


class InvalidMessage(ProtocolError):
    code = "invalid_message"
    default_message = "The frame has missing, unknown or invalid fields."


class MessageTooLong(ProtocolError):
    code = "message_too_long"
    default_message = "The message content is too long."


class MessageTooLarge(ProtocolError):
    code = "message_too_large"
    default_message = "The frame is larger than 64 KiB."


class NotFound(ProtocolError):
    code = "not_found"
    default_message = "Not found."


class Busy(ProtocolError):
    code = "busy"
    retryable = True
    default_message = "A generation is already running."


class RateLimited(ProtocolError):
    code = "rate_limited"
    retryable = True
    default_message = "Too many messages; slow down."


class QuotaExceeded(ProtocolError):
    code = "quota_exceeded"
    retryable = True
    default_message = "Today's token budget is spent."


class TokenExpired(ProtocolError):
    code = "token_expired"
    default_message = "The token has expired; send a fresh `auth` frame."


class NothingToRefine(ProtocolError):
    code = "nothing_to_refine"
    default_message = "This conversation has no result to refine yet."


class NothingToSave(ProtocolError):
    code = "nothing_to_save"
    default_message = "There is no completed result to save."


class NotRunning(ProtocolError):
    code = "not_running"
    default_message = "No generation is running for this conversation."


class Forbidden(ProtocolError):
    code = "forbidden"
    default_message = "You may not do that."


class AIUnavailable(ProtocolError):
    code = "ai_unavailable"
    retryable = True
    default_message = "The AI provider is unavailable; try again shortly."


class AIInvalidOutput(ProtocolError):
    code = "ai_invalid_output"
    retryable = True
    default_message = "The AI returned a result that failed validation; try again."


class InternalError(ProtocolError):
    code = "internal_error"
    retryable = True
    default_message = "Internal error."


def error_class_for(code: str) -> type[ProtocolError]:
    """The exception class of a wire error code (InternalError for an unknown one)."""
    for cls in _all_subclasses(ProtocolError):
        if cls.code == code:
            return cls
    return InternalError


def _all_subclasses(cls: type[ProtocolError]) -> list[type[ProtocolError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found
