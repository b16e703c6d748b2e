"""BaseAIConsumer: the whole WebSocket lifecycle of a generation endpoint, once.

Accept, authenticate (session at the handshake, or an `auth` frame within the timeout), parse
and validate each frame into a pydantic model, branch on its class, map every error to an
`error` frame in one place, and clean up in `finally`. Generations run in the process's
runner, not in this consumer: this socket only follows them, so `cancel`, `ping` and other
conversations keep working while one streams, and a disconnect does not stop a generation.
"""

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from pydantic import ValidationError

from ai_chat.auth import AuthFailed, authenticate_token, user_payload
from ai_chat.consumers.frames import history_frame, replay_frames
from ai_chat.exceptions import (
    InternalError,
    InvalidFrame,
    InvalidMessage,
    MessageTooLarge,
    MessageTooLong,
    NotRunning,
    ProtocolError,
    RateLimited,
    TokenExpired,
    UnknownType,
)
from ai_chat.kinds.base import validation_details
from ai_chat.protocol import (
    CLIENT_FRAME_TYPES,
    MAX_FRAME_BYTES,
    MAX_REQUEST_ID,
    AuthFrame,
    CancelFrame,
    ClientFrame,
    CloseCode,
    FeedbackFrame,
    HistoryFrame,
    MessageFrame,
    PingFrame,
    RefinementFrame,
    ResumeFrame,
    SaveFrame,
    client_frame_adapter,
)
from ai_chat.services.conversations import (
    conversation_get_for_user,
    conversation_history,
    feedback_record,
    message_get_for_user,
)
from ai_chat.services.generation import GenerationJob
from ai_chat.services.runtime import Runtime, get_runtime
from ai_chat.services.saving import result_save
from ai_chat.services.turns import turn_prepare
from ai_chat.services.workers import WORKER_ID
from ops import metrics
from ops.logging import bind_ref

logger = logging.getLogger(__name__)

# What an anonymous client may send where anonymous use is allowed.
ANONYMOUS_FRAMES = (MessageFrame, RefinementFrame, CancelFrame, ResumeFrame, HistoryFrame)
# Before signing in, only `auth` is accepted (PROTOCOL.md: any other frame first closes 4401).

# Told to a connection closed with 4429: by then another of the user's sockets may have closed.
CONNECTION_RETRY_AFTER = 5


