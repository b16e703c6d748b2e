"""Property-based fuzz of the frame parser and dispatcher over one signed-in connection.

Hypothesis draws lists of wire frames (random JSON, objects with random keys, frames of every
client type with wrong field types, huge strings, very deep nesting, 5,000-digit integers,
NaN and Infinity literals, unpaired surrogate escapes, binary and empty frames). Each frame must
get exactly one answer that is a protocol `error` other than internal_error, or a legitimate
answer (pong, history, saved, a replay ending in its final frame); every answer must be valid
UTF-8 JSON and carry the frame's `request_id` when it had a usable one; and the connection must
still answer `ping` afterwards. Frames that would start a generation or re-authenticate are
kept invalid so the run stays fast. The examples are derandomised: the run is reproducible.
"""

import asyncio
import json
import logging
import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ai_chat.protocol import client_frame_adapter
from sockets.frames import MAX_FRAME_BYTES, MAX_REQUEST_ID
from tests.consumers.conftest import open_client, shutdown_runtime

pytestmark = pytest.mark.django_db(transaction=True)

# FUZZ_EXAMPLES=100 gives the 10,000-frame run (README, "Tests").
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "55"))
FRAMES_PER_EXAMPLE = 100
PROTOCOL_CODES = {
    "invalid_frame",
    "unknown_type",
    "invalid_message",
    "message_too_long",
    "message_too_large",
    "not_found",
    "busy",
    "rate_limited",
    "quota_exceeded",
    "token_expired",
    "nothing_to_refine",
    "nothing_to_save",
    "not_running",
    "ai_unavailable",
    "ai_invalid_output",
}
ANSWERS = {"error", "pong", "history", "saved", "complete", "cancelled", "auth_success"}
CLIENT_TYPES = ["auth", "message", "refinement", "save", "cancel", "resume", "history", "ping"]
FIELDS = [
    "type",
    "request_id",
    "token",
    "content",
    "conversation_id",
    "message_id",
    "context",
    "after_index",
    "before",
    "limit",
]
# Ids of a real conversation of the signed-in user, set before the run.
REAL: dict[str, str] = {}

utf8_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | utf8_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(utf8_text, children, max_size=5)
    ),
    max_leaves=12,
)
ids = st.sampled_from(["conversation", "message"]).map(lambda k: REAL[k]) | st.builds(
    lambda: str(uuid.uuid4())
)
field_values = ids | json_values | st.integers(-3, 120)


