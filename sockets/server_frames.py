"""The server frames every endpoint sends (PROTOCOL.md, "Server frames"), as pydantic models.

Every frame the server sends is built from its model (`Frame.make(...)`, validated), serialised
once (`wire()`, cached: a chunk followed by many sockets is encoded one time) and then sent,
so the AsyncAPI document built from these models describes exactly what is sent. Each app
defines its own frames beside these, on `ServerFrame`. Optional fields that are absent on the
wire are `exclude_if=absent`; a field that is sent as `null` has no `exclude_if`.
"""

import json
import uuid
from typing import Any, ClassVar, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

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


def absent(value: Any) -> bool:
    """`exclude_if` of optional fields that are left out of the frame when they are None."""
    return value is None


class ServerFrame(BaseModel):
    """Base of every server frame."""

    model_config = ConfigDict(extra="forbid")
    frame_type: ClassVar[str] = ""

    request_id: str | None = Field(
        default=None,
        max_length=MAX_REQUEST_ID,
        exclude_if=absent,
        description="The `request_id` of the client frame this frame answers, if it had one.",
    )
    _wire: str | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        if field is not None:
            cls.frame_type = get_args(field.annotation)[0]

    @classmethod
    def make(cls, **fields: Any) -> Self:
        """The frame with these fields, validated (its `type` is the class's own)."""
        return cls(type=cls.frame_type, **fields)  # type: ignore[call-arg]

    def wire(self, request_id: str | None = None) -> str:
        """The frame as sent: JSON text, encoded once, with the answer's `request_id` added."""
        # The private attribute read from its dict: `self._wire` goes through pydantic's
        # `__getattr__`, about 2 µs, and this runs once per frame per socket.
        private = self.__pydantic_private__
        assert private is not None
        wire = private.get("_wire")
        if wire is None:
            wire = private["_wire"] = self.__pydantic_serializer__.to_json(self).decode()
        if request_id is None or self.request_id is not None:
            return wire
        # The frame is shared by every follower: splice the request id in, don't copy.
        return f'{wire[:-1]},"request_id":{json.dumps(request_id)}}}'


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
        default=None,
        ge=1,
        exclude_if=absent,
        description="Seconds to wait before retrying, where it applies.",
    )
    details: list[ErrorDetail] | None = Field(
        default=None, exclude_if=absent, description="The fields at fault."
    )
    conversation_id: uuid.UUID | None = Field(
        default=None, exclude_if=absent, description="The conversation concerned, where it applies."
    )
    message_id: uuid.UUID | None = Field(
        default=None,
        exclude_if=absent,
        description="The assistant message whose generation this error ended.",
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
