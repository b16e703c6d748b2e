"""Frame parsing and validation (PROTOCOL.md, "Frames", "Client frames", "Error codes").

Every refusal is an `error` frame and the connection stays open: each test ends by checking
that a `ping` is still answered.
"""

import json
import uuid

import pytest

from tests.consumers.conftest import streaming

pytestmark = pytest.mark.django_db(transaction=True)

CID = str(uuid.uuid4())


@pytest.fixture
async def client(connect, user):
    return await connect("course", user)


def assert_error(frame, code, *, retryable=False):
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert frame["retryable"] is retryable
    assert isinstance(frame["message"], str) and frame["message"]


def fields_of(frame):
    return sorted(d["field"] for d in frame.get("details", []))


async def test_binary_frame_is_invalid_frame(client):
    """A binary frame is answered `invalid_frame`."""
    await client.send_bytes(b'{"type": "ping"}')
    assert_error(await client.recv(), "invalid_frame")
    await client.assert_open()


@pytest.mark.parametrize(
    "text", ["not json", "{", '{"type": "ping",}', "{'type': 'ping'}", "", " ", "\x00"]
)
async def test_text_that_is_not_json_is_invalid_frame(client, text):
    """A text frame that does not parse as JSON is answered `invalid_frame`."""
    await client.send_text(text)
    assert_error(await client.recv(), "invalid_frame")
    await client.assert_open()


@pytest.mark.parametrize("value", [[], [{"type": "ping"}], "ping", 7, 1.5, None, True])
async def test_json_that_is_not_an_object_is_invalid_frame(client, value):
    """A JSON array, string, number, null or boolean is answered `invalid_frame`."""
    await client.send_text(json.dumps(value))
    assert_error(await client.recv(), "invalid_frame")
    await client.assert_open()


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "ping", "x": NaN}',
        '{"type": "ping", "x": Infinity}',
        '{"type": "ping", "x": -Infinity}',
        '{"type": "ping", "x": ' + "1" * 5000 + "}",
        "[" * 20000 + "]" * 20000,
        '{"type": "ping", "x": ' + "[" * 20000 + "]" * 20000 + "}",
    ],
    ids=["nan", "infinity", "-infinity", "5000-digit-int", "deep-array", "deep-in-object"],
)
async def test_json_the_service_refuses_to_parse_is_invalid_frame(client, text):
    """NaN and Infinity literals, 5,000-digit integers and very deep nesting: `invalid_frame`."""
    await client.send_text(text)
    assert_error(await client.recv(), "invalid_frame")
    await client.assert_open()


@pytest.mark.parametrize("frame", [{}, {"request_id": "r"}, {"type": None}, {"kind": "ping"}])
async def test_missing_type_is_unknown_type(client, frame):
    """An object without a `type` is answered `unknown_type`."""
    await client.send(**frame)
    assert_error(await client.recv(), "unknown_type")
    await client.assert_open()


@pytest.mark.parametrize(
    "type_", ["pingg", "PING", "subscribe", "__init__", "_dispatch", "", 5, [], ["ping"], {}]
)
async def test_unknown_type_is_unknown_type(client, type_):
    """A `type` that is not a client frame (any JSON value) is answered `unknown_type`."""
    await client.send(type=type_, request_id="u1")
    answer = await client.recv()
    assert_error(answer, "unknown_type")
    assert answer["request_id"] == "u1"
    await client.assert_open()


async def test_unknown_field_is_invalid_message_naming_it(client):
    """An unknown field is answered `invalid_message` whose details name it."""
    answer = await client.error(type="ping", colour="blue", request_id="f1")
    assert_error(answer, "invalid_message")
    assert fields_of(answer) == ["colour"]
    assert answer["request_id"] == "f1"
    await client.assert_open()


