"""`/ws/events/`: signing in like the AI endpoints, and the frame parsing rules.

Tokens are signed by the Firebase fake and verified by firebase-admin itself.
"""

import time
from datetime import datetime, timedelta

import pytest

from sockets import consumer as realtime_auth

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_session_user_is_signed_in_at_accept(events, user):
    """The session path: `auth_success` with the user's profile right after the accept."""
    client = await events(user, expect_auth=False)
    assert await client.recv() == {
        "type": "auth_success",
        "user": {"id": user.pk, "email": "ana@example.com", "display_name": "ana"},
    }


async def test_a_firebase_token_signs_in_and_may_subscribe(events, firebase):
    """An `auth` frame with a valid token answers `auth_success`; then rooms open."""
    client = await events()
    answer = await client.request(type="auth", token=firebase.token(uid="fb-7"), request_id="a")
    assert answer["type"] == "auth_success" and answer["request_id"] == "a"
    subscribed = await client.subscribe(f"user:{answer['user']['id']}")
    assert subscribed["snapshot"]["notifications"] == []


async def test_a_bad_token_is_auth_error_then_close_4401(events, firebase):
    """A token signed with another key: `auth_error` invalid_token, close 4401."""
    client = await events()
    await client.send(type="auth", token=firebase.token(key=firebase.other_key), request_id="x")
    frames, code = await client.closed_with()
    assert [(f["type"], f["code"], f["request_id"]) for f in frames] == [
        ("auth_error", "invalid_token", "x")
    ]
    assert code == 4401


async def test_an_expired_token_is_expired_token_then_close_4401(events, firebase):
    """A token past its expiry: `auth_error` expired_token, close 4401."""
    now = int(time.time())
    client = await events()
    await client.send(type="auth", token=firebase.token(iat=now - 7200, exp=now - 3600))
    frames, code = await client.closed_with()
    assert [f["code"] for f in frames] == ["expired_token"] and code == 4401


@pytest.mark.parametrize(
    "frame", [{"type": "subscribe", "room": "user:1"}, {"type": "ping"}, {"type": "mark_read",
    "notification_ids": [1]}]
)  # fmt: skip
async def test_another_frame_first_is_auth_required_then_close_4401(events, frame):
    """Anything but `auth` before signing in: `auth_error` auth_required, close 4401."""
    client = await events()
    await client.send(**frame, request_id="early")
    frames, code = await client.closed_with()
    assert [(f["type"], f["code"], f["request_id"]) for f in frames] == [
        ("auth_error", "auth_required", "early")
    ]
    assert code == 4401


async def test_silence_is_auth_timeout_then_close_4408(events, settings):
    """No `auth` within AUTH_TIMEOUT_SECONDS: `auth_error` auth_timeout, close 4408."""
    settings.AUTH_TIMEOUT_SECONDS = 0.2
    client = await events()
    frames, code = await client.closed_with()
    assert [f["code"] for f in frames] == ["auth_timeout"] and code == 4408


async def test_a_token_of_another_user_is_refused_on_refresh(events, firebase):
    """Re-authenticating as someone else ends the connection (4401)."""
    client = await events()
    assert (await client.request(type="auth", token=firebase.token(uid="one")))["type"] == (
        "auth_success"
    )
    await client.send(type="auth", token=firebase.token(uid="two", email="two@example.com"))
    frames, code = await client.closed_with()
    assert [f["code"] for f in frames] == ["invalid_token"] and code == 4401


async def test_an_expired_session_token_answers_token_expired_and_stays_open(
    events, firebase, monkeypatch
):
    """Once the token in use expires, requests get `token_expired`; a new `auth` resumes."""
    client = await events()
    answer = await client.request(type="auth", token=firebase.token(uid="fb-1"))
    me = f"user:{answer['user']['id']}"

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=2)

    monkeypatch.setattr(realtime_auth, "datetime", Later)
    assert (await client.error(type="subscribe", room=me))["code"] == "token_expired"
    monkeypatch.setattr(realtime_auth, "datetime", datetime)
    await client.request(type="auth", token=firebase.token(uid="fb-1"))
    await client.subscribe(me)


async def test_ping_is_answered_pong_with_the_request_id(events, user):
    """`ping` gets `pong`, echoing `request_id`."""
    client = await events(user)
    assert await client.request(type="ping", request_id="p1") == {
        "type": "pong",
        "request_id": "p1",
    }


async def test_binary_and_malformed_frames_are_invalid_frame_and_the_socket_stays(events, user):
    """Binary, not JSON, and not an object: `invalid_frame`; the connection stays open."""
    client = await events(user)
    await client.send_bytes(b"\x00\x01")
    assert (await client.recv())["code"] == "invalid_frame"
    for text in ("not json", "[1, 2]", '"subscribe"', "NaN", ""):
        await client.send_text(text)
        assert (await client.recv())["code"] == "invalid_frame", text
    assert (await client.request(type="ping"))["type"] == "pong"


async def test_a_frame_over_64_kib_is_message_too_large(events, user):
    """A text frame over 64 KiB is answered `message_too_large`."""
    client = await events(user)
    await client.send_text('{"type": "ping", "pad": "' + "x" * 70_000 + '"}')
    assert (await client.recv())["code"] == "message_too_large"


async def test_an_unknown_type_is_unknown_type(events, user):
    """A type the endpoint does not take (an AI endpoint's included) is `unknown_type`."""
    client = await events(user)
    for frame in ({"type": "message", "content": "hi"}, {"type": ["ping"]}, {"room": "x"}):
        assert (await client.error(**frame))["code"] == "unknown_type", frame


@pytest.mark.parametrize(
    "frame, fields",
    [
        ({"type": "subscribe"}, ["room"]),
        ({"type": "subscribe", "room": "user:1", "extra": 1}, ["extra"]),
        ({"type": "mark_read", "notification_ids": []}, ["notification_ids"]),
        ({"type": "mark_read", "notification_ids": list(range(1, 102))}, ["notification_ids"]),
        ({"type": "mark_read", "notification_ids": ["1"]}, ["notification_ids.0"]),
        ({"type": "progress", "lesson_id": 1, "percent": 101}, ["percent"]),
        ({"type": "progress", "lesson_id": 1, "percent": -1}, ["percent"]),
        ({"type": "progress", "lesson_id": 0, "percent": 5}, ["lesson_id"]),
        ({"type": "progress", "lesson_id": True, "percent": 5}, ["lesson_id"]),
        ({"type": "progress", "lesson_id": 1, "percent": 5, "position": "x" * 201}, ["position"]),
        ({"type": "progress", "lesson_id": 1, "percent": 5, "position": 1.5}, ["position"]),
        ({"type": "confusion", "lesson_id": 1, "position": False}, ["position"]),
        ({"type": "confusion", "lesson_id": 1, "note": "n" * 1001}, ["note"]),
        ({"type": "resolve_confusion"}, ["confusion_id"]),
        ({"type": "ping", "request_id": "r" * 65}, ["request_id"]),
    ],
)  # fmt: skip
async def test_bad_fields_are_invalid_message_naming_each_field(events, user, frame, fields):
    """Missing, unknown or out-of-range fields: `invalid_message` with `details` per field."""
    client = await events(user)
    error = await client.error(**{"request_id": "bad", **frame})
    assert error["code"] == "invalid_message"
    assert [d["field"] for d in error["details"]] == fields
    assert error.get("request_id") == ("bad" if "request_id" not in frame else None)
