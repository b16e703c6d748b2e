"""The AsyncAPI document (docs/asyncapi.json) against the models, and the models against the wire.

1. The committed document is what `ai_chat.asyncapi` builds now.
2. It describes every client and server frame, on every routed generation endpoint, and every
   client and server frame of the realtime events endpoint on its channel.
3. The error codes of the models are those of the exceptions, and the other literals those of
   their sources.
4. The frames the consumer really sends validate against the server-frame models.
"""

import asyncio
import contextlib
import difflib
import json
import re
import uuid
from pathlib import Path
from typing import Any, get_args

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.core.management.base import CommandError

from ai_chat import asyncapi, server_frames
from ai_chat.kinds import KINDS, kind_names, object_types
from ai_chat.kinds.course import CourseKind
from ai_chat.management.commands import asyncapi as command
from ai_chat.models import AIMessage
from ai_chat.protocol import CLIENT_FRAME_TYPES, AnyClientFrame
from ai_chat.server_frames import SERVER_FRAME_TYPES, server_frame_adapter
from ai_chat.services.runtime import generation_service
from ai_chat.stores.frames import replay_frames
from config.asgi import application
from realtime import asyncapi as events_api
from realtime import registry
from realtime import server_frames as events_frames
from realtime.protocol import events_client_models, events_frame_types
from sockets import errors
from sockets.codes import CloseCode
from tests.consumers.conftest import (
    ORIGIN,
    PATHS,
    SAVEABLE_KINDS,
    example_contexts,
    shutdown_runtime,
)

# The paths PROTOCOL.md documents: routing must keep serving them.
DOCUMENTED_PATHS = {
    "course": "/ws/ai/course-generation/",
    "lesson": "/ws/ai/lesson-content/",
    "quiz": "/ws/ai/quiz-questions/",
    "assignment": "/ws/ai/assignment-questions/",
    "chat": "/ws/ai/chat/",
}
REGENERATE = "run `python manage.py asyncapi --write` and commit docs/asyncapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.build()


def _generation_channels(document: dict[str, Any]) -> dict[str, Any]:
    return {k: c for k, c in document["channels"].items() if k != events_api.CHANNEL}


# --- 1. the committed document ----------------------------------------------------------------


def test_committed_document_is_up_to_date():
    expected = asyncapi.render_json(asyncapi.build())
    path = asyncapi.DOCUMENT_PATH
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    if committed != expected:
        diff = difflib.unified_diff(
            committed.splitlines(), expected.splitlines(), "committed", "built", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:60])
        pytest.fail(f"docs/asyncapi.json is out of date with the models: {REGENERATE}.\n{excerpt}")


def test_check_command_passes_on_the_committed_document():
    call_command("asyncapi", "--check")


def test_check_command_fails_on_a_stale_document(tmp_path: Path, monkeypatch):
    stale = tmp_path / "asyncapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(command, "DOCUMENT_PATH", stale)
    with pytest.raises(CommandError, match="asyncapi --write"):
        call_command("asyncapi", "--check")
    call_command("asyncapi", "--write")
    assert stale.read_text(encoding="utf-8") == asyncapi.render_json(asyncapi.build())
    call_command("asyncapi", "--check")


def test_print_command_prints_the_document(capsys, document):
    call_command("asyncapi")
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(document))


# --- 2. every endpoint and frame --------------------------------------------------------------


def test_channels_are_the_routed_generation_endpoints(document):
    endpoints = asyncapi.generation_endpoints()
    assert DOCUMENTED_PATHS.items() <= endpoints.items()
    assert {k: c["address"] for k, c in _generation_channels(document).items()} == endpoints
    assert document["channels"]["events"]["address"] == "/ws/events/"
    assert document["servers"]["local"] == {
        "host": "127.0.0.1:8000",
        "protocol": "ws",
        "description": document["servers"]["local"]["description"],
    }