@pytest.mark.parametrize(
    ("frame", "fields"),
    [
        ({"type": "message"}, ["content"]),
        ({"type": "message", "content": 5}, ["content"]),
        ({"type": "message", "content": ""}, ["content"]),
        ({"type": "message", "content": "x", "conversation_id": "nope"}, ["conversation_id"]),
        ({"type": "message", "content": "x", "context": []}, ["context"]),
        ({"type": "refinement", "content": "x"}, ["conversation_id"]),
        ({"type": "save", "conversation_id": CID, "message_id": 3}, ["message_id"]),
        ({"type": "cancel"}, ["conversation_id"]),
        ({"type": "resume", "conversation_id": CID, "after_index": -2}, ["after_index"]),
        ({"type": "resume", "conversation_id": CID, "after_index": "one"}, ["after_index"]),
        ({"type": "resume", "conversation_id": CID, "after_index": 10**9}, ["after_index"]),
        ({"type": "history", "conversation_id": CID, "limit": 0}, ["limit"]),
        ({"type": "history", "conversation_id": CID, "limit": 101}, ["limit"]),
        ({"type": "history", "conversation_id": CID, "limit": 1.5}, ["limit"]),
        ({"type": "history", "conversation_id": CID, "before": "x"}, ["before"]),
        ({"type": "auth"}, ["token"]),
        ({"type": "auth", "token": ""}, ["token"]),
        ({"type": "ping", "request_id": 7}, ["request_id"]),
        ({"type": "ping", "request_id": "r" * 65}, ["request_id"]),
        (
            {"type": "history", "conversation_id": "x", "limit": 0, "extra": 1},
            ["conversation_id", "extra", "limit"],
        ),
    ],
)
async def test_invalid_fields_are_invalid_message_naming_each_field(client, frame, fields):
    """Missing, wrongly typed, out-of-range and unknown fields: `invalid_message`, each named."""
    answer = await client.error(**frame)
    assert_error(answer, "invalid_message")
    assert fields_of(answer) == fields
    assert all(isinstance(d["message"], str) and d["message"] for d in answer["details"])
    await client.assert_open()


async def test_content_over_max_message_length_is_message_too_long(client, settings):
    """`content` longer than MAX_MESSAGE_LENGTH is answered `message_too_long`."""
    settings.MAX_MESSAGE_LENGTH = 50
    answer = await client.error(type="message", content="x" * 51, request_id="long")
    assert_error(answer, "message_too_long")
    assert answer["request_id"] == "long"
    answer = await client.error(
        type="refinement", conversation_id=CID, content="x" * 51, request_id="long2"
    )
    assert_error(answer, "message_too_long")
    await client.assert_open()


async def test_content_of_exactly_max_message_length_is_accepted(client, settings):
    """`content` of exactly MAX_MESSAGE_LENGTH characters starts a generation."""
    settings.MAX_MESSAGE_LENGTH = 50
    frames = await client.generate("x" * 50)
    assert frames[-1]["type"] == "complete", frames[-1]


async def test_text_frame_over_64_kib_is_message_too_large(client):
    """A text frame over 64 KiB is answered `message_too_large`."""
    frame = json.dumps({"type": "ping", "pad": "x" * 65536})
    await client.send_text(frame)
    assert_error(await client.recv(), "message_too_large")
    await client.assert_open()


async def test_frame_over_64_kib_in_utf8_bytes_is_message_too_large(client):
    """The limit is on UTF-8 bytes: 33,000 two-byte characters are over it."""
    frame = json.dumps({"type": "ping", "pad": "é" * 33000}, ensure_ascii=False)
    assert len(frame) < 65536 < len(frame.encode())
    await client.send_text(frame)
    assert_error(await client.recv(), "message_too_large")
    await client.assert_open()


async def test_frame_of_exactly_64_kib_is_parsed(client):
    """A frame of exactly 65,536 bytes is within the limit (and here refused for its field)."""
    head = '{"type": "ping", "pad": "'
    frame = head + "x" * (65536 - len(head) - 2) + '"}'
    assert len(frame.encode()) == 65536
    await client.send_text(frame)
    answer = await client.recv()
    assert_error(answer, "invalid_message")
    assert fields_of(answer) == ["pad"]


