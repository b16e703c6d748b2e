"""Decoding client frames: what every endpoint refuses before any handler sees it."""

import json

import pytest

from sockets.errors import InvalidFrame, InvalidMessage, MessageTooLarge
from sockets.frames import MAX_FRAME_BYTES, decode_text_frame, refuse_unstorable


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "message", "content": "a\x00b"}, "content"),
        ({"type": "message", "content": "x", "context": {"level": "\x00"}}, "context.level"),
        ({"type": "confusion", "lesson_id": 1, "note": ["ok", "n\x00"]}, "note.1"),
        ({"type": "progress", "position": {"a\x00": 1}}, "position.'a\\x00'"),
    ],
)
def test_text_no_database_can_store_is_an_invalid_message_naming_its_field(frame, field):
    """U+0000 anywhere (values or keys) is refused at the boundary: `invalid_message`, not a
    retryable `internal_error` when PostgreSQL refuses the insert."""
    with pytest.raises(InvalidMessage) as refused:
        refuse_unstorable(decode_text_frame(json.dumps(frame)))
    assert refused.value.details == [{"field": field, "message": "U+0000 (NUL) is not allowed."}]


def test_a_request_id_with_nul_is_only_echoed():
    """`request_id` is never stored: it may hold anything, and the answer carries it back."""
    raw = decode_text_frame(json.dumps({"type": "ping", "request_id": "a\x00"}))
    refuse_unstorable(raw)
    assert raw["request_id"] == "a\x00"


def test_ordinary_escapes_pass():
    frame = {"type": "message", "content": "caf\u00e9 \u2603 tab\t"}
    assert decode_text_frame(json.dumps(frame)) == frame


def test_bounded_failures():
    with pytest.raises(MessageTooLarge):
        decode_text_frame(json.dumps({"type": "message", "content": "x" * MAX_FRAME_BYTES}))
    with pytest.raises(InvalidFrame):
        decode_text_frame('{"a": "\\ud800"}')
    with pytest.raises(InvalidFrame):
        decode_text_frame("[" * 5000 + "]" * 5000)


def test_an_error_frame_keeps_its_details_bounded():
    """A hostile list of 30,000 bad items must not become a frame larger than the transport
    allows: at most 20 details, the last one counting the rest."""
    error = InvalidMessage(
        details=[{"field": f"items.{i}", "message": "bad"} for i in range(30_000)]
    )
    wire = error.to_frame().wire()
    assert len(wire) < 4096
    details = json.loads(wire)["details"]
    assert len(details) == 20 and "29981 more" in details[-1]["message"]
