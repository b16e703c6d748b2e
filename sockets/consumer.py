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
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder

from accounts.firebase import AuthFailed
from accounts.signin_cache import signin_cache
from accounts.users import authenticate_token, user_payload
from ops import metrics
from ops.logging import bind_ref
from sockets.addresses import client_address
from sockets.codes import CloseCode
from sockets.errors import InternalError, ProtocolError, RateLimited, TokenExpired
from sockets.frames import (
    AuthFrame,
    ClientFrame,
    PingFrame,
    decode_text_frame,
    refuse_unstorable,
    request_id_of,
)
from sockets.limits import ConnectionCounter
from sockets.runtime import ProcessRuntime, runtime
from sockets.server_frames import (
    AuthErrorFrame,
    AuthSuccessFrame,
    ErrorFrame,
    PongFrame,
    ServerFrame,
)
from sockets.session import session_key_of, user_for_session

logger = logging.getLogger(__name__)

# Told to a connection closed with 4429: by then another of the user's sockets may have closed.
CONNECTION_RETRY_AFTER = 5


class ClientGone(Exception):
    """A send found the client gone: daphne raises autobahn's `Disconnected`, uvicorn its
    `ClientDisconnected` (an `OSError`). The server's `websocket.disconnect` follows; nothing
    is wrong with the service, so this ends what was sending, quietly."""


def signed_in_user_state(user_id: int, session_key: str | None) -> str:
    """`ok`, `disabled` (the account was deactivated) or `signed_out` (the session that signed
    the socket in is gone, or now belongs to someone else). ORM: call it off the loop."""
    active = get_user_model().objects.filter(pk=user_id, is_active=True).exists()
    if not active:
        signin_cache.forget_user(user_id)  # changed elsewhere: no new socket of it from here
        return "disabled"
    if session_key is not None:
        user = user_for_session(session_key)
        if not user.is_authenticated or user.pk != user_id:
            signin_cache.forget_user(user_id)
            return "signed_out"
    return "ok"


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
    # An anonymous socket's slot among its address's connections (`anon:{address}`).
    address_slot: str | None = None
    # Signed in by the handshake's session: its key, checked again every AUTH_RECHECK_SECONDS.
    session_key: str | None = None
    checked_at = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve the socket; whatever ends it (a close, a crash, a cancelled task), its
        connection slot and metrics are released: a slot never outlives its socket."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._release()

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
            self.session_key = session_key_of(self.scope)
            await self._sign_in(session_user, expires_at=None, request_id=None)
        elif self.anonymous_allowed():
            if await self._count_address():  # not refused: serving anonymously from now
                await self.ready(None)
        else:
            self.auth_deadline = asyncio.get_running_loop().create_task(self._auth_timeout())

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes."""
        await self._release()

    async def _release(self) -> None:
        """Give back what the socket holds (once, however often it is called)."""
        if self.counted:
            self.counted = False
            metrics.connection_closed(self.endpoint)
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
        if self.registered:
            self.registered = False
            await self.connections.remove(self.user.pk, self.connection_id)
        if self.address_slot is not None:
            slot, self.address_slot = self.address_slot, None
            await self.connections.remove(slot, self.connection_id)

    async def _count_address(self) -> bool:
        """Anonymous use: at most MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS sockets per address."""
        self.address_slot = f"anon:{client_address(self.scope)}"
        count = await self.connections.add(self.address_slot, self.connection_id)
        limit = settings.MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS
        if count > limit:
            await self._refuse_connection(
                f"Too many connections from this address (limit {limit})."
            )
            return False
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame; answers every failure with a frame, never an exception."""
        request_id = None
        try:
            raw = decode_text_frame(text_data)
            request_id = request_id_of(raw)
            refuse_unstorable(raw)
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
        await self._recheck()
        await self.handle(frame)

    async def _recheck(self) -> None:
        """Every AUTH_RECHECK_SECONDS, check that the user may still be served: a signed-out
        session is `revoked_token`, a disabled account `user_disabled` (then 4401)."""
        now = asyncio.get_running_loop().time()
        if now < self.checked_at + settings.AUTH_RECHECK_SECONDS:
            return
        self.checked_at = now
        user_id, session_key = self.user.pk, self.session_key
        still = await database_sync_to_async(signed_in_user_state)(user_id, session_key)
        if still == "disabled":
            raise AuthFailed("user_disabled")
        if still == "signed_out":
            raise AuthFailed("revoked_token", "The session has ended; sign in again.")

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

    async def ready(self, request_id: str | None) -> None:
        """Called once the socket serves its frames: signed in (after `auth_success`), or
        accepted for anonymous use. An endpoint's greeting goes here."""

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

    async def _refuse_connection(self, message: str, request_id: str | None = None) -> None:
        refusal = RateLimited(message, retry_after=CONNECTION_RETRY_AFTER)
        await self.send_frame(refusal.to_frame(), request_id)
        await self.close(code=CloseCode.TOO_MANY_CONNECTIONS)

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
        self.checked_at = asyncio.get_running_loop().time()
        first = self.user is None
        if self.user is None:
            self.user = user
            if self.auth_deadline is not None:
                self.auth_deadline.cancel()
            count = await self.connections.add(user.pk, self.connection_id)
            self.registered = True
            if count > settings.MAX_CONNECTIONS_PER_USER:
                limit = settings.MAX_CONNECTIONS_PER_USER
                await self._refuse_connection(f"Too many connections (limit {limit}).", request_id)
                return
        await self.send_frame(AuthSuccessFrame.make(user=user_payload(user)), request_id)
        if first:
            await self.ready(request_id)