def test_every_client_frame_is_a_message_of_every_channel(document):
    client_models = get_args(get_args(AnyClientFrame)[0])
    assert set(asyncapi.CLIENT_MODELS.values()) == set(client_models)
    assert set(asyncapi.CLIENT_MODELS) == CLIENT_FRAME_TYPES
    messages = document["components"]["messages"]
    for frame_type, model in asyncapi.CLIENT_MODELS.items():
        assert model.model_fields["type"].annotation.__args__ == (frame_type,)
        assert messages[f"client.{frame_type}"]["name"] == frame_type
        assert model.__name__ in document["components"]["schemas"]
        for channel in _generation_channels(document).values():
            assert f"client.{frame_type}" in channel["messages"]


def test_every_server_frame_is_a_message_of_every_channel(document):
    union = get_args(get_args(server_frames.AnyServerFrame)[0])
    assert set(union) == set(server_frames.SERVER_FRAME_MODELS)
    assert len(SERVER_FRAME_TYPES) == len(server_frames.SERVER_FRAME_MODELS) == 16
    messages = document["components"]["messages"]
    for frame_type, model in server_frames.SERVER_FRAMES.items():
        message = messages[f"server.{frame_type}"]
        assert message["name"] == frame_type
        assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        for channel in _generation_channels(document).values():
            assert f"server.{frame_type}" in channel["messages"]


def test_each_channel_carries_its_kind_context_and_result(document):
    schemas = document["components"]["schemas"]
    for kind, channel in _generation_channels(document).items():
        message = _resolve(document, channel["messages"]["client.message"]["$ref"])
        complete = _resolve(document, channel["messages"]["server.complete"]["$ref"])
        context = _resolve(document, message["payload"]["$ref"])["properties"]["context"]
        assert {"$ref": f"#/components/schemas/{KINDS[kind].context_model.__name__}"} in (
            context["anyOf"]
        )
        data = _resolve(document, complete["payload"]["$ref"])["properties"]["data"]
        assert data["$ref"] == f"#/components/schemas/{KINDS[kind].result_model.__name__}"
        assert schemas[KINDS[kind].result_model.__name__]["type"] == "object"


def test_every_events_client_frame_is_a_message_of_the_events_channel(document):
    models = events_client_models()
    assert (
        set(models)
        == events_frame_types()
        == {
            "auth",
            "ping",
            "subscribe",
            "unsubscribe",
            "mark_read",
            "progress",
            "confusion",
            "resolve_confusion",
            "ask_question",
            "answer_question",
        }
    )
    assert [a.frame for a in registry.client_actions()] == list(models.values())[2:]
    channel = document["channels"]["events"]
    for frame_type, model in models.items():
        message = _resolve(document, channel["messages"][f"client.{frame_type}"]["$ref"])
        assert message["name"] == frame_type
        assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert document["components"]["schemas"][model.__name__]["properties"]["type"]["const"] == (
            frame_type
        )
        assert f"events.{frame_type}" in document["operations"]


def test_every_realtime_server_frame_is_a_message_of_the_events_channel(document):
    own = events_frames.events_server_frames()
    assert set(own) == {"subscribed", "unsubscribed", "event", "ack"}
    channel = document["channels"]["events"]
    shared = {"auth_success", "auth_error", "error", "pong"}
    frames = {**own, **{name: server_frames.SERVER_FRAMES[name] for name in shared}}
    for frame_type, model in frames.items():
        message = _resolve(document, channel["messages"][f"server.{frame_type}"]["$ref"])
        assert message["name"] == frame_type
        assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
    # The AI endpoints' other frames are not the events endpoint's.
    servers = {k.split(".")[1] for k in channel["messages"] if k.startswith("server.")}
    assert servers == set(frames)
    # Each declared (event, action) is an `event` message whose payload is its model.
    schemas = document["components"]["schemas"]
    for kind in registry.event_kinds():
        key = f"server.event.{kind.event}.{kind.action}"
        message = _resolve(document, channel["messages"][key]["$ref"])
        assert message["name"] == "event"
        schema = _resolve(document, message["payload"]["$ref"])
        assert schema["properties"]["event"]["const"] == kind.event
        assert schema["properties"]["action"]["const"] == kind.action
        assert schema["properties"]["payload"] == {
            "$ref": f"#/components/schemas/{kind.payload.__name__}"
        }
        assert kind.payload.__name__ in schemas
    for part in ("UserSnapshot", "CourseSnapshot", "LessonSnapshot", "InstructorSnapshot"):
        assert part in schemas


