"""The `/ws/events/` channel of the AsyncAPI document (`ai_chat.asyncapi` builds the whole).

Everything here is derived from the declarations (`realtime.registry`): client frames and their
summaries from the client actions, server frames from `realtime.server_frames`, the rooms table
from the room kinds, and each declared (event, action) is a message of its own: an `event`
frame with that payload. `auth`, `ping`, `auth_success`, `auth_error`, `error` and `pong` are
the socket layer's, described once for every endpoint.
"""

from collections.abc import Mapping
from typing import Any, Literal, cast

from pydantic import BaseModel, Field, create_model

from realtime import registry, server_frames
from realtime.protocol import SHARED_FRAMES, events_client_models
from realtime.rooms import room_syntax

CHANNEL = "events"
PATH = "/ws/events/"
SERVER = "local"
REF = "#/components/schemas/{model}"
SHARED_CLIENT = tuple(registry.frame_type(frame) for frame in SHARED_FRAMES)
SHARED_SERVER = ("auth_success", "auth_error", "error", "pong")
SHARED_REPLIES = {"auth": ["auth_success", "auth_error"], "ping": ["pong"]}


def message(name: str, model: type[BaseModel], summary: str = "") -> dict[str, Any]:
    """A component message whose payload is the model's schema."""
    return {
        "name": name,
        "title": model.__name__,
        "summary": summary or next(iter((model.__doc__ or "").strip().splitlines()), ""),
        "payload": {"$ref": REF.format(model=model.__name__)},
        "correlationId": {"$ref": "#/components/correlationIds/requestId"},
    }


def component(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{name}"}


def _summaries() -> dict[str, str]:
    return {action.type: action.summary for action in registry.client_actions()}


def _replies(name: str) -> list[str]:
    action = registry.client_action_get(name)
    return SHARED_REPLIES[name] if action is None else [action.reply]


def _event_key(event: str, action: str) -> str:
    return f"{event}.{action}"


def event_models() -> dict[str, type[BaseModel]]:
    """`{event}.{action}` -> an `event` frame narrowed to that event, action and payload."""
    models: dict[str, type[BaseModel]] = {}
    for kind in registry.event_kinds():
        event, action = kind.event, kind.action
        name = "".join(p.capitalize() for p in f"{event}_{action}".split("_"))
        narrowed: dict[str, Any] = {}
        where = "a subscribed room"
        if kind.rooms:
            pattern = f"^({'|'.join(kind.rooms)}):[1-9][0-9]*$"
            narrowed["room"] = (str, Field(pattern=pattern))
            where = " or ".join(f"`{room}:{{id}}`" for room in kind.rooms)
        models[_event_key(event, action)] = create_model(
            f"{name}EventFrame",
            __base__=server_frames.event_frame_model(),
            __doc__=f"An `{event}` event, action `{action}`, of {where}.",
            event=(cast(Any, Literal[event]), ...),
            action=(cast(Any, Literal[action]), ...),
            payload=(kind.payload, ...),
            **narrowed,
        )
    return models


def models(events: dict[str, type[BaseModel]]) -> list[type[BaseModel]]:
    """The models of this channel that are not already the AI endpoints'."""
    own_client = [m for n, m in events_client_models().items() if n not in SHARED_CLIENT]
    return [*own_client, *server_frames.events_server_frames().values(), *events.values()]


def messages(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """The component messages of this channel that are not already the AI endpoints'."""
    found: dict[str, Any] = {}
    summaries = _summaries()
    for name, client in events_client_models().items():
        if name not in SHARED_CLIENT:
            found[f"events.client.{name}"] = message(name, client, summaries[name])
    for name, server in server_frames.events_server_frames().items():
        found[f"events.server.{name}"] = message(name, server)
    for key, model in events.items():
        found[f"events.server.event.{key}"] = message("event", model)
    return found


def channel_messages(events: dict[str, type[BaseModel]]) -> dict[str, dict[str, str]]:
    """Channel message key -> component reference."""
    refs = {
        f"client.{n}": component(f"client.{n}" if n in SHARED_CLIENT else f"events.client.{n}")
        for n in events_client_models()
    }
    refs |= {f"server.{n}": component(f"server.{n}") for n in SHARED_SERVER}
    refs |= {
        f"server.{n}": component(f"events.server.{n}") for n in server_frames.events_server_frames()
    }
    refs |= {f"server.event.{k}": component(f"events.server.event.{k}") for k in events}
    return refs


def channel(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    return {
        "address": PATH,
        "title": "realtime events",
        "description": description(),
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "messages": channel_messages(events),
        "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
    }


def operations(
    events: dict[str, type[BaseModel]], shared_summaries: Mapping[str, str]
) -> dict[str, Any]:
    """The channel's operations; `shared_summaries` describe the socket layer's frames."""
    summaries = {**shared_summaries, **_summaries()}
    ref_channel = {"$ref": f"#/channels/{CHANNEL}"}

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}

    found: dict[str, Any] = {}
    for name in events_client_models():
        summary = summaries[name]
        replies = _replies(name) + ([] if name in SHARED_CLIENT else ["auth_error"]) + ["error"]
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


def description() -> str:
    """The channel's description, with the rooms table of the declared room kinds."""
    rooms = "\n".join(f"| `{kind.name}:{{id}}` | {kind.who} |" for kind in registry.room_kinds())
    viewed = " or ".join(kind.name for kind in registry.room_kinds() if kind.presence)
    return DESCRIPTION.format(syntax=room_syntax(), rooms=rooms, viewed=viewed)


DESCRIPTION = """\
Realtime rooms: notifications, progress, confusions, presence, analytics and the user's \
generations.

Not anonymous: authenticate with the session cookie at the handshake (answered \
`auth_success`) or with an `auth` frame first. The handshake is refused (HTTP 403) unless \
the `Origin` header is the server's own origin (host and port) or one of \
`CSRF_TRUSTED_ORIGINS`.

## Rooms

A room is {syntax}; `subscribe` joins one, `unsubscribe` leaves it.

| room | who may join |
| --- | --- |
{rooms}

A room one may not join, or one that does not exist, is answered with an `error` frame with \
code `forbidden` (existence is not revealed); a name that is not a room form with \
`invalid_message`. Joining a {viewed} room is viewing it (presence).

## Ordering: `seq`

Each room numbers its events: `subscribed` carries the room's snapshot and its latest `seq`, \
and every `event` of the room carries a `seq`. Per room, with `last` the latest seq seen:

- `seq == last + 1`: apply the event, and `last = seq`;
- `seq <= last`: ignore it (already in the snapshot, or a duplicate);
- `seq > last + 1`: events were missed; `subscribe` again for a fresh snapshot and `seq`.

The `event` messages name each known (event, action) with its payload; `generation` events to \
`user:{{id}}` carry the generation runner's own payload and match the generic `event` message.
"""
