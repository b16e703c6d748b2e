"""BaseAIConsumer: what every generation endpoint does with its frames, in one dispatcher.

Signing in, decoding and the error path are `SignedInConsumer`'s. Each frame is validated into a
pydantic model and branched on by class (a client's `type` never becomes a method name), then
served through the socket's conversation store: the database for a signed-in user, the
connection for an anonymous tutor chat. Generations run in the process's runner, not in this
consumer: the socket only follows them, so `cancel`, `ping` and other conversations keep
working while one streams, and a disconnect does not stop a generation.
"""

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

from django.conf import settings

from ai_chat.exceptions import MessageTooLong, NotRunning
from ai_chat.protocol import (
    CLIENT_FRAME_TYPES,
    CancelFrame,
    ConversationsFrame,
    FeedbackFrame,
    HistoryFrame,
    MessageFrame,
    RefinementFrame,
    ResumeFrame,
    SaveFrame,
    UpdateConversationFrame,
    client_frame_adapter,
)
from ai_chat.server_frames import (
    CancelledFrame,
    CompleteFrame,
    ConversationFrame,
    FeedbackSavedFrame,
    StartedFrame,
    StreamingFrame,
    TypingFrame,
)
from ai_chat.services.runtime import GenerationService, generation_service
from ai_chat.services.streams import is_final
from ai_chat.stores.base import ConversationStore, PreparedTurn
from ai_chat.stores.database import DatabaseStore
from ai_chat.stores.memory import MemoryStore
from ops import metrics
from sockets.addresses import client_address
from sockets.consumer import ClientGone, SignedInConsumer
from sockets.errors import InternalError, NotFound, RateLimited, UnknownType
from sockets.frames import ClientFrame, parse_client_frame
from sockets.server_frames import ErrorFrame, ServerFrame

logger = logging.getLogger(__name__)

# Beyond the last index any generation can reach: `cancel` follows a message only to its end.
END_ONLY = 10_000_000


