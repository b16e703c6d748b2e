"""Authentication on a generation endpoint (PROTOCOL.md, "Authentication").

Tokens are signed by the Firebase fake and verified by firebase-admin itself; nothing about the
verification is mocked. Token expiry while connected is driven by moving the consumer's clock.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from accounts.models import FirebaseAccount
from ai_chat.models import AIMessage
from config.asgi import application
from sockets import consumer as consumer_base
from tests.consumers.conftest import PATHS, streaming

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock(monkeypatch):
    """The consumer's clock; `clock.advance(seconds)` moves it forward."""

    class Clock(datetime):
        offset = timedelta(0)

        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + cls.offset

        @classmethod
        def advance(cls, seconds: float) -> None:
            cls.offset += timedelta(seconds=seconds)

    monkeypatch.setattr(consumer_base, "datetime", Clock)
    return Clock


async def signed_in(connect, firebase, kind="course", **claims):
    client = await connect(kind)
    answer = await client.request(type="auth", token=firebase.token(**claims), request_id="a1")
    assert answer["type"] == "auth_success", answer
    return client, answer


async def test_session_user_gets_auth_success_right_after_accept(connect, user):
    """A session user is told `auth_success` with their profile as soon as the socket opens."""
    client = await connect("course", user, expect_auth=False)
    frame = await client.recv()
    assert frame == {
        "type": "auth_success",
        "user": {"id": user.pk, "email": "ana@example.com", "display_name": "ana"},
    }
    await client.assert_open()


async def test_handshake_from_a_foreign_origin_is_refused(user):
    """A handshake whose Origin is not an allowed host is refused before it is accepted."""
    communicator = WebsocketCommunicator(
        application, PATHS["course"], headers=[(b"origin", b"https://evil.example")]
    )
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    assert connected is False
    await communicator.disconnect()


async def test_valid_token_signs_in_with_id_email_and_display_name(connect, firebase):
    """A valid `auth` frame is answered `auth_success` with the mapped user's id, email, name."""
    client, answer = await signed_in(
        connect, firebase, uid="fb-1", email="li@example.com", name="Li"
    )
    account = await FirebaseAccount.objects.select_related("user").aget(uid="fb-1")
    assert answer == {
        "type": "auth_success",
        "user": {"id": account.user.pk, "email": "li@example.com", "display_name": "Li"},
        "request_id": "a1",
    }
    await client.assert_open()


async def test_one_firebase_uid_is_one_user_with_a_refreshed_profile(connect, firebase):
    """Signing in again with new claims maps to the same user, with email and name updated."""
    client, first = await signed_in(connect, firebase, uid="fb-2", email="a@example.com", name="A")
    await client.close()
    _client, again = await signed_in(
        connect, firebase, uid="fb-2", email="b@example.com", name="Bea"
    )
    assert again["user"] == {
        "id": first["user"]["id"],
        "email": "b@example.com",
        "display_name": "Bea",
    }
    assert await FirebaseAccount.objects.filter(uid="fb-2").acount() == 1


async def test_signed_in_client_can_generate(connect, firebase):
    """After `auth`, a `message` runs a generation for the Firebase user."""
    client, answer = await signed_in(connect, firebase)
    frames = await client.generate()
    assert frames[-1]["type"] == "complete", frames[-1]
    message = await AIMessage.objects.select_related("conversation").aget(
        pk=frames[-1]["message_id"]
    )
    assert message.conversation.user_id == answer["user"]["id"]


async def auth_refused(connect, token):
    client = await connect("course")
    await client.send(type="auth", token=token, request_id="bad")
    return await client.closed_with()


async def test_bad_signature_is_invalid_token_then_close_4401(connect, firebase):
    """A token signed with another key gets `auth_error` invalid_token, then close 4401."""
    frames, code = await auth_refused(connect, firebase.token(key=firebase.other_key))
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "invalid_token")]
    assert frames[0]["message"] and frames[0]["request_id"] == "bad"
    assert code == 4401


async def test_garbage_token_is_invalid_token_then_close_4401(connect, firebase):
    """A token that is not a JWT at all gets invalid_token, then close 4401."""
    frames, code = await auth_refused(connect, "not-a-jwt")
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "invalid_token")]
    assert code == 4401


async def test_an_oversized_token_is_invalid_token_then_close_4401(connect, firebase):
    """A token far over any real ID token's size is a bad token like any other, answered at
    once (it used to be `invalid_message`, leaving the socket to wait for the auth timeout)."""
    frames, code = await auth_refused(connect, "x" * 40_000)
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "invalid_token")]
    assert code == 4401


async def test_expired_token_is_expired_token_then_close_4401(connect, firebase):
    """A token past its expiry gets `auth_error` expired_token, then close 4401."""
    now = int(time.time())
    token = firebase.token(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    frames, code = await auth_refused(connect, token)
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "expired_token")]
    assert code == 4401


