"""The handshake's session user, through the whole ASGI application with a real session cookie."""

import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from sockets.session import SessionUserMiddleware
from tests.consumers.conftest import count_queries  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def first_frame(cookie: str | None) -> dict:
    headers = [ORIGIN, HOST]
    if cookie:
        headers.append((b"cookie", f"a=1; sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/ai/course-generation/", headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    # Signed in: `auth_success` comes first. Anonymous: a `ping` before `auth` is refused.
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    frame = json.loads(await communicator.receive_from(timeout=5))
    await communicator.disconnect()
    return frame


async def test_a_valid_session_cookie_signs_the_socket_in(user):
    cookie = await database_sync(session_cookie_for, user)
    frame = await first_frame(cookie)
    assert frame["type"] == "auth_success" and frame["user"]["id"] == user.pk


async def test_no_cookie_or_an_unknown_session_is_anonymous():
    assert (await first_frame(None))["code"] == "auth_required"
    assert (await first_frame("not-a-session"))["code"] == "auth_required"


async def test_a_password_change_ends_the_sessions_made_before_it(user):
    """Django's session hash check: a session from before the change no longer signs in."""
    cookie = await database_sync(session_cookie_for, user)
    user.set_password("a-new-password-123")
    await user.asave()
    assert (await first_frame(cookie))["code"] == "auth_required"


async def test_a_deactivated_user_is_anonymous(user):
    cookie = await database_sync(session_cookie_for, user)
    user.is_active = False
    await user.asave()
    assert (await first_frame(cookie))["code"] == "auth_required"


async def test_the_inner_scope_has_the_user_and_no_session(user):
    """Sockets never write the session, so none is carried (nor checked on every send)."""
    cookie = await database_sync(session_cookie_for, user)
    seen = {}

    async def inner(scope, receive, send):
        seen.update(scope)

    scope = {"type": "websocket", "headers": [(b"cookie", f"sessionid={cookie}".encode())]}
    await SessionUserMiddleware(inner)(scope, None, None)
    assert seen["user"].pk == user.pk and "session" not in seen


async def database_sync(function, *args):
    return await database_sync_to_async(function)(*args)


async def signed_in_socket(cookie: str) -> WebsocketCommunicator:
    headers = [ORIGIN, HOST, (b"cookie", f"sessionid={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/ai/course-generation/", headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    assert json.loads(await communicator.receive_from(timeout=5))["type"] == "auth_success"
    return communicator


async def next_frame_after_a_request(communicator: WebsocketCommunicator) -> dict:
    frame = {"type": "history", "conversation_id": "00000000-0000-4000-8000-000000000000"}
    await communicator.send_to(text_data=json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=5))


@pytest.mark.parametrize(
    ("end", "code"),
    [("sign_out", "revoked_token"), ("disable", "user_disabled")],
)
async def test_an_open_socket_is_not_served_after_its_session_ends(user, settings, end, code):
    """Signed out (the session deleted) or disabled while the socket is open: the next frame
    after AUTH_RECHECK_SECONDS is answered `auth_error` and the socket closed with 4401."""
    settings.AUTH_RECHECK_SECONDS = 0
    cookie = await database_sync(session_cookie_for, user)
    communicator = await signed_in_socket(cookie)
    assert (await next_frame_after_a_request(communicator))["code"] == "not_found"
    if end == "sign_out":
        from django.contrib.sessions.models import Session

        await Session.objects.filter(session_key=cookie).adelete()
    else:
        user.is_active = False
        await user.asave()
    frame = await next_frame_after_a_request(communicator)
    assert frame == {"type": "auth_error", "code": code, "message": frame["message"]}
    assert (await communicator.receive_output(timeout=5))["code"] == 4401
    await communicator.disconnect()


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def test_a_session_that_signed_in_moments_ago_signs_in_without_the_database(
    user,
    count_queries,  # noqa: F811
):
    """The session's user is remembered (AUTH_CACHE_SECONDS): a reconnect reads nothing."""
    cookie = await database_sync(session_cookie_for, user)
    counter = count_queries()
    assert (await first_frame(cookie))["type"] == "auth_success"
    assert counter.statements, "the first socket reads the session and the user"
    counter.reset()
    frame = await first_frame(cookie)
    assert frame["type"] == "auth_success" and frame["user"]["id"] == user.pk
    signing_in = [
        sql for sql in counter.statements if any(t in sql for t in ("django_session", "auth_user"))
    ]
    assert signing_in == []  # (the heartbeat's own queries may fall into the window)


@pytest.mark.parametrize("end", ["sign_out", "deactivate", "password"])
async def test_a_remembered_session_is_forgotten_when_it_ends_on_this_process(user, end):
    """Signing out, deactivating the user or changing the password (a new session hash) here
    forget the remembered session at once: the next socket is anonymous."""
    client = await database_sync(signed_in_client, user)
    cookie = client.cookies["sessionid"].value
    assert (await first_frame(cookie))["type"] == "auth_success"  # remembered now
    if end == "sign_out":
        await database_sync(client.logout)
    elif end == "deactivate":
        user.is_active = False
        await user.asave()
    else:
        user.set_password("a-new-password-123")
        await user.asave()
    assert (await first_frame(cookie))["code"] == "auth_required"


async def test_a_sign_out_elsewhere_reaches_new_sockets_within_the_cache_bound(user, monkeypatch):
    """The session deleted by another process (no signal here): new sockets are still signed
    in for at most AUTH_CACHE_SECONDS, then anonymous."""
    from django.contrib.sessions.models import Session

    from accounts import signin_cache as cache_module

    cookie = await database_sync(session_cookie_for, user)
    assert (await first_frame(cookie))["type"] == "auth_success"
    await Session.objects.filter(session_key=cookie).adelete()
    assert (await first_frame(cookie))["type"] == "auth_success"  # the documented bound
    later = time.monotonic() + cache_module.signin_cache.ttl() + 1
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: later)
    assert (await first_frame(cookie))["code"] == "auth_required"


async def test_no_cache_with_auth_cache_seconds_0(user, settings):
    from django.contrib.sessions.models import Session

    settings.AUTH_CACHE_SECONDS = 0
    cookie = await database_sync(session_cookie_for, user)
    assert (await first_frame(cookie))["type"] == "auth_success"
    await Session.objects.filter(session_key=cookie).adelete()
    assert (await first_frame(cookie))["code"] == "auth_required"
