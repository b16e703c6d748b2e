"""Named protocol errors: one exception per wire error code, mapped to the wire in one place.

Every subclass of `ProtocolError` declares its `code`; defining it registers the code (the
`error` frame's vocabulary, the AsyncAPI document's enum and the metric labels all read the
registry, so no list restates it). The errors every endpoint can raise live here; an app adds
its own (e.g. `ai_chat.exceptions`) by subclassing. Anything else that escapes a handler becomes
`internal_error`.
"""

from typing import TYPE_CHECKING, Any, ClassVar

from ops import metrics

if TYPE_CHECKING:
    from sockets.server_frames import ErrorFrame

# The codes of `auth_error` frames (`accounts.firebase.AuthFailed`, and the socket's own two).
AUTH_ERROR_CODES = (
    "invalid_token",
    "expired_token",
    "revoked_token",
    "user_disabled",
    "auth_required",
    "auth_timeout",
)
# The longest `details` list a frame carries, and the longest message in one: a frame built
# from a hostile input must stay far below the transport's message size limit.
MAX_DETAILS = 20
MAX_DETAIL_MESSAGE = 300

_REGISTRY: dict[str, type["ProtocolError"]] = {}
metrics.register_error_codes(*AUTH_ERROR_CODES)


class ProtocolError(Exception):
    """An error the client is told about with an `error` frame."""

    code: ClassVar[str] = "internal_error"
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "Something went wrong."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _REGISTRY.setdefault(cls.code, cls)
            metrics.register_error_codes(cls.code)

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        conversation_id: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = bounded_details(details) if details else None
        self.retry_after = retry_after
        self.conversation_id = conversation_id
        super().__init__(self.message)

    def to_frame(self, *, message_id: str | None = None) -> "ErrorFrame":
        """The `error` frame telling the client (the one place an error becomes a frame)."""
        from sockets.server_frames import ErrorFrame

        return ErrorFrame.make(
            code=self.code,
            message=self.message,
            retryable=self.retryable,
            retry_after=max(1, round(self.retry_after)) if self.retry_after is not None else None,
            details=self.details or None,
            conversation_id=self.conversation_id,
            message_id=message_id,
        )


def bounded_details(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most `MAX_DETAILS` entries of bounded length; the last says how many were left out."""
    kept = [
        {key: str(value)[:MAX_DETAIL_MESSAGE] for key, value in entry.items()}
        for entry in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        kept[-1] = {
            "field": "(more)",
            "message": f"{len(details) - MAX_DETAILS + 1} more problems not listed.",
        }
    return kept


def error_codes() -> list[str]:
    """Every registered `error` frame code, sorted."""
    return sorted(_REGISTRY)


def error_class_for(code: str) -> type[ProtocolError]:
    """The exception class of a wire error code (InternalError for an unknown one)."""
    return _REGISTRY.get(code, InternalError)


class InvalidFrame(ProtocolError):
    code = "invalid_frame"
    default_message = "Frames must be UTF-8 text holding one JSON object."


class UnknownType(ProtocolError):
    code = "unknown_type"
    default_message = "Unknown or missing frame type."


class InvalidMessage(ProtocolError):
    code = "invalid_message"
    default_message = "The frame has missing, unknown or invalid fields."


class MessageTooLarge(ProtocolError):
    code = "message_too_large"
    default_message = "The frame is larger than 64 KiB."


class NotFound(ProtocolError):
    code = "not_found"
    default_message = "Not found."


class Forbidden(ProtocolError):
    code = "forbidden"
    default_message = "You may not do that."


class RateLimited(ProtocolError):
    code = "rate_limited"
    retryable = True
    default_message = "Too many messages; slow down."


class TokenExpired(ProtocolError):
    code = "token_expired"
    default_message = "The token has expired; send a fresh `auth` frame."


class InternalError(ProtocolError):
    code = "internal_error"
    retryable = True
    default_message = "Internal error."
