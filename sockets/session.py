"""The session user of a WebSocket handshake: Channels' `AuthMiddlewareStack`, in one step.

Channels' stack (cookies, then session, then user) keeps a scope copy per layer, a session
wrapper that inspects the session before every frame sent, and a lazy user, for the whole life
of every socket. Lectern's sockets never write the session, so this middleware reads the session
cookie, lets Django's own `auth.get_user` load and verify the user (session hash, secret key
fallbacks, active backend) in one database call, and hands on a scope with `user` and no
`session`. Measured in bench/README.md: memory per idle socket and per-frame cost.
"""

from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie


class SessionUserMiddleware:
    """Put the handshake's signed-in user (or `AnonymousUser`) in `scope["user"]`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if "user" in scope:  # put there by an outer layer (as Channels' AuthMiddleware allows)
            return await self.inner(scope, receive, send)
        session_key = session_key_of(scope)
        user = await database_sync_to_async(user_for_session)(session_key) if session_key else None
        return await self.inner({**scope, "user": user or AnonymousUser()}, receive, send)


def session_key_of(scope: dict[str, Any]) -> str | None:
    """The session cookie of the handshake's (first) `Cookie` header."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin1")).get(settings.SESSION_COOKIE_NAME)
    return None


def user_for_session(session_key: str) -> Any:
    """Django's session authentication, as for an HTTP request carrying this cookie."""
    request = HttpRequest()  # `auth.get_user` reads only `request.session`
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(request)