class BaseAIConsumer(SignedInConsumer):
    """A generation endpoint: subclasses declare `kind` and little else."""

    kind: str  # a registered kind; routing gives it: `as_asgi(kind="quiz")`
    # Tutor chat: `typing` frames around each answer.
    typing_frames: ClassVar[bool] = False
    # The setting that lets clients use the endpoint without signing in (None: never).
    anonymous_setting: ClassVar[str | None] = None
    # The AI endpoints never receive channel-layer messages, so they take no channel: Channels
    # runs a consumer whose alias is not configured without a layer. That saves each socket a
    # receive task and a channel (with Redis: a subscription), about 3 KiB (bench/README.md).
    channel_layer_alias = "lectern: AI sockets use no channel layer"

    # Set on the first frame served: the database for a signed-in user, else the connection.
    store: ConversationStore | None = None

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind is not None:
            self.kind = kind

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return self.kind

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.generation: GenerationService = await generation_service()
        self.follows: dict[str, asyncio.Task[None]] = {}
        await super().connect()

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: stop following, keep generations running."""
        for task in self.follows.values():
            task.cancel()
        await super().disconnect(code)

    def anonymous_allowed(self) -> bool:
        return self.anonymous_setting is not None and bool(
            getattr(settings, self.anonymous_setting)
        )

    def parse(self, raw: dict[str, Any]) -> ClientFrame:
        frame: ClientFrame = parse_client_frame(raw, client_frame_adapter, CLIENT_FRAME_TYPES)
        content = getattr(frame, "content", None)
        if content is not None and len(content) > settings.MAX_MESSAGE_LENGTH:
            raise MessageTooLong(
                f"The message is {len(content)} characters; the limit is "
                f"{settings.MAX_MESSAGE_LENGTH}."
            )
        return frame

    async def handle_anonymous(self, frame: Any) -> None:
        if not self.anonymous_allowed():
            return await super().handle_anonymous(frame)
        if self.store is None:
            self.store = MemoryStore(address=client_address(self.scope))
        await self.serve(frame, self.store)

    async def handle(self, frame: Any) -> None:
        if not isinstance(self.store, DatabaseStore):
            self.store = DatabaseStore(self.user)
        await self.serve(frame, self.store)

    async def serve(self, frame: Any, store: ConversationStore) -> None:
        """The one dispatcher of the generation endpoints."""
        rid = frame.request_id
        if isinstance(frame, MessageFrame | RefinementFrame):
            return await self._generate(frame, store)
        if isinstance(frame, SaveFrame):
            saved = await store.save(
                kind=self.kind, conversation_id=frame.conversation_id, message_id=frame.message_id
            )
            return await self.send_frame(saved, rid)
        if isinstance(frame, CancelFrame):
            return await self._cancel(frame, store)
        if isinstance(frame, ResumeFrame):
            return await self._resume(frame, store)
        if isinstance(frame, HistoryFrame):
            page = await store.history(
                kind=self.kind,
                conversation_id=frame.conversation_id,
                before=frame.before,
                limit=frame.limit,
            )
            return await self.send_frame(page, rid)
        if isinstance(frame, FeedbackFrame):
            await store.feedback(
                message_id=frame.message_id, rating=frame.rating, comment=frame.comment
            )
            return await self.send_frame(FeedbackSavedFrame.make(message_id=frame.message_id), rid)
        if isinstance(frame, ConversationsFrame):
            listed = await store.list_conversations(
                kind=self.kind, archived=frame.archived, page=frame.page, page_size=frame.page_size
            )
            return await self.send_frame(listed, rid)
        if isinstance(frame, UpdateConversationFrame):
            updated = await store.update_conversation(
                kind=self.kind,
                conversation_id=frame.conversation_id,
                title=frame.title,
                archived=frame.archived,
            )
            return await self.send_frame(updated, rid)
        raise UnknownType()

    # --- generation -----------------------------------------------------------------------

    async def _generate(
        self, frame: MessageFrame | RefinementFrame, store: ConversationStore
    ) -> None:
        retry_after = await self.runtime.rate.hit(store.rate_key, store.rate_per_minute)
        if retry_after > 0:
            raise RateLimited(retry_after=retry_after)
        turn = await store.prepare(
            kind=self.kind,
            content=frame.content,
            context=getattr(frame, "context", None),
            conversation_id=frame.conversation_id,
            refinement=isinstance(frame, RefinementFrame),
            model=self.generation.agent.model,
        )
        await self._start(turn, store, frame.request_id)

    async def _start(
        self, turn: PreparedTurn, store: ConversationStore, request_id: str | None
    ) -> None:
        """Announce a prepared generation, start it, and follow it on this socket."""
        job = turn.job
        ids = {"conversation_id": job.conversation_uuid}
        await self.send_frame(
            ConversationFrame.make(**ids, kind=self.kind, created=turn.created, title=turn.title),
            request_id,
        )
        await self.send_frame(StartedFrame.make(**ids, message_id=job.message_uuid), request_id)
        self.generation.runner.start(job)
        if self.typing_frames:
            await self.send_frame(
                TypingFrame.make(**ids, message_id=job.message_uuid, active=True), request_id
            )
        self._follow(job.message_id, store, after_index=-1, request_id=request_id)

    async def _cancel(self, frame: CancelFrame, store: ConversationStore) -> None:
        cid = str(frame.conversation_id)
        message_id = await store.running(kind=self.kind, conversation_id=frame.conversation_id)
        if message_id is None or not await self.generation.request_cancel(
            cid, across_processes=store.shared
        ):
            raise NotRunning(conversation_id=cid)
        if message_id not in self.follows:  # tell this socket how it ended, nothing else
            self._follow(message_id, store, after_index=END_ONLY, request_id=frame.request_id)

    async def _resume(self, frame: ResumeFrame, store: ConversationStore) -> None:
        message_id = await store.resumable(
            kind=self.kind, conversation_id=frame.conversation_id, message_id=frame.message_id
        )
        if not store.shared and not self.generation.hub.is_local(message_id):
            raise NotFound("Message not found.", conversation_id=str(frame.conversation_id))
        self._follow(message_id, store, after_index=frame.after_index, request_id=frame.request_id)

    # --- following a generation -----------------------------------------------------------

    def _follow(
        self,
        message_id: str,
        store: ConversationStore,
        *,
        after_index: int,
        request_id: str | None,
    ) -> None:
        previous = self.follows.pop(message_id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(
            self._relay(message_id, store, after_index, request_id)
        )
        self.follows[message_id] = task
        task.add_done_callback(
            lambda t: (
                self.follows.pop(message_id, None) if self.follows.get(message_id) is t else None
            )
        )

    async def _relay(
        self,
        message_id: str,
        store: ConversationStore,
        after_index: int,
        request_id: str | None,
    ) -> None:
        try:
            async for frame in self.generation.hub.follow(
                message_id, after_index=after_index, fallback=lambda: store.replay(message_id)
            ):
                await self._relay_frame(frame, message_id, request_id)
        except asyncio.CancelledError:
            raise
        except ClientGone:  # the client left mid-stream; the generation goes on, resumable
            logger.debug("stopped relaying %s: the client disconnected", message_id)
        except Exception:
            # Following failed (Redis gone mid-stream): say so, so the client can `resume`.
            logger.exception("relaying %s failed", message_id)
            lost = InternalError(
                "Lost the stream of this generation; send `resume` to continue it."
            )
            with contextlib.suppress(Exception):  # the socket itself may be what failed
                await self.send_frame(lost.to_frame(message_id=message_id), request_id)

    async def _relay_frame(
        self, frame: ServerFrame, message_id: str, request_id: str | None
    ) -> None:
        """Send one frame of a followed generation (`typing` off just before its end)."""
        if self.typing_frames and is_final(frame):
            assert isinstance(frame, CompleteFrame | CancelledFrame | ErrorFrame)
            typing = TypingFrame.make(
                conversation_id=frame.conversation_id, message_id=frame.message_id, active=False
            )
            await self.send_frame(typing, request_id)
        await self.send_frame(frame, request_id)
        if isinstance(frame, StreamingFrame):
            metrics.chunk_sent(self.kind, message_id, frame.index)