def _keep_invalid(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame that would start a generation or re-authenticate gets an unknown field."""
    if frame.get("type") in ("message", "refinement", "auth"):
        try:
            client_frame_adapter.validate_python(frame)
        except Exception:
            return frame
        return {**frame, "fuzz": True}
    return frame


typed_objects = st.builds(
    lambda type_, fields: _keep_invalid({"type": type_, **fields}),
    st.sampled_from(CLIENT_TYPES) | json_values,
    st.dictionaries(st.sampled_from(FIELDS[1:]) | utf8_text, field_values, max_size=6),
)
rid_field = {"request_id": utf8_text}
well_formed = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("save"), "conversation_id": ids},
        optional={"message_id": ids, **rid_field},
    ),
    st.fixed_dictionaries({"type": st.just("cancel"), "conversation_id": ids}, optional=rid_field),
    st.fixed_dictionaries(
        {"type": st.just("resume"), "conversation_id": ids},
        optional={"message_id": ids, "after_index": st.integers(-1, 50), **rid_field},
    ),
    st.fixed_dictionaries(
        {"type": st.just("history"), "conversation_id": ids},
        optional={"before": ids, "limit": st.integers(1, 100), **rid_field},
    ),
)
pings = st.builds(
    lambda rid: {"type": "ping", "request_id": rid},
    st.text(alphabet=st.characters(codec="utf-8"), max_size=70) | json_values,
)


def text(strategy: Any) -> Any:
    return strategy.map(lambda value: ("text", json.dumps(value)))


def raw(strategy: Any) -> Any:
    return strategy.map(lambda value: ("text", value))


huge_strings = st.builds(
    lambda char, size, as_json: (
        json.dumps({"type": "ping", "pad": char * size}, ensure_ascii=False)
        if as_json
        else char * size
    ),
    st.characters(codec="utf-8"),
    st.integers(1000, 70_000),
    st.booleans(),
)
deep_nesting = st.builds(
    lambda depth, shape: {
        "open": "[" * depth,
        "closed": "[" * depth + "]" * depth,
        "object": '{"a":' * depth + "1" + "}" * depth,
        "in_frame": '{"type": "ping", "x": ' + "[" * depth + "]" * depth + "}",
    }[shape],
    st.integers(1, 100_000),
    st.sampled_from(["open", "closed", "object", "in_frame"]),
)
big_integers = st.builds(
    lambda digits, field: (
        '{"type": "history", "conversation_id": "'
        + str(uuid.uuid4())
        + f'", "{field}": '
        + "7" * digits
        + "}"
    ),
    st.integers(1000, 6000),
    st.sampled_from(["limit", "after_index", "request_id"]),
)
constants = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "[NaN]",
        '{"type": "ping", "x": NaN}',
        '{"type": "history", "conversation_id": "x", "limit": Infinity}',
        '{"type": "history", "limit": 1e400}',
        '{"type": "resume", "after_index": -1e400}',
        "1e400",
    ]
)
surrogates = st.builds(
    lambda field, code: '{"type": "ping", "' + field + '": "\\u' + f"{code:04x}" + '"}',
    st.sampled_from(["request_id", "pad"]),
    st.integers(0xD800, 0xDFFF),
)
frame_strategy = st.one_of(
    text(json_values),
    text(st.dictionaries(utf8_text, json_values, max_size=6)),
    text(typed_objects),
    text(typed_objects),
    text(well_formed),
    text(pings),
    text(st.lists(json_values, max_size=6)),
    raw(huge_strings),
    raw(deep_nesting),
    raw(big_integers),
    raw(constants),
    raw(surrogates),
    raw(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)),
    raw(st.just("")),
    st.binary(max_size=100).map(lambda data: ("bytes", data)),
)


def expected_request_id(kind: str, payload: Any) -> str | None:
    """The `request_id` an answer must carry: the frame's, if it is usable at all."""
    if kind != "text" or len(payload.encode("utf-8")) > MAX_FRAME_BYTES:
        return None
    try:
        frame = json.loads(payload, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return None
    if not isinstance(frame, dict):
        return None
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate escape: refused before anything is read
        return None
    rid = frame.get("request_id")
    return rid if isinstance(rid, str) and len(rid) <= MAX_REQUEST_ID else None


def _refuse(name: str) -> None:
    raise ValueError(name)


async def answer_to(client: Any, kind: str, payload: Any) -> dict[str, Any]:
    """Send one frame and return its one answer (after any replayed `streaming` frames)."""
    if kind == "bytes":
        await client.send_bytes(payload)
    else:
        await client.send_text(payload)
    while True:
        output = await client.ws.receive_output(5)
        assert output["type"] == "websocket.send", (output, payload[:200])
        text_out = output["text"]
        text_out.encode("utf-8")  # a real server must be able to put it on the wire
        frame = json.loads(text_out)
        if frame["type"] != "streaming":
            return frame


async def exchange(client: Any, frames: list[tuple[str, Any]], tally: dict[str, int]) -> None:
    for kind, payload in frames:
        answer = await answer_to(client, kind, payload)
        shown = payload[:200] if isinstance(payload, str | bytes) else payload
        assert answer["type"] in ANSWERS, (answer, shown)
        if answer["type"] == "error":
            assert answer["code"] in PROTOCOL_CODES, (answer, shown)
            assert isinstance(answer["message"], str) and isinstance(answer["retryable"], bool)
        assert answer.get("request_id") == expected_request_id(kind, payload), (answer, shown)
        tally[answer.get("code", answer["type"])] = (
            tally.get(answer.get("code", answer["type"]), 0) + 1
        )
    assert await client.request(type="ping", request_id="alive") == {
        "type": "pong",
        "request_id": "alive",
    }


@pytest.mark.timeout(1800)  # 10,000 frames (FUZZ_EXAMPLES=100) take minutes on a loaded machine
def test_fuzzed_frames_are_answered_and_the_connection_stays_open(user, settings, caplog):
    """Over 5,000 hostile frames each get a protocol answer; `ping` is answered after each batch."""
    settings.RATE_LIMIT_MESSAGES_PER_MINUTE = 1000
    loop = asyncio.new_event_loop()
    tally: dict[str, int] = {}
    client = None
    try:
        client = loop.run_until_complete(open_client("course", user))
        frames = loop.run_until_complete(client.generate("Intro to Java"))
        REAL.update(conversation=frames[0]["conversation_id"], message=frames[1]["message_id"])

        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(frame_strategy, min_size=FRAMES_PER_EXAMPLE, max_size=FRAMES_PER_EXAMPLE))
        def run(frames: list[tuple[str, Any]]) -> None:
            loop.run_until_complete(exchange(client, frames, tally))

        run()
    finally:
        if client is not None:
            loop.run_until_complete(client.close())
        loop.run_until_complete(shutdown_runtime())
        loop.close()
    total = sum(tally.values())
    assert total >= 5000, tally
    # The run reaches deep into the dispatcher, not only the parser.
    for code in ("invalid_frame", "unknown_type", "invalid_message", "message_too_large"):
        assert tally.get(code), tally
    assert tally.get("not_found") and tally.get("pong"), tally
    # And no traceback in the server's log: every failure was answered, none escaped.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    print(f"fuzz: {total} frames answered: {dict(sorted(tally.items()))}")
