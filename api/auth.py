"""Who is calling: a Firebase ID token (`Authorization: Bearer`), else the Django session.

The bearer scheme is listed first (DESIGN.md, django-ninja sharp edge): ninja's cookie auth
runs the CSRF check as soon as it is consulted, so listed first it would answer a bearer POST
with 403. A bearer token is verified exactly as the WebSocket `auth` frame is
(`authenticate_token`: firebase-admin off the event loop, then the Firebase -> Django user
mapping); a refused token ends the request with its own code instead of falling through to the
cookie. The session needs `X-CSRFToken` on unsafe methods, checked only when the cookie is sent,
so a request with no credentials at all is 401 `auth_required`, not a CSRF failure.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from accounts.firebase import AuthFailed
from accounts.users import authenticate_token
from api.errors import TokenRefused


class ApiRequest(HttpRequest):
    """A request ninja has signed in: `auth` is the Django user (for type checking only)."""

    auth: Any


class FirebaseBearer(HttpBearer):
    """`Authorization: Bearer <Firebase ID token>`."""

    async def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            user, _claims = await authenticate_token(token)
        except AuthFailed as failure:
            raise TokenRefused(failure.code, failure.message) from None
        return user


class SessionCookie(APIKeyCookie):
    """The Django session cookie; CSRF-checked (unsafe methods) only when it is present."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    async def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        user = await request.auser()
        if user.is_authenticated and user.is_active:
            return user
        return None


AUTH = [FirebaseBearer(), SessionCookie()]
