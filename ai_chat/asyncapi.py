"""The AsyncAPI 3.0 description of the WebSocket API, built from the pydantic models.

Client frames come from `ai_chat.protocol`, server frames from `ai_chat.server_frames`, and each
endpoint's `message.context` and `complete.data` from its kind (`ai_chat.kinds.KINDS`). The
channels are the routed generation endpoints, and `/ws/events/` (`realtime.asyncapi`). The built
document is kept in docs/asyncapi.json (`manage.py asyncapi --write`); tests/test_asyncapi.py
fails when the two differ.
"""

import json
import sys
from pathlib import Path
from typing import Any, cast, get_args

from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from ai_chat import protocol, server_frames
from ai_chat.kinds import KINDS
from sockets.codes import CloseCode
from sockets.frames import MAX_FRAME_BYTES, MAX_REQUEST_ID

ASYNCAPI_VERSION = "3.0.0"
API_VERSION = "1.2.0"  # bump with any change to the wire contract
DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"
SERVER = "local"
REF = "#/components/schemas/{model}"

CLIENT_MODELS: dict[str, type[protocol.ClientFrame]] = {
    get_args(model.model_fields["type"].annotation)[0]: model
    for model in get_args(get_args(protocol.AnyClientFrame)[0])
}
CLIENT_SUMMARIES = {
    "auth": "Authenticate (or refresh the token) with a Firebase ID token.",
    "message": "Start a conversation of this endpoint's kind (`conversation_id` null) or "
    "continue one. `content` is at most MAX_MESSAGE_LENGTH characters (default 2000).",
    "refinement": "Ask for a revised full result of a conversation that has one.",
    "save": "Accept a result (default: the latest completed one) and write its rows.",
    "cancel": "Stop the running generation of a conversation.",
    "resume": "Replay a message's frames after `after_index`, then follow it live to its end.",
    "history": "Get a page of a conversation's messages, newest first.",
    "feedback": "Rate one of your assistant messages (1 to 5) with an optional comment.",
    "conversations": "List your conversations of this endpoint's kind, last activity first "
    "(active ones, or the archived ones with `archived` true).",
    "update_conversation": "Rename a conversation, or archive it (read only, out of the list) "
    "or unarchive it.",
    "ping": "Keep-alive; answered with `pong`.",
}
GENERATION = ["conversation", "started", "streaming", "complete", "cancelled", "typing"]
REPLIES = {
    "auth": ["auth_success", "auth_error"],
    "message": GENERATION,
    "refinement": GENERATION,
    "save": ["saved"],
    "cancel": ["cancelled"],
    "resume": ["streaming", "complete", "cancelled"],
    "history": ["history"],
    "feedback": ["feedback_saved"],
    "conversations": ["conversations"],
    "update_conversation": ["conversation_updated"],
    "ping": ["pong"],
}
CLOSE_CODES = {
    "UNAUTHORIZED": "Authentication failed (after an `auth_error`): an invalid, expired or "
    "revoked token, a disabled user, or another frame before `auth`.",
    "AUTH_TIMEOUT": "No `auth` frame within AUTH_TIMEOUT_SECONDS (default 10) of the accept "
    "(after an `auth_error` with code `auth_timeout`).",
    "TOO_MANY_CONNECTIONS": "The user has more than MAX_CONNECTIONS_PER_USER (default 10) "
    "connections open (after an `error` with code `rate_limited`).",
}


def close_codes() -> dict[int, str]:
    codes = {v: k for k, v in vars(CloseCode).items() if isinstance(v, int)}
    return {code: CLOSE_CODES[name] for code, name in sorted(codes.items())}


def generation_endpoints() -> dict[str, str]:
    """kind -> path of every routed generation endpoint."""
    from ai_chat.consumers.base import BaseAIConsumer
    from config.routing import websocket_urlpatterns

    endpoints: dict[str, str] = {}
    for pattern in websocket_urlpatterns:
        consumer = getattr(pattern.callback, "consumer_class", None)
        if isinstance(consumer, type) and issubclass(consumer, BaseAIConsumer):
            initkwargs = getattr(pattern.callback, "consumer_initkwargs", {})
            kind = initkwargs.get("kind") or consumer.kind
            if kind in endpoints:
                raise ValueError(f"two endpoints of kind {kind!r}")
            endpoints[kind] = "/" + str(pattern.pattern).lstrip("^").rstrip("$")
    return endpoints