class BaseAIConsumer(AsyncWebsocketConsumer):
    """A generation endpoint. Subclasses declare `kind` and little else."""

    kind: ClassVar[str]

    user: Any = None
    token_expires_at: datetime | None = None
    counted = False

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.connection_id = uuid.uuid4().hex
        bind_ref(self.connection_id)  # every log line of this socket (and its generations)
        self.runtime: Runtime = await get_runtime()
        self.follows: dict[str, asyncio.Task[None]] = {}
        self.auth_deadline: asyncio.Task[None] | None = None
        self.registered = False
        await self.accept()
        self.counted = True
        metrics.connection_opened(self.kind)
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated and session_user.is_active:
            await self._sign_in(session_user, expires_at=None, request_id=None)
        elif not self.anonymous_allowed():
            self.auth_deadline = asyncio.get_running_loop().create_task(self._auth_timeout())

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: stop following, keep generations running."""
        if self.counted:
            metrics.connection_closed(self.kind)
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
        for task in self.follows.values():
            task.cancel()
        if self.registered:
            await self.runtime.connections.remove(self.user.pk, self.connection_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame; answers every failure with a frame, never an exception."""
        request_id = None
        try:
            raw = self._decode(text_data, bytes_data)
            request_id = _request_id(raw)
            frame = self._validate(raw)
            await self._dispatch(frame)
        except AuthFailed as failed:
            if self.auth_deadline is not None:  # closing now: no auth_timeout after it
                self.auth_deadline.cancel()
            await self._send({**failed.to_frame()}, request_id)
            await self.close(code=CloseCode.UNAUTHORIZED)
        except ProtocolError as error:
            await self._send(error.to_frame(), request_id)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("frame failed on %s [ref %s]", self.kind, reference)
            await self._send(
                InternalError(f"Internal error (reference {reference}).").to_frame(), request_id
            )

    # --- parsing --------------------------------------------------------------------------

    def _decode(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        if text_data is None:
            raise InvalidFrame("Binary frames are not accepted; send JSON text.")
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
            raise MessageTooLarge()
        try:
            raw = json.loads(text_data, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise InvalidFrame("The frame is not valid JSON.") from None
        if not isinstance(raw, dict):
            raise InvalidFrame("The frame must be a JSON object.")
        if "\\u" in text_data and not _utf8_encodable(raw):  # an unpaired \ud800 escape
            raise InvalidFrame("The frame holds an unpaired surrogate escape; it is not Unicode.")
        return raw

    def _validate(self, raw: dict[str, Any]) -> ClientFrame:
        type_ = raw.get("type")
        if not isinstance(type_, str) or type_ not in CLIENT_FRAME_TYPES:  # a list is unhashable
            raise UnknownType(f"Unknown frame type; expected one of {sorted(CLIENT_FRAME_TYPES)}.")
        try:
            frame: ClientFrame = client_frame_adapter.validate_python(raw)
        except ValidationError as exc:
            # Each error's location starts with the union's tag: name the frame's own fields.
            details = [
                {**d, "field": d["field"].removeprefix(f"{type_}.")}
                for d in validation_details(exc)
            ]
            raise InvalidMessage(details=details) from None
        content = getattr(frame, "content", None)
        if content is not None and len(content) > settings.MAX_MESSAGE_LENGTH:
            raise MessageTooLong(
                f"The message is {len(content)} characters; the limit is "
                f"{settings.MAX_MESSAGE_LENGTH}."
            )
        return frame

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, frame: ClientFrame) -> None:
        rid = frame.request_id
        if isinstance(frame, AuthFrame):
            return await self._authenticate(frame)
        if isinstance(frame, PingFrame) and (self.user is not None or self.anonymous_allowed()):
            return await self._send({"type": "pong"}, rid)
        if self.user is None:
            if self.anonymous_allowed() and isinstance(frame, ANONYMOUS_FRAMES):
                return await self._dispatch_anonymous(frame)
            raise AuthFailed("auth_required", "Send an `auth` frame first.")
        if self.token_expires_at is not None and datetime.now(tz=UTC) >= self.token_expires_at:
            raise TokenExpired()
        if isinstance(frame, MessageFrame):
            return await self._generate(frame, refinement=False)
        if isinstance(frame, RefinementFrame):
            return await self._generate(frame, refinement=True)
        if isinstance(frame, SaveFrame):
            return await self._save(frame)
        if isinstance(frame, CancelFrame):
            return await self._cancel(frame)
        if isinstance(frame, ResumeFrame):
            return await self._resume(frame)
        if isinstance(frame, HistoryFrame):
            return await self._history(frame)
        if isinstance(frame, FeedbackFrame):
            return await self._feedback(frame)
        raise UnknownType()

    def anonymous_allowed(self) -> bool:
        """Whether frames may be served without signing in (the tutor chat, where allowed)."""
        return False

    async def _dispatch_anonymous(self, frame: ClientFrame) -> None:
        raise AuthFailed("auth_required", "Send an `auth` frame first.")

    # --- authentication -------------------------------------------------------------------

    async def _auth_timeout(self) -> None:
        await asyncio.sleep(settings.AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self._send(
                AuthFailed("auth_timeout", "No `auth` frame arrived in time.").to_frame(), None
            )
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
            count = await self.runtime.connections.add(user.pk, self.connection_id)
            self.registered = True
            if count > settings.MAX_CONNECTIONS_PER_USER:
                await self._send(
                    RateLimited(
                        f"Too many connections (limit {settings.MAX_CONNECTIONS_PER_USER}).",
                        retry_after=CONNECTION_RETRY_AFTER,
                    ).to_frame(),
                    request_id,
                )
                await self.close(code=CloseCode.TOO_MANY_CONNECTIONS)
                return
        await self._send({"type": "auth_success", "user": user_payload(user)}, request_id)

    # --- generation -----------------------------------------------------------------------

    async def _generate(self, frame: MessageFrame | RefinementFrame, *, refinement: bool) -> None:
        await self._check_rate()
        prepared = await database_sync_to_async(turn_prepare)(
            user=self.user,
            kind_name=self.kind,
            content=frame.content,
            context=getattr(frame, "context", None),
            conversation_id=frame.conversation_id,
            refinement=refinement,
            model=self.runtime.agent.model,
            worker=WORKER_ID,
        )
        await self._start(
            prepared.job,
            created=prepared.created,
            title=prepared.conversation.title,
            request_id=frame.request_id,
        )

    async def _start(
        self, job: GenerationJob, *, created: bool, title: str, request_id: str | None
    ) -> None:
        """Announce a prepared generation, start it, and follow it on this socket."""
        ids = {"conversation_id": job.conversation_id}
        await self._send(
            {"type": "conversation", **ids, "kind": self.kind, "created": created, "title": title},
            request_id,
        )
        await self._send({"type": "started", **ids, "message_id": job.message_id}, request_id)
        self.runtime.runner.start(job)
        self._follow(job.message_id, after_index=-1, request_id=request_id)

    async def _check_rate(self) -> None:
        retry_after = await self.runtime.rate.hit(
            f"user:{self.user.pk}", settings.RATE_LIMIT_MESSAGES_PER_MINUTE
        )
        if retry_after > 0:
            raise RateLimited(retry_after=retry_after)

    def _follow(self, message_id: str, *, after_index: int, request_id: str | None) -> None:
        previous = self.follows.pop(message_id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(
            self._relay(message_id, after_index, request_id)
        )
        self.follows[message_id] = task
        task.add_done_callback(
            lambda t: (
                self.follows.pop(message_id, None) if self.follows.get(message_id) is t else None
            )
        )

    async def _relay(self, message_id: str, after_index: int, request_id: str | None) -> None:
        fallback = database_sync_to_async(lambda: replay_frames(message_id))
        try:
            async for frame in self.runtime.hub.follow(
                message_id, after_index=after_index, fallback=fallback
            ):
                await self._relay_frame(frame, request_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("relaying %s failed", message_id)

    async def _relay_frame(self, frame: dict[str, Any], request_id: str | None) -> None:
        """Send one frame of a followed generation (subclasses add to it)."""
        await self._send(frame, request_id)
        if frame["type"] == "streaming":
            metrics.chunk_sent(self.kind, frame["message_id"], frame["index"])

    async def _feedback(self, frame: FeedbackFrame) -> None:
        await database_sync_to_async(feedback_record)(
            user=self.user,
            message_id=frame.message_id,
            rating=frame.rating,
            comment=frame.comment,
        )
        await self._send(
            {"type": "feedback_saved", "message_id": str(frame.message_id)}, frame.request_id
        )

    async def _save(self, frame: SaveFrame) -> None:
        def save() -> Any:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=frame.conversation_id, kind=self.kind
            )
            return result_save(
                user=self.user, conversation=conversation, message_id=frame.message_id
            )

        outcome = await database_sync_to_async(save)()
        await self._send(
            {
                "type": "saved",
                "conversation_id": str(frame.conversation_id),
                "message_id": str(outcome.message_id),
                "objects": outcome.objects,
                "created": outcome.created,
            },
            frame.request_id,
        )

    async def _cancel(self, frame: CancelFrame) -> None:
        cid = str(frame.conversation_id)

        def running_message() -> str | None:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=cid, kind=self.kind
            )
            message = (
                conversation.messages.filter(status="streaming").order_by("-created_at").first()
            )
            return str(message.pk) if message else None

        message_id = await database_sync_to_async(running_message)()
        if message_id is None or not await self.runtime.request_cancel(cid):
            raise NotRunning(conversation_id=cid)
        if message_id not in self.follows:  # tell this socket how it ended, nothing else
            self._follow(message_id, after_index=10_000_000, request_id=frame.request_id)

    async def _resume(self, frame: ResumeFrame) -> None:
        def find() -> str:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=frame.conversation_id, kind=self.kind
            )
            message = message_get_for_user(
                user=self.user, conversation=conversation, message_id=frame.message_id
            )
            return str(message.pk)

        message_id = await database_sync_to_async(find)()
        self._follow(message_id, after_index=frame.after_index, request_id=frame.request_id)

    async def _history(self, frame: HistoryFrame) -> None:
        def page() -> dict[str, Any]:
            conversation = conversation_get_for_user(
                user=self.user, conversation_id=frame.conversation_id, kind=self.kind
            )
            messages, has_more = conversation_history(
                user=self.user, conversation=conversation, before=frame.before, limit=frame.limit
            )
            return history_frame(conversation, messages, has_more)

        await self._send(await database_sync_to_async(page)(), frame.request_id)

    async def _send(self, frame: dict[str, Any], request_id: str | None) -> None:
        if frame.get("type") in ("error", "auth_error"):
            metrics.error_frame(frame.get("code", ""))
        if request_id is not None:
            frame = {**frame, "request_id": request_id}
        await self.send(text_data=json.dumps(frame, separators=(",", ":"), ensure_ascii=False))


def _request_id(raw: dict[str, Any]) -> str | None:
    value = raw.get("request_id")
    return value if isinstance(value, str) and len(value) <= MAX_REQUEST_ID else None


def _utf8_encodable(raw: dict[str, Any]) -> bool:
    """Whether the parsed frame can be echoed back as UTF-8 (no lone surrogates in it)."""
    try:
        json.dumps(raw, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
