"""BaseAIConsumer: what every generation endpoint does with a signed-in user's frames.

Signing in, parsing and error mapping are `SignedInConsumer`'s. Each frame is validated into a
pydantic model and branched on by class (a client's `type` never becomes a method name).
Generations run in the process's runner, not in this consumer: this socket only follows
them, so `cancel`, `ping` and other conversations keep working while one streams, and a
disconnect does not stop a generation.
"""

import asyncio
import logging
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.consumers.frames import history_frame, replay_frames
from ai_chat.exceptions import MessageTooLong, NotRunning
from ai_chat.protocol import (
    CLIENT_FRAME_TYPES,
    CancelFrame,
    FeedbackFrame,
    HistoryFrame,
    MessageFrame,
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
from ai_chat.services.runtime import GenerationService, generation_service
from ai_chat.services.saving import result_save
from ai_chat.services.turns import turn_prepare
from ai_chat.services.workers import WORKER_ID
from ops import metrics
from sockets.consumer import ClientGone, SignedInConsumer
from sockets.errors import RateLimited, UnknownType
from sockets.frames import ClientFrame, parse_client_frame

logger = logging.getLogger(__name__)


class BaseAIConsumer(SignedInConsumer):
    """A generation endpoint. Subclasses declare `kind` and little else."""

    kind: ClassVar[str]
    # The AI endpoints never receive channel-layer messages, so they take no channel: Channels
    # runs a consumer whose alias is not configured without a layer. That saves each socket a
    # receive task and a channel (with Redis: a subscription), about 3 KiB (bench/README.md).
    channel_layer_alias = "lectern: AI sockets use no channel layer"

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

    def parse(self, raw: dict[str, Any]) -> ClientFrame:
        frame: ClientFrame = parse_client_frame(raw, client_frame_adapter, CLIENT_FRAME_TYPES)
        content = getattr(frame, "content", None)
        if content is not None and len(content) > settings.MAX_MESSAGE_LENGTH:
            raise MessageTooLong(
                f"The message is {len(content)} characters; the limit is "
                f"{settings.MAX_MESSAGE_LENGTH}."
            )
        return frame

    async def handle(self, frame: ClientFrame) -> None:
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
            model=self.generation.agent.model,
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
        await self.send_frame(
            {"type": "conversation", **ids, "kind": self.kind, "created": created, "title": title},
            request_id,
        )
        await self.send_frame({"type": "started", **ids, "message_id": job.message_id}, request_id)
        self.generation.runner.start(job)
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
            async for frame in self.generation.hub.follow(
                message_id, after_index=after_index, fallback=fallback
            ):
                await self._relay_frame(frame, request_id)
        except asyncio.CancelledError:
            raise
        except ClientGone:  # the client left mid-stream; the generation goes on, resumable
            logger.debug("stopped relaying %s: the client disconnected", message_id)
        except Exception:
            logger.exception("relaying %s failed", message_id)

    async def _relay_frame(self, frame: dict[str, Any], request_id: str | None) -> None:
        """Send one frame of a followed generation (subclasses add to it)."""
        await self.send_frame(frame, request_id)
        if frame["type"] == "streaming":
            metrics.chunk_sent(self.kind, frame["message_id"], frame["index"])

    async def _feedback(self, frame: FeedbackFrame) -> None:
        await database_sync_to_async(feedback_record)(
            user=self.user,
            message_id=frame.message_id,
            rating=frame.rating,
            comment=frame.comment,
        )
        await self.send_frame(
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
        await self.send_frame(
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
        if message_id is None or not await self.generation.request_cancel(cid):
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

        await self.send_frame(await database_sync_to_async(page)(), frame.request_id)