def test_the_acknowledged_actions_and_snapshots_are_the_declared_ones(document):
    """`ack`'s `of` lists every action answered `ack`; each room kind has its snapshot."""
    schemas = document["components"]["schemas"]
    acked = [a.type for a in registry.client_actions() if a.reply == "ack"]
    assert schemas["AckFrame"]["properties"]["of"]["enum"] == acked
    assert acked == [
        "mark_read",
        "progress",
        "confusion",
        "resolve_confusion",
        "ask_question",
        "answer_question",
    ]
    snapshot = schemas["SubscribedFrame"]["properties"]["snapshot"]["anyOf"]
    names = [model.__name__ for model in events_frames.snapshot_models().values()]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in snapshot] == names
    assert list(schemas["UserSnapshot"]["required"]) == [
        "notifications",
        "unread_count",
        "generations",
        "progress",
        "confusions",
    ]


def test_events_channel_describes_rooms_seq_and_forbidden(document):
    description = document["channels"]["events"]["description"]
    for room in ("user:{id}", "course:{id}", "lesson:{id}", "instructor:{id}"):
        assert f"| `{room}` |" in description
    assert "seq == last + 1" in description and "seq <= last" in description
    assert "seq > last + 1" in description and "`forbidden`" in description
    assert "forbidden" in errors.error_codes()


def test_every_reference_resolves_and_every_channel_message_is_used(document):
    refs = list(_refs(document))
    assert refs
    for ref in refs:
        _resolve(document, ref)
    for name, channel in document["channels"].items():
        used = {
            ref.rsplit("/", 1)[1]
            for op in document["operations"].values()
            if op["channel"]["$ref"] == f"#/channels/{name}"
            for ref in _refs({"m": op["messages"], "r": op.get("reply", {})})
            if ref.startswith(f"#/channels/{name}/messages/")
        }
        assert used == set(channel["messages"]), name
        for op in document["operations"].values():
            assert op["action"] in ("send", "receive")


def test_close_codes_are_documented(document):
    codes = [v for v in vars(CloseCode).values() if isinstance(v, int)]
    assert sorted(codes) == [4401, 4408, 4429]
    for code in codes:
        assert f"| {code} |" in document["info"]["description"]
        assert str(code) in document["info"]["x-close-codes"]