async def test_revoked_token_is_revoked_token_then_close_4401(connect, firebase, settings):
    """A token issued before the account's revocation gets revoked_token, then close 4401."""
    settings.FIREBASE_CHECK_REVOKED = True
    now = int(time.time())
    token = firebase.token("u1", iat=now - 60, auth_time=now - 60)
    firebase.revoke("u1", at=now)
    frames, code = await auth_refused(connect, token)
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "revoked_token")]
    assert code == 4401


async def test_disabled_firebase_user_is_user_disabled_then_close_4401(connect, firebase, settings):
    """A token of a disabled Firebase account gets user_disabled, then close 4401."""
    settings.FIREBASE_CHECK_REVOKED = True
    firebase.disable("u1")
    frames, code = await auth_refused(connect, firebase.token("u1"))
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "user_disabled")]
    assert code == 4401


async def test_inactive_django_user_is_user_disabled_then_close_4401(connect, firebase):
    """A valid token of a Firebase user whose Django user is inactive gets user_disabled, at
    once after the user was saved inactive (the sign-in cache forgets the user)."""
    client, answer = await signed_in(connect, firebase, uid="u9")
    await client.close()
    django_user = await get_user_model().objects.aget(pk=answer["user"]["id"])
    django_user.is_active = False
    await django_user.asave()
    frames, code = await auth_refused(connect, firebase.token("u9"))
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "user_disabled")]
    assert code == 4401


async def test_a_uid_signed_in_moments_ago_signs_in_without_the_database(
    connect, firebase, count_queries
):
    """The uid -> user mapping is remembered (AUTH_CACHE_SECONDS): a reconnect reads nothing."""
    client, first = await signed_in(connect, firebase, uid="fb-c", email="c@example.com")
    await client.close()
    counter = count_queries()
    _client, again = await signed_in(connect, firebase, uid="fb-c", email="c@example.com")
    assert again["user"] == first["user"]
    signing_in = [
        sql
        for sql in counter.statements
        if any(t in sql for t in ("accounts_firebaseaccount", "auth_user"))
    ]
    assert signing_in == []  # (the heartbeat's own queries may fall into the window)


async def test_a_deactivation_elsewhere_reaches_new_sockets_within_the_cache_bound(
    connect, firebase, monkeypatch
):
    """Deactivated without this process's signals (another process, a bulk update): new
    sockets of the uid are still served for at most AUTH_CACHE_SECONDS, then user_disabled."""
    from accounts import signin_cache as cache_module

    client, answer = await signed_in(connect, firebase, uid="u10")
    await client.close()
    await get_user_model().objects.filter(pk=answer["user"]["id"]).aupdate(is_active=False)
    served, _ = await signed_in(connect, firebase, uid="u10")  # the documented bound
    await served.close()
    later = time.monotonic() + cache_module.signin_cache.ttl() + 1
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: later)
    frames, code = await auth_refused(connect, firebase.token("u10"))
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "user_disabled")]
    assert code == 4401


async def test_auth_error_frames_never_quote_the_token(connect, firebase):
    """The refusal's message does not contain the token."""
    token = firebase.token(key=firebase.other_key)
    frames, _code = await auth_refused(connect, token)
    assert token not in frames[0]["message"]
    assert all(part not in frames[0]["message"] for part in token.split("."))


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "content": "Intro to Java"},
        {"type": "history", "conversation_id": "2f1c0a8e-52a5-4d54-9a2e-0d9a3e6f2a10"},
        {"type": "save", "conversation_id": "2f1c0a8e-52a5-4d54-9a2e-0d9a3e6f2a10"},
    ],
)
async def test_other_frame_first_is_auth_required_then_close_4401(connect, frame):
    """Any request before `auth` gets `auth_error` auth_required, then close 4401."""
    client = await connect("course")
    await client.send(**frame, request_id="early")
    frames, code = await client.closed_with()
    assert frames == [
        {
            "type": "auth_error",
            "code": "auth_required",
            "message": frames[0]["message"],
            "request_id": "early",
        }
    ]
    assert code == 4401


async def test_no_auth_in_time_is_auth_timeout_then_close_4408(connect, settings):
    """No `auth` frame within AUTH_TIMEOUT_SECONDS gets `auth_error` auth_timeout, close 4408."""
    settings.AUTH_TIMEOUT_SECONDS = 0.2
    client = await connect("course")
    frames, code = await client.closed_with(timeout=3)
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "auth_timeout")]
    assert code == 4408


async def test_a_refused_token_is_not_followed_by_an_auth_timeout(connect, firebase, settings):
    """After an `auth_error` close, the auth deadline no longer fires on the closed socket."""
    settings.AUTH_TIMEOUT_SECONDS = 0.2
    client = await connect("course")
    await client.send(type="auth", token="not-a-jwt")
    _frames, code = await client.closed_with()
    assert code == 4401
    assert await client.nothing(0.5)


async def test_signed_in_client_is_not_timed_out(connect, firebase, settings):
    """Once signed in, the auth deadline passes without closing the connection."""
    settings.AUTH_TIMEOUT_SECONDS = 0.2
    client, _answer = await signed_in(connect, firebase)
    assert await client.nothing(0.5)
    await client.assert_open()


