"""The session user of a WebSocket handshake: Channels' `AuthMiddlewareStack`, in one step.

Channels' stack (cookies, then session, then user) keeps a scope copy per layer, a session
wrapper that inspects the session before every frame sent, and a lazy user, for the whole life
of every socket. Lectern's sockets never write the session, so this middleware reads the session
cookie, lets Django's own `auth.get_user` load and verify the user (session hash, secret key
fallbacks, active backend) in one database call, and hands on a scope with `user` and no
`session`. A session that opened a socket moments ago is answered from the sign-in cache
(accounts/signin_cache.py: what it may serve stale, and for how long). Measured in
bench/README.md: memory per idle socket, per-frame cost, handshakes per second.
"""

from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie

from accounts.signin_cache import signin_cache


class SessionUserMiddleware:
    """Put the handshake's signed-in user (or `AnonymousUser`) in `scope["user"]`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if "user" in scope:  # put there by an outer layer (as Channels' AuthMiddleware allows)
            return await self.inner(scope, receive, send)
        session_key = session_key_of(scope)
        user = None
        if session_key:
            found = signin_cache.get(("session", session_key))
            if found is not None:
                user = found[0]
            else:
                user = await database_sync_to_async(_session_user_cached)(session_key)
        return await self.inner({**scope, "user": user or AnonymousUser()}, receive, send)


def session_key_of(scope: dict[str, Any]) -> str | None:
    """The session cookie of the handshake's (first) `Cookie` header."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin1")).get(settings.SESSION_COOKIE_NAME)
    return None


def _session_user_cached(session_key: str) -> Any:
    """`user_for_session`, remembered in the sign-in cache when it is a signed-in user."""
    user = user_for_session(session_key)
    if user.is_authenticated:
        signin_cache.put(("session", session_key), user)
    return user


def user_for_session(session_key: str) -> Any:
    """Django's session authentication, as for an HTTP request carrying this cookie."""
    request = HttpRequest()  # `auth.get_user` reads only `request.session`
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(request)
