"""The server frames every endpoint sends (PROTOCOL.md, "Server frames"), as pydantic models.

Each app defines its own frames beside these, on `ServerFrame`. The models forbid unknown
fields, so the AsyncAPI document (built from them) describes exactly what is sent.
"""

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sockets.errors import AUTH_ERROR_CODES, error_codes
from sockets.frames import MAX_REQUEST_ID

AuthErrorCode = Literal[AUTH_ERROR_CODES]  # type: ignore[valid-type]


def _error_code_enum(schema: dict[str, Any]) -> None:
    """Every registered error code, read when the schema is built (all apps loaded)."""
    schema["enum"] = error_codes()


class Part(BaseModel):
    """Base of the objects nested in server frames."""

    model_config = ConfigDict(extra="forbid")


class UserInfo(Part):
    """The signed-in user."""

    id: int
    email: str = Field(description="May be empty when the account has no e-mail.")
    display_name: str


class ErrorDetail(Part):
    """One field at fault."""

    field: str = Field(description='Dotted path of the field, e.g. "context.lesson_id".')
    message: str


class ServerFrame(BaseModel):
    """Base of every server frame."""

    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(
        default=None,
        max_length=MAX_REQUEST_ID,
        description="The `request_id` of the client frame this frame answers, if it had one.",
    )


class AuthSuccessFrame(ServerFrame):
    """The connection is authenticated: after a session handshake, or an accepted `auth`."""

    type: Literal["auth_success"]
    user: UserInfo


class AuthErrorFrame(ServerFrame):
    """Authentication failed; the server then closes with 4401 (4408 for `auth_timeout`)."""

    type: Literal["auth_error"]
    code: AuthErrorCode
    message: str


class ErrorFrame(ServerFrame):
    """A request failed, or a generation ended in failure. The connection stays open."""

    type: Literal["error"]
    code: str = Field(json_schema_extra=_error_code_enum)
    message: str
    retryable: bool
    retry_after: int | None = Field(
        default=None, ge=1, description="Seconds to wait before retrying, where it applies."
    )
    details: list[ErrorDetail] | None = Field(default=None, description="The fields at fault.")
    conversation_id: uuid.UUID | None = Field(
        default=None, description="The conversation concerned, where it applies."
    )
    message_id: uuid.UUID | None = Field(
        default=None, description="The assistant message whose generation this error ended."
    )


class PongFrame(ServerFrame):
    """The answer to `ping`."""

    type: Literal["pong"]


SHARED_SERVER_FRAMES: tuple[type[ServerFrame], ...] = (
    AuthSuccessFrame,
    AuthErrorFrame,
    ErrorFrame,
    PongFrame,
)
