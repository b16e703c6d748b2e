"""The `/ws/events/` channel of the AsyncAPI document (`ai_chat.asyncapi` builds the whole).

Client frames come from `realtime.protocol`, server frames from `realtime.server_frames` plus the
AI endpoints' shared `auth_success`, `auth_error`, `error` and `pong`. Each (event, action) of
`EVENT_PAYLOADS` is also a message of its own: an `event` frame with that payload.
"""

from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, create_model

from ai_chat.asyncapi import SERVER, _component, _message
from realtime import protocol, server_frames
from realtime.rooms import ROOM_SYNTAX
from sockets.frames import ClientFrame

CHANNEL = "events"
PATH = "/ws/events/"
SHARED_CLIENT = ("auth", "ping")  # the AI endpoints' own frames and messages
SHARED_SERVER = ("auth_success", "auth_error", "error", "pong")

EVENTS_CLIENT_MODELS: dict[str, type[ClientFrame]] = {
    get_args(model.model_fields["type"].annotation)[0]: model
    for model in get_args(get_args(protocol.AnyEventsFrame)[0])
}
CLIENT_SUMMARIES = {
    "subscribe": "Join a room (or re-sync one already joined): answered with its snapshot and "
    "current `seq`, or `error` `forbidden`.",
    "unsubscribe": "Leave a room; answered `unsubscribed` even when it was not joined.",
    "mark_read": "Mark some of your notifications read.",
    "progress": "Record your progress in a lesson (the furthest `percent` is kept).",
    "confusion": "Flag a confusing point of a lesson to its instructors.",
    "resolve_confusion": "Resolve a confusion of a course you teach.",
}
REPLIES = {
    "auth": ["auth_success", "auth_error"],
    "ping": ["pong"],
    "subscribe": ["subscribed"],
    "unsubscribe": ["unsubscribed"],
    "mark_read": ["ack"],
    "progress": ["ack"],
    "confusion": ["ack"],
    "resolve_confusion": ["ack"],
}


def _event_key(event: str, action: str) -> str:
    return f"{event}.{action}"


def event_models() -> dict[str, type[BaseModel]]:
    """`{event}.{action}` -> an `event` frame narrowed to that event, action and payload."""
    models: dict[str, type[BaseModel]] = {}
    for (event, action), payload in server_frames.EVENT_PAYLOADS.items():
        name = "".join(p.capitalize() for p in f"{event}_{action}".split("_"))
        models[_event_key(event, action)] = create_model(
            f"{name}EventFrame",
            __base__=server_frames.EventFrame,
            __doc__=f"An `{event}` event, action `{action}`, of a subscribed room.",
            event=(cast(Any, Literal[event]), ...),
            action=(cast(Any, Literal[action]), ...),
            payload=(payload, ...),
        )
    return models


def models(events: dict[str, type[BaseModel]]) -> list[type[BaseModel]]:
    """The models of this channel that are not already the AI endpoints'."""
    own_client = [m for n, m in EVENTS_CLIENT_MODELS.items() if n not in SHARED_CLIENT]
    return [*own_client, *server_frames.EVENTS_SERVER_FRAMES.values(), *events.values()]


def messages(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """The component messages of this channel that are not already the AI endpoints'."""
    found: dict[str, Any] = {}
    for name, client in EVENTS_CLIENT_MODELS.items():
        if name not in SHARED_CLIENT:
            found[f"events.client.{name}"] = _message(name, client, CLIENT_SUMMARIES[name])
    for name, server in server_frames.EVENTS_SERVER_FRAMES.items():
        found[f"events.server.{name}"] = _message(name, server)
    for key, model in events.items():
        found[f"events.server.event.{key}"] = _message("event", model)
    return found


def channel_messages(events: dict[str, type[BaseModel]]) -> dict[str, dict[str, str]]:
    """Channel message key -> component reference."""
    refs = {
        f"client.{n}": _component(f"client.{n}" if n in SHARED_CLIENT else f"events.client.{n}")
        for n in EVENTS_CLIENT_MODELS
    }
    refs |= {f"server.{n}": _component(f"server.{n}") for n in SHARED_SERVER}
    refs |= {
        f"server.{n}": _component(f"events.server.{n}") for n in server_frames.EVENTS_SERVER_FRAMES
    }
    refs |= {f"server.event.{k}": _component(f"events.server.event.{k}") for k in events}
    return refs


def channel(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    return {
        "address": PATH,
        "title": "realtime events",
        "description": DESCRIPTION,
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "messages": channel_messages(events),
        "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
    }


def operations(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    ref_channel = {"$ref": f"#/channels/{CHANNEL}"}

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}

    found: dict[str, Any] = {}
    for name in EVENTS_CLIENT_MODELS:
        summary = CLIENT_SUMMARIES.get(name) or _shared_summary(name)
        replies = REPLIES[name] + ([] if name in SHARED_CLIENT else ["auth_error"]) + ["error"]
        found[f"{CHANNEL}.{name}"] = {
            "action": "receive",
            "channel": ref_channel,
            "summary": summary,
            "messages": [ref(f"client.{name}")],
            "reply": {"channel": ref_channel, "messages": [ref(f"server.{r}") for r in replies]},
        }
    found[f"{CHANNEL}.server_frames"] = {
        "action": "send",
        "channel": ref_channel,
        "summary": "Every frame the server sends on this endpoint, including unsolicited ones: "
        "`auth_success` after a session handshake, `auth_error` on `auth_timeout`, and the "
        "`event` frames of the joined rooms (one message per known event and action).",
        "messages": [ref(n) for n in channel_messages(events) if n.startswith("server.")],
    }
    return found


def _shared_summary(name: str) -> str:
    from ai_chat.asyncapi import CLIENT_SUMMARIES as AI_SUMMARIES

    return AI_SUMMARIES[name]


DESCRIPTION = f"""\
Realtime rooms: notifications, progress, confusions, presence, analytics and the user's \
generations.

Not anonymous: authenticate with the session cookie at the handshake (answered \
`auth_success`) or with an `auth` frame first. The handshake is refused (HTTP 403) when the \
`Origin` header is not an allowed host.

## Rooms

A room is {ROOM_SYNTAX}; `subscribe` joins one, `unsubscribe` leaves it.

| room | who may join |
| --- | --- |
| `user:{{id}}` | that user only (oneself) |
| `course:{{id}}` | the course's owner, staff, and users enrolled in it |
| `lesson:{{id}}` | the same as the lesson's course |
| `instructor:{{id}}` | that instructor only (they hear about the courses they teach) |

A room one may not join, or one that does not exist, is answered with an `error` frame with \
code `forbidden` (existence is not revealed); a name that is not a room form with \
`invalid_message`. Joining a course or lesson room is viewing it (presence).

## Ordering: `seq`

Each room numbers its events: `subscribed` carries the room's snapshot and its latest `seq`, \
and every `event` of the room carries a `seq`. Per room, with `last` the latest seq seen:

- `seq == last + 1`: apply the event, and `last = seq`;
- `seq <= last`: ignore it (already in the snapshot, or a duplicate);
- `seq > last + 1`: events were missed; `subscribe` again for a fresh snapshot and `seq`.

The `event` messages name each known (event, action) with its payload; `generation` events to \
`user:{{id}}` carry the generation runner's own payload and match the generic `event` message.
"""