def test_document_is_asyncapi_3(document):
    assert document["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= set(document["info"])
    key = re.compile(r"^[\w\d.\-_]+$")
    for section in ("schemas", "messages", "correlationIds"):
        assert all(key.match(name) for name in document["components"][section])
    assert all(key.match(name) for name in document["operations"])


# --- 3. error codes and other literals -------------------------------------------------------


def _protocol_error_codes() -> set[str]:
    found, todo = {errors.ProtocolError.code}, [errors.ProtocolError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.code)
            todo.append(sub)
    return found


def test_error_codes_match_the_exceptions(document):
    codes = _protocol_error_codes()
    assert set(errors.error_codes()) == codes
    assert set(document["components"]["schemas"]["ErrorFrame"]["properties"]["code"]["enum"]) == (
        codes
    )


def test_auth_error_codes_match_the_code_that_raises_them(document):
    root = Path(__file__).resolve().parent.parent
    source = "".join(
        (root / path).read_text()
        for path in ("accounts/firebase.py", "accounts/users.py", "sockets/consumer.py")
    )
    raised = set(re.findall(r'AuthFailed\(\s*"(\w+)"', source))
    assert raised == set(errors.AUTH_ERROR_CODES)
    enum = document["components"]["schemas"]["AuthErrorFrame"]["properties"]["code"]["enum"]
    assert set(enum) == raised


def test_literals_match_their_sources():
    assert get_args(server_frames.KindName) == kind_names() and set(KINDS) == set(kind_names())
    assert get_args(server_frames.ObjectType) == object_types()
    assert set(object_types()) == {t for kind in KINDS.values() for t in kind.object_types}
    assert set(get_args(server_frames.MessageRole)) == set(AIMessage.Role.values)
    assert set(get_args(server_frames.MessageStatus)) == set(AIMessage.Status.values)


# --- 4. what the consumer really sends ---------------------------------------------------------


class Socket:
    """A client of one endpoint that validates every frame it receives."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.frames: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send_to(text_data=json.dumps(frame, default=str))

    async def recv(self) -> dict[str, Any]:
        text = await self.ws.receive_from(timeout=5)
        server_frame_adapter.validate_json(text)  # raises on any drift from the models
        frame = json.loads(text)
        self.frames.append(frame)
        return frame

    async def until(self, *types: str) -> list[dict[str, Any]]:
        frames = []
        async with asyncio.timeout(10):
            while True:
                frames.append(await self.recv())
                if frames[-1]["type"] in types:
                    return frames

    async def closed_with(self) -> int:
        output = await self.ws.receive_output(timeout=5)
        assert output["type"] == "websocket.close", output
        return output["code"]


@pytest.fixture
async def sockets(settings):
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 2
    settings.OFFLINE_CHUNK_SIZE = 40
    opened: list[Socket] = []

    async def open_socket(kind: str = "course", user=None) -> Socket:
        ws = WebsocketCommunicator(application, PATHS[kind], headers=ORIGIN)
        if user is not None:
            ws.scope["user"] = user
        connected, _ = await ws.connect()
        assert connected
        socket = Socket(ws)
        opened.append(socket)
        if user is not None:
            assert (await socket.recv())["type"] == "auth_success"
        return socket

    yield open_socket
    for socket in opened:
        with contextlib.suppress(Exception):  # some were closed by the server
            await socket.ws.disconnect()
    await shutdown_runtime()  # before the database is flushed


@pytest.mark.django_db(transaction=True)
async def test_every_server_frame_the_consumer_sends_validates(
    sockets, user, settings, monkeypatch
):
    course = await sockets("course", user)
    await course.send(type="ping", request_id="p")
    assert (await course.recv()) == {"type": "pong", "request_id": "p"}

    # Refused frames: each answered with an `error`, the connection stays open.
    await course.send(type="nope")
    await course.ws.send_to(bytes_data=b"\x00")
    await course.ws.send_to(text_data="not json")
    await course.send(type="message")  # no content: details name the field
    await course.send(type="message", content="x" * (settings.MAX_MESSAGE_LENGTH + 1))
    await course.send(type="message", content="Java", context={"level": "expert"})
    await course.send(type="cancel", conversation_id=uuid.uuid4())
    codes = [(await course.recv())["code"] for _ in range(7)]
    assert codes == [
        "unknown_type",
        "invalid_frame",
        "invalid_frame",
        "invalid_message",
        "message_too_long",
        "invalid_message",
        "not_found",
    ]
    assert all(f.get("details") for f in course.frames[-7:] if f["code"] == "invalid_message")

    # A whole generation, then save (twice), history, resume and a refinement.
    await course.send(
        type="message", content="Intro to Java", context={"age_range": "8-12"}, request_id="g"
    )
    frames = await course.until("complete", "error")
    assert [f["type"] for f in frames[:2]] == ["conversation", "started"]
    assert frames[-1]["type"] == "complete" and all(f["request_id"] == "g" for f in frames)
    assert any("partial" in f for f in frames if f["type"] == "streaming")
    _, course_complete = asyncapi.kind_models("course")
    course_complete.model_validate(frames[-1])
    cid, mid = frames[-1]["conversation_id"], frames[-1]["message_id"]

    await course.send(type="save", conversation_id=cid, request_id="s")
    await course.send(type="save", conversation_id=cid, message_id=mid)
    saved = [await course.recv(), await course.recv()]
    assert [(f["type"], f["created"]) for f in saved] == [("saved", True), ("saved", False)]
    assert saved[0]["objects"] == saved[1]["objects"] and saved[0]["objects"]

    await course.send(type="history", conversation_id=cid, limit=10)
    history = await course.recv()
    assert history["type"] == "history" and len(history["messages"]) == 2

    await course.send(type="resume", conversation_id=cid, after_index=0)
    assert (await course.until("complete"))[-1]["message_id"] == mid

    await course.send(type="refinement", conversation_id=cid, content="Shorter")
    frames = await course.until("complete", "error")
    assert frames[0]["type"] == "conversation" and frames[0]["created"] is False
    assert frames[-1]["type"] == "complete"

    # A cancelled generation (slowed down, so that the cancel surely finds it running).
    monkeypatch.setattr((await generation_service()).agent, "chunk_delay", 0.05)
    await course.send(type="message", content="Intro to Python", request_id="c")
    frames = await course.until("streaming")
    await course.send(type="cancel", conversation_id=frames[-1]["conversation_id"])
    assert (await course.until("cancelled", "complete"))[-1]["type"] == "cancelled"
    monkeypatch.setattr((await generation_service()).agent, "chunk_delay", 0)

    # A generation whose output never validates ends with an `error` naming its conversation.
    monkeypatch.setattr(CourseKind, "placeholder", lambda self, **_: {"title": "bad"})
    await course.send(type="message", content="Intro to Go")
    failed = (await course.until("error", "complete"))[-1]
    assert failed["code"] == "ai_invalid_output" and failed["conversation_id"]

    # Frames rebuilt from the database (resume after the stream log is gone).
    ended = await database_sync_to_async(
        lambda: [
            str(pk)
            for pk in AIMessage.objects.filter(role="assistant").values_list("pk", flat=True)
        ]
    )()
    for message_id in ended:
        for frame in await database_sync_to_async(replay_frames)(message_id):
            server_frame_adapter.validate_json(frame.wire())

    # Authentication failures close the connection.
    anonymous = await sockets("course")
    await anonymous.send(type="history", conversation_id=cid, request_id="h")
    assert (await anonymous.recv())["code"] == "auth_required"
    assert await anonymous.closed_with() == CloseCode.UNAUTHORIZED
    settings.AUTH_TIMEOUT_SECONDS = 0.2
    slow = await sockets("course")
    assert (await slow.recv())["code"] == "auth_timeout"
    assert await slow.closed_with() == CloseCode.AUTH_TIMEOUT

    # The tutor chat: typing state around an answer, and feedback on it.
    chat = await sockets("chat", user)
    await chat.send(type="message", content="What is a loop?")
    answer = (await chat.until("complete"))[-1]
    await chat.send(type="feedback", message_id=answer["message_id"], rating=4)
    assert (await chat.recv())["type"] == "feedback_saved"
    # My conversations: listed, then archived.
    await chat.send(type="conversations")
    assert (await chat.recv())["items"][0]["id"] == answer["conversation_id"]
    await chat.send(
        type="update_conversation", conversation_id=answer["conversation_id"], archived=True
    )
    assert (await chat.recv())["conversation"]["status"] == "archived"

    seen = {f["type"] for s in (course, anonymous, slow, chat) for f in s.frames}
    assert seen == SERVER_FRAME_TYPES


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", SAVEABLE_KINDS)
async def test_each_kind_completes_and_saves_within_its_schemas(
    kind, sockets, user, course, lesson, assignment
):
    contexts = await database_sync_to_async(example_contexts)(user)
    message_model, complete_model = asyncapi.kind_models(kind)
    frame = {"type": "message", "content": f"A {kind}", "context": contexts[kind]}
    message_model.model_validate(frame)

    socket = await sockets(kind, user)
    await socket.send(**frame)
    frames = await socket.until("complete", "error")
    assert frames[-1]["type"] == "complete", frames[-1]
    complete = complete_model.model_validate(frames[-1])
    result = KINDS[kind].result_model
    assert frames[-1]["data"] == result.model_validate(frames[-1]["data"]).model_dump(mode="json")
    assert complete.data is not None

    await socket.send(type="save", conversation_id=frames[-1]["conversation_id"])
    saved = await socket.recv()
    assert saved["type"] == "saved" and saved["created"] is True and saved["objects"]


# --- helpers -----------------------------------------------------------------------------------


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"dangling reference {ref}"
        node = node[part]
    return node