async def test_ping_before_auth_is_refused_like_any_other_frame(connect):
    """PROTOCOL.md: any frame but `auth` first is `auth_required` and close 4401, `ping` too."""
    client = await connect("course")
    await client.send(type="ping")
    frames, code = await client.closed_with(timeout=3)
    assert (frames[-1]["code"], code) == ("auth_required", 4401)


async def test_reauth_with_a_fresh_token_succeeds(connect, firebase):
    """A second `auth` frame with a fresh token is answered `auth_success`; service goes on."""
    client, first = await signed_in(connect, firebase)
    answer = await client.request(type="auth", token=firebase.token(), request_id="a2")
    assert answer == {**first, "request_id": "a2"}
    frames = await client.generate()
    assert frames[-1]["type"] == "complete"


async def test_reauth_as_another_user_is_refused(connect, firebase):
    """A token of a different account on a signed-in socket is refused and the socket closed."""
    client, _first = await signed_in(connect, firebase, uid="u1")
    await client.send(type="auth", token=firebase.token(uid="u2", email="u2@example.com"))
    frames, code = await client.closed_with()
    assert [(f["type"], f["code"]) for f in frames] == [("auth_error", "invalid_token")]
    assert code == 4401


async def test_token_that_expires_after_auth_gets_token_expired(connect, firebase, clock):
    """Once the token in use expires, a request gets `error` token_expired; the socket stays."""
    client, _answer = await signed_in(connect, firebase)
    clock.advance(3601)
    error = await client.error(type="message", content="Intro", request_id="m1")
    assert error["code"] == "token_expired" and error["retryable"] is False
    assert error["request_id"] == "m1"
    error = await client.error(
        type="history", conversation_id="2f1c0a8e-52a5-4d54-9a2e-0d9a3e6f2a10"
    )
    assert error["code"] == "token_expired"
    await client.assert_open()


async def test_token_within_clock_skew_is_accepted_then_expired(connect, firebase):
    """A token accepted within the clock skew but already past `exp` is expired for requests."""
    now = int(time.time())
    client, _answer = await signed_in(
        connect, firebase, iat=now - 3600, auth_time=now - 3600, exp=now - 1
    )
    error = await client.error(type="message", content="Intro")
    assert error["code"] == "token_expired"
    await client.assert_open()


async def test_fresh_auth_after_expiry_resumes_service(connect, firebase, clock):
    """After token_expired, a fresh `auth` frame makes requests work again."""
    client, _answer = await signed_in(connect, firebase)
    clock.advance(3601)
    assert (await client.error(type="message", content="Intro"))["code"] == "token_expired"
    # The client's new token expires an hour after the (moved) clock's now.
    now = int(datetime.now(UTC).timestamp())
    fresh = firebase.token(exp=now + 3601 + 3600)
    assert (await client.request(type="auth", token=fresh))["type"] == "auth_success"
    frames = await client.generate()
    assert frames[-1]["type"] == "complete", frames[-1]


async def test_running_generation_is_not_interrupted_by_expiry(
    connect, firebase, clock, slow_offline
):
    """A generation streaming when the token expires runs to `complete` on that socket."""
    client, _answer = await signed_in(connect, firebase)
    await client.send(type="message", content="Intro to Java", request_id="m1")
    frames = await client.until("streaming")
    clock.advance(3601)
    await client.send(type="history", conversation_id=frames[0]["conversation_id"], request_id="h1")
    answers: list[dict] = []
    async with asyncio.timeout(10):
        while not answers or frames[-1]["type"] not in ("complete", "cancelled", "error"):
            frame = await client.recv()
            (answers if frame["request_id"] == "h1" else frames).append(frame)
    assert [(f["type"], f["code"]) for f in answers] == [("error", "token_expired")]
    assert frames[-1]["type"] == "complete", frames[-1]
    indexes = [f["index"] for f in streaming(frames)]
    assert len(indexes) > 5 and indexes == list(range(len(indexes)))


async def test_tokens_never_reach_the_logs(connect, firebase, caplog, settings):
    """At DEBUG, auth (accepted and refused) and a generation log no token or piece of one."""
    caplog.set_level(logging.DEBUG)
    settings.FIREBASE_CHECK_REVOKED = True
    firebase.add_user("u1")
    client, _answer = await signed_in(connect, firebase, uid="u1")
    assert (await client.generate())[-1]["type"] == "complete"
    await client.request(type="auth", token=firebase.token("u1"))
    for token in (
        firebase.token(key=firebase.other_key),
        firebase.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        firebase.token(aud="other-project"),
    ):
        _frames, code = await auth_refused(connect, token)
        assert code == 4401
    await asyncio.sleep(0)
    logged = [caplog.text, *(record.getMessage() for record in caplog.records)]
    assert firebase.minted
    for token in firebase.minted:
        pieces = [token, *(part for part in token.split(".") if len(part) >= 8)]
        for text in logged:
            for piece in pieces:
                assert piece not in text