def kind_models(kind: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The `message` and `complete` frames of one kind's endpoint, with its schemas in them."""
    spec = KINDS[kind]
    title = kind.capitalize()
    message = create_model(
        f"{title}MessageFrame",
        __base__=protocol.MessageFrame,
        __doc__=f"{CLIENT_SUMMARIES['message']} The context of kind `{kind}`.",
        context=(
            cast(Any, spec.context_model | None),
            Field(default=None, description=f"The request's context (kind `{kind}`)."),
        ),
    )
    complete = create_model(
        f"{title}CompleteFrame",
        __base__=server_frames.CompleteFrame,
        __doc__=f"{server_frames.CompleteFrame.__doc__} The result of kind `{kind}`.",
        data=(spec.result_model, Field(description=f"The validated result (kind `{kind}`).")),
    )
    return message, complete


def _message(name: str, model: type[BaseModel], summary: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "title": model.__name__,
        "summary": summary or next(iter((model.__doc__ or "").strip().splitlines()), ""),
        "payload": {"$ref": REF.format(model=model.__name__)},
        "correlationId": {"$ref": "#/components/correlationIds/requestId"},
    }


def build() -> dict[str, Any]:
    """The AsyncAPI document, as plain JSON data."""
    from realtime import asyncapi as events_api  # imports this module

    endpoints = generation_endpoints()
    per_kind = {kind: kind_models(kind) for kind in endpoints}
    events = events_api.event_models()
    models: list[type[BaseModel]] = [*CLIENT_MODELS.values(), *server_frames.SERVER_FRAME_MODELS]
    for message, complete in per_kind.values():
        models += [message, complete]
    models += events_api.models(events)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)

    messages: dict[str, Any] = {}
    for name, client in CLIENT_MODELS.items():
        messages[f"client.{name}"] = _message(name, client, CLIENT_SUMMARIES[name])
    for name, server in server_frames.SERVER_FRAMES.items():
        messages[f"server.{name}"] = _message(name, server)
    for kind, (message, complete) in per_kind.items():
        messages[f"client.message.{kind}"] = _message("message", message)
        messages[f"server.complete.{kind}"] = _message("complete", complete)
    messages.update(events_api.messages(events))

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for kind, path in endpoints.items():
        # The same message keys on every channel; `message` and `complete` are the kind's own.
        channel_messages = {
            **{f"client.{n}": _component(f"client.{n}") for n in CLIENT_MODELS},
            **{f"server.{n}": _component(f"server.{n}") for n in server_frames.SERVER_FRAMES},
            "client.message": _component(f"client.message.{kind}"),
            "server.complete": _component(f"server.complete.{kind}"),
        }
        channels[kind] = {
            "address": path,
            "title": f"{kind} generation",
            "description": _channel_description(kind),
            "servers": [{"$ref": f"#/servers/{SERVER}"}],
            "messages": channel_messages,
            "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
        }
        operations.update(_operations(kind))
    channels[events_api.CHANNEL] = events_api.channel(events)
    operations.update(events_api.operations(events, CLIENT_SUMMARIES))

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:lectern:ws-api",
        "info": {
            "title": "Lectern WebSocket API",
            "version": API_VERSION,
            "description": _info_description(),
            "x-close-codes": {str(code): text for code, text in close_codes().items()},
        },
        "defaultContentType": "application/json",
        "servers": {
            SERVER: {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "Development server (manage.py runserver, or daphne).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": defs["$defs"],
            "messages": messages,
            "correlationIds": {
                "requestId": {
                    "location": "$message.payload#/request_id",
                    "description": "Every server frame answering a client frame carries the "
                    "`request_id` of that frame, the streaming ones included.",
                }
            },
        },
    }


def _component(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{name}"}


def _operations(kind: str) -> dict[str, Any]:
    channel = {"$ref": f"#/channels/{kind}"}

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{kind}/messages/{name}"}

    operations: dict[str, Any] = {}
    for name in CLIENT_MODELS:
        replies = REPLIES[name] + ([] if name in ("auth", "ping") else ["auth_error"]) + ["error"]
        operations[f"{kind}.{name}"] = {
            "action": "receive",
            "channel": channel,
            "summary": CLIENT_SUMMARIES[name],
            "messages": [ref(f"client.{name}")],
            "reply": {"channel": channel, "messages": [ref(f"server.{r}") for r in replies]},
        }
    operations[f"{kind}.server_frames"] = {
        "action": "send",
        "channel": channel,
        "summary": "Every frame the server sends on this endpoint, including unsolicited "
        "ones: `auth_success` after a session handshake, `auth_error` on `auth_timeout`, and "
        "the frames of a generation followed after a disconnect and `resume`.",
        "messages": [ref(f"server.{n}") for n in server_frames.SERVER_FRAMES],
    }
    return operations


def _channel_description(kind: str) -> str:
    what = next(iter((sys.modules[type(KINDS[kind]).__module__].__doc__ or kind).splitlines()))
    return (
        f"{what}\n\nNot anonymous: authenticate with the session cookie at the handshake "
        "(answered `auth_success`) or with an `auth` frame first. The handshake is refused "
        "(HTTP 403) unless the `Origin` header is the server's own origin (host and port) or "
        "one of `CSRF_TRUSTED_ORIGINS`."
    )


def _info_description() -> str:
    codes = "\n".join(f"| {code} | {text} |" for code, text in close_codes().items())
    return f"""\
Generation endpoints of Lectern, an AI course-authoring backend, and its realtime events
endpoint (`/ws/events/`), which shares their frame rules, `auth`, `ping` and the authentication
close codes (4401, 4408).

Every frame is a UTF-8 text frame holding one JSON object with a `type`. Binary frames, frames
that are not JSON, and JSON values that are not objects are answered with an `error` frame
(`invalid_frame`); frames over {MAX_FRAME_BYTES} bytes with `message_too_large`. Errors never close
the connection, except the authentication errors below.

Any client frame may carry `request_id` (a string of at most {MAX_REQUEST_ID} characters); every
server frame answering it carries the same `request_id`.

A generation sends `conversation`, `started`, then `streaming` frames with consecutive indexes
from 0, then exactly one of `complete`, `cancelled` or `error`. It runs apart from the socket:
a client that goes away does not stop it, and `resume` replays what was missed.

## Close codes

| code | when |
| --- | --- |
{codes}
"""


def render_json(document: dict[str, Any]) -> str:
    """The document as committed: pretty, keys sorted, so that diffs are stable."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
