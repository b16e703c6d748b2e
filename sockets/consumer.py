"""SignedInConsumer: the lifecycle every Lectern socket shares, written once.

Accept; sign in (the session user at the handshake, or an `auth` frame with a Firebase ID token
within `AUTH_TIMEOUT_SECONDS`); count the user's connections (close 4429 over the limit);
decode and validate each frame; route `auth` and `ping` here and everything else to the
endpoint's `handle`; answer every failure with a frame, in one place; clean up on close.
The AI endpoints and `/ws/events/` are subclasses declaring `endpoint`, `parse` and `handle`.
"""

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from accounts.firebase import AuthFailed
from accounts.users import authenticate_token, user_payload
from ops import metrics
from ops.logging import bind_ref
from sockets.codes import CloseCode
from sockets.errors import InternalError, ProtocolError, RateLimited, TokenExpired
from sockets.frames import AuthFrame, ClientFrame, PingFrame, decode_text_frame, request_id_of
from sockets.limits import ConnectionCounter
from sockets.runtime import ProcessRuntime, runtime
from sockets.server_frames import (
    AuthErrorFrame,
    AuthSuccessFrame,
    ErrorFrame,
    PongFrame,
    ServerFrame,
)

logger = logging.getLogger(__name__)

# Told to a connection closed with 4429: by then another of the user's sockets may have closed.
CONNECTION_RETRY_AFTER = 5


class ClientGone(Exception):
    """A send found the client gone: daphne raises autobahn's `Disconnected`, uvicorn its
    `ClientDisconnected` (an `OSError`). The server's `websocket.disconnect` follows; nothing
    is wrong with the service, so this ends what was sending, quietly."""


def auth_error_frame(failed: AuthFailed) -> AuthErrorFrame:
    """The `auth_error` frame telling why signing in failed."""
    return AuthErrorFrame.make(code=failed.code, message=failed.message)


class SignedInConsumer(AsyncWebsocketConsumer):
    """A socket whose frames are served to a signed-in user (or, where allowed, anyone)."""

    endpoint: ClassVar[str]

    user: Any = None
    token_expires_at: datetime | None = None
    auth_deadline: asyncio.Task[None] | None = None
    counted = False
    registered = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' `dispatch` without its `aclose_old_connections()` before every message.

        That call is a hop to the process's one thread-sensitive database thread, so every frame
        (a `ping`, a `cancel`) would queue behind all the database work of every socket: seconds
        under load. It is not needed here: the ORM is only reached through
        `database_sync_to_async`, which closes stale connections before and after each call.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except ClientGone:
            logger.debug(
                "%s: the client left while %s was answered", self.endpoint, message["type"]
            )

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.connection_id = uuid.uuid4().hex
        bind_ref(self.connection_id)  # every log line of this socket carries it
        self.runtime: ProcessRuntime = runtime()
        self.connections: ConnectionCounter = self.runtime.connections
        await self.accept()
        self.counted = True
        metrics.connection_opened(self.endpoint)
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated and session_user.is_active:
            await self._sign_in(session_user, expires_at=None, request_id=None)
        elif not self.anonymous_allowed():
            self.auth_deadline = asyncio.get_running_loop().create_task(self._auth_timeout())

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes."""
        if self.counted:
            metrics.connection_closed(self.endpoint)
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
        if self.registered:
            await self.connections.remove(self.user.pk, self.connection_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame; answers every failure with a frame, never an exception."""
        request_id = None
        try:
            raw = decode_text_frame(text_data)
            request_id = request_id_of(raw)
            await self._route(self.parse(raw))
        except ClientGone:
            raise  # nobody to tell: `dispatch` ends the handler
        except AuthFailed as failed:
            if self.auth_deadline is not None:  # closing now: no auth_timeout after it
                self.auth_deadline.cancel()
            await self.send_frame(auth_error_frame(failed), request_id)
            await self.close(code=CloseCode.UNAUTHORIZED)
        except ProtocolError as error:
            await self.send_frame(error.to_frame(), request_id)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("frame failed on %s [ref %s]", self.endpoint, reference)
            internal = InternalError(f"Internal error (reference {reference}).")
            await self.send_frame(internal.to_frame(), request_id)

    async def _route(self, frame: ClientFrame) -> None:
        if isinstance(frame, AuthFrame):
            return await self._authenticate(frame)
        if self.user is None and not self.anonymous_allowed():
            # PROTOCOL.md: any frame but `auth` first closes 4401
            raise AuthFailed("auth_required", "Send an `auth` frame first.")
        if isinstance(frame, PingFrame):
            return await self.send_frame(PongFrame.make(), frame.request_id)
        if self.user is None:
            return await self.handle_anonymous(frame)
        if self.token_expires_at is not None and datetime.now(tz=UTC) >= self.token_expires_at:
            raise TokenExpired()
        await self.handle(frame)

    # --- what an endpoint declares ----------------------------------------------------------

    def parse(self, raw: dict[str, Any]) -> ClientFrame:
        """Validate a decoded frame into its model, or raise the protocol's error."""
        raise NotImplementedError

    async def handle(self, frame: Any) -> None:
        """Serve one frame of the signed-in user."""
        raise NotImplementedError

    def anonymous_allowed(self) -> bool:
        """Whether frames may be served without signing in (the tutor chat, where allowed)."""
        return False

    async def handle_anonymous(self, frame: Any) -> None:
        """Serve a frame sent before signing in, where `anonymous_allowed()`."""
        raise AuthFailed("auth_required", "Send an `auth` frame first.")

    # --- sending ----------------------------------------------------------------------------

    async def send_frame(self, frame: ServerFrame | dict[str, Any], request_id: str | None) -> None:
        """Send one frame, answering `request_id`; `ClientGone` if the client has left."""
        if isinstance(frame, ServerFrame):
            if isinstance(frame, ErrorFrame | AuthErrorFrame):
                metrics.error_frame(frame.code)
            text = frame.wire(request_id)
        else:  # frames of endpoints not yet built from models (see sockets.server_frames)
            if frame.get("type") in ("error", "auth_error"):
                metrics.error_frame(frame.get("code", ""))
            if request_id is not None:
                frame = {**frame, "request_id": request_id}
            text = json.dumps(
                frame, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
            )
        try:
            await self.send(text_data=text)
        except (Disconnected, OSError) as gone:
            raise ClientGone() from gone

    # --- signing in -------------------------------------------------------------------------

    async def _auth_timeout(self) -> None:
        await asyncio.sleep(settings.AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            failed = AuthFailed("auth_timeout", "No `auth` frame arrived in time.")
            await self.send_frame(auth_error_frame(failed), None)
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
            count = await self.connections.add(user.pk, self.connection_id)
            self.registered = True
            if count > settings.MAX_CONNECTIONS_PER_USER:
                limit = settings.MAX_CONNECTIONS_PER_USER
                refusal = RateLimited(
                    f"Too many connections (limit {limit}).", retry_after=CONNECTION_RETRY_AFTER
                )
                await self.send_frame(refusal.to_frame(), request_id)
                await self.close(code=CloseCode.TOO_MANY_CONNECTIONS)
                return
        await self.send_frame(AuthSuccessFrame.make(user=user_payload(user)), request_id)
