"""Frames on the wire: decoding a text frame, validating it into a model, encoding answers.

Client frames are validated into pydantic models and the consumer branches on the class (a
client's `type` never becomes a method name). Server frames are `sockets.server_frames`.
"""

import json
import uuid
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sockets.errors import InvalidFrame, InvalidMessage, MessageTooLarge, UnknownType

MAX_FRAME_BYTES = 64 * 1024
MAX_REQUEST_ID = 64

# JSON has no uuid type: ids arrive as strings, the one conversion strict mode must allow.
Uuid = Annotated[uuid.UUID, Field(strict=False)]


class ClientFrame(BaseModel):
    """Base of every client frame."""

    # Strict: "1", 2.0 or true for an integer field is the client's mistake, not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    request_id: str | None = Field(default=None, max_length=MAX_REQUEST_ID)


class AuthFrame(ClientFrame):
    type: Literal["auth"]
    # No upper bound here: an oversized token is an invalid token (`auth_error`, 4401), said by
    # the verifier, not a malformed frame. The frame size limit bounds it anyway.
    token: str = Field(min_length=1)


class PingFrame(ClientFrame):
    type: Literal["ping"]


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    """A pydantic error as the protocol's `details`: one entry per field at fault."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "(frame)", "message": e["msg"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


def decode_text_frame(text_data: str | None) -> dict[str, Any]:
    """The JSON object a text frame holds, or the protocol's error for anything else."""
    if text_data is None:
        raise InvalidFrame("Binary frames are not accepted; send JSON text.")
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8", "replace")) > (
        MAX_FRAME_BYTES
    ):
        raise MessageTooLarge()
    try:
        raw = json.loads(text_data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidFrame("The frame is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise InvalidFrame("The frame must be a JSON object.")
    if "\\u" in text_data and not _utf8_encodable(raw):  # an unpaired \ud800 escape
        raise InvalidFrame("The frame holds an unpaired surrogate escape; it is not Unicode.")
    return raw


def refuse_unstorable(raw: dict[str, Any]) -> None:
    """`invalid_message` naming the field when a value (or key) holds U+0000: no database
    stores it, so it is refused here rather than failing at insert. The `request_id` is only
    echoed, never stored, and is left alone."""
    try:
        where = _nul_path({k: v for k, v in raw.items() if k != "request_id"}, "")
    except RecursionError:
        raise InvalidFrame("The frame is nested too deeply.") from None
    if where is not None:
        raise InvalidMessage(
            details=[{"field": where or "(frame)", "message": "U+0000 (NUL) is not allowed."}]
        )


def request_id_of(raw: dict[str, Any]) -> str | None:
    """The frame's `request_id`, when it is one that may be echoed back."""
    value = raw.get("request_id")
    return value if isinstance(value, str) and len(value) <= MAX_REQUEST_ID else None


def parse_client_frame(
    raw: dict[str, Any], adapter: TypeAdapter[Any], types: frozenset[str]
) -> Any:
    """Validate a decoded frame into one of an endpoint's frame models."""
    type_ = raw.get("type")
    if not isinstance(type_, str) or type_ not in types:  # a list is unhashable
        raise UnknownType(f"Unknown frame type; expected one of {sorted(types)}.")
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        # Each error's location starts with the union's tag: name the frame's own fields.
        details = [
            {**d, "field": d["field"].removeprefix(f"{type_}.")} for d in validation_details(exc)
        ]
        raise InvalidMessage(details=details) from None


def client_frame_types(union: Any) -> frozenset[str]:
    """The `type` tags of an `Annotated[A | B | ..., Field(discriminator="type")]` union."""
    return frozenset(frame_models(union))


def frame_models(union: Any) -> dict[str, type[BaseModel]]:
    """`type` tag -> model, for each model of a discriminated frame union."""
    return {
        get_args(model.model_fields["type"].annotation)[0]: model
        for model in get_args(get_args(union)[0])
    }


def _nul_path(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) holding U+0000, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if "\x00" in key:
                return f"{path}.{key!r}".lstrip(".")
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _nul_path(item, f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


def _utf8_encodable(raw: dict[str, Any]) -> bool:
    """Whether the parsed frame can be echoed back as UTF-8 (no lone surrogates in it)."""
    try:
        json.dumps(raw, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
