"""Sign-in for sockets that are not AI endpoints, exactly as the AI endpoints do it.

A session user is told `auth_success` right after the accept; anyone else must send `auth`
with a Firebase ID token within `AUTH_TIMEOUT_SECONDS`. A refused token gets `auth_error` and
close 4401, silence gets `auth_timeout` and close 4408 (PROTOCOL.md, "Authentication"). The
token checks and the user mapping are `ai_chat.auth`'s.
"""

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from ai_chat.auth import AuthFailed, authenticate_token, user_payload
from ai_chat.exceptions import InternalError, ProtocolError, TokenExpired
from ai_chat.protocol import AuthFrame, CloseCode
from ops import metrics
from ops.logging import bind_ref
from realtime.protocol import decode_frame, request_id_of

logger = logging.getLogger(__name__)


class AuthenticatedConsumer(AsyncWebsocketConsumer):
    """Accept, sign in, parse each frame, and answer every failure with a frame.

    Subclasses implement `parse` (raw object -> frame model) and `handle` (a signed-in user's
    frame).
    """

    endpoint = "events"
    user: Any = None
    token_expires_at: datetime | None = None
    auth_deadline: asyncio.Task[None] | None = None
    counted = False

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.connection_id = uuid.uuid4().hex
        bind_ref(self.connection_id)
        await self.accept()
        self.counted = True
        metrics.connection_opened(self.endpoint)
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated and session_user.is_active:
            await self._sign_in(session_user, expires_at=None, request_id=None)
        else:
            self.auth_deadline = asyncio.get_running_loop().create_task(self._auth_timeout())

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes."""
        if self.counted:
            metrics.connection_closed(self.endpoint)
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame; answers every failure with a frame, never an exception."""
        request_id = None
        try:
            raw = decode_frame(text_data)
            request_id = request_id_of(raw)
            frame = self.parse(raw)
            if isinstance(frame, AuthFrame):
                await self._authenticate(frame)
            elif self.user is None:
                raise AuthFailed("auth_required", "Send an `auth` frame first.")
            elif self._token_expired():
                raise TokenExpired()
            else:
                await self.handle(frame)
        except AuthFailed as failed:
            if self.auth_deadline is not None:  # closing now: no auth_timeout after it
                self.auth_deadline.cancel()
            await self.send_frame(failed.to_frame(), request_id)
            await self.close(code=CloseCode.UNAUTHORIZED)
        except ProtocolError as error:
            await self.send_frame(error.to_frame(), request_id)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("frame failed on %s [ref %s]", self.endpoint, reference)
            internal = InternalError(f"Internal error (reference {reference}).")
            await self.send_frame(internal.to_frame(), request_id)

    def parse(self, raw: dict[str, Any]) -> Any:
        """Validate a decoded frame into its model (raise a ProtocolError if it is not one)."""
        raise NotImplementedError

    async def handle(self, frame: Any) -> None:
        """Serve one frame of a signed-in user (`auth` is handled here)."""
        raise NotImplementedError

    async def send_frame(self, frame: dict[str, Any], request_id: str | None) -> None:
        if frame.get("type") in ("error", "auth_error"):
            metrics.error_frame(frame.get("code", ""))
        if request_id is not None:
            frame = {**frame, "request_id": request_id}
        text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
        await self.send(text_data=text)

    def _token_expired(self) -> bool:
        expires_at = self.token_expires_at
        return expires_at is not None and datetime.now(tz=UTC) >= expires_at

    async def _auth_timeout(self) -> None:
        await asyncio.sleep(settings.AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            failed = AuthFailed("auth_timeout", "No `auth` frame arrived in time.")
            await self.send_frame(failed.to_frame(), None)
            await self.close(code=CloseCode.AUTH_TIMEOUT)

    async def _authenticate(self, frame: AuthFrame) -> None:
        user, claims = await authenticate_token(frame.token)
        if self.user is not None and self.user.pk != user.pk:
            raise AuthFailed("invalid_token", "The token belongs to another user.")
        await self._sign_in(user, expires_at=claims.expires_at, request_id=frame.request_id)

    async def _sign_in(
        self, user: Any, *, expires_at: datetime | None, request_id: str | None
    ) -> None:
        self.token_expires_at = expires_at
        if self.user is None:
            self.user = user
            if self.auth_deadline is not None:
                self.auth_deadline.cancel()
        await self.send_frame({"type": "auth_success", "user": user_payload(user)}, request_id)