async def test_request_id_is_echoed_on_every_answering_frame(client):
    """`request_id` comes back on pong, errors and every frame of a generation, streaming too."""
    assert await client.request(type="ping", request_id="p") == {"type": "pong", "request_id": "p"}
    error = await client.error(type="cancel", conversation_id=CID, request_id="c")
    assert error["request_id"] == "c"
    frames = await client.generate(request_id="g")
    assert len(streaming(frames)) > 1
    assert all(f["request_id"] == "g" for f in frames)
    cid = frames[0]["conversation_id"]
    history = await client.request(type="history", conversation_id=cid, request_id="h")
    assert (history["type"], history["request_id"]) == ("history", "h")
    saved = await client.request(type="save", conversation_id=cid, request_id="s")
    assert (saved["type"], saved["request_id"]) == ("saved", "s")
    await client.send(type="resume", conversation_id=cid, request_id="r")
    replay = await client.until("complete")
    assert all(f["request_id"] == "r" for f in replay)


async def test_frames_without_request_id_are_answered_without_one(client):
    """A frame without `request_id` gets answers without the key."""
    assert await client.request(type="ping") == {"type": "pong"}
    frames = await client.generate()
    assert all("request_id" not in f for f in frames)


async def test_many_errors_in_a_row_leave_the_connection_open(client):
    """A run of refused frames of every kind does not close or stall the connection."""
    for text in ["x", "[]", "{}", '{"type": "nope"}', '{"type": "ping", "a": 1}']:
        await client.send_text(text)
    await client.send_bytes(b"\x00\x01")
    codes = [(await client.recv())["code"] for _ in range(6)]
    assert codes == [
        "invalid_frame",
        "invalid_frame",
        "unknown_type",
        "unknown_type",
        "invalid_message",
        "invalid_frame",
    ]
    await client.assert_open()
    frames = await client.generate()
    assert frames[-1]["type"] == "complete"


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "ping", "request_id": "a\\ud800b"}',
        '{"type": "ping", "request_id": "s", "pad": "\\udfff"}',
        '{"type": "message", "request_id": "s", "content": "Java \\ud83d"}',
        '{"type": "ping", "request_id": "s", "\\udc00": 1}',
    ],
    ids=["request_id", "unknown-field", "content", "key"],
)
async def test_unpaired_surrogate_escape_is_invalid_frame(client, text):
    """A `\\ud800` escape with no pair cannot be UTF-8: `invalid_frame`, nothing echoed."""
    await client.send_text(text)
    output = await client.ws.receive_output(5)
    output["text"].encode("utf-8")  # what goes on the wire must be UTF-8
    answer = json.loads(output["text"])
    assert_error(answer, "invalid_frame")
    assert "request_id" not in answer
    await client.assert_open()


async def test_paired_surrogate_escape_is_an_ordinary_character(client):
    """An escaped surrogate pair is one character (here an emoji) and is echoed as UTF-8."""
    await client.send_text('{"type": "ping", "request_id": "\\ud83d\\ude00"}')
    output = await client.ws.receive_output(5)
    assert json.loads(output["text"]) == {"type": "pong", "request_id": "\U0001f600"}
    output["text"].encode("utf-8")


@pytest.mark.parametrize("value", ["1", 2.0, True, " 3 "])
async def test_a_number_field_refuses_values_that_only_look_like_numbers(connect, user, value):
    """Strict frames: "1", 2.0, true or " 3 " for an integer field is invalid_message."""
    client = await connect("course", user)
    await client.send(type="history", conversation_id=str(uuid.uuid4()), limit=value)
    frame = await client.recv()
    assert frame["code"] == "invalid_message" and frame["details"][0]["field"] == "limit"
    await client.close()
