"""EventsConsumer: `/ws/events/`, realtime rooms (PROTOCOL.md, "Events").

After signing in, a client subscribes to rooms; each `subscribed` answer carries the room's
snapshot and its current `seq`, and every event of the room arrives as an `event` frame with
the next `seq`. Subscribing to a course or lesson room is viewing it (presence). The client's
actions (progress, confusion, mark read) go to the learning and notification services, which
publish the resulting events after their transaction commits.
"""

import logging
from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from learning.payloads import confusion_payload, progress_payload
from learning.selectors import lesson_get_viewable
from learning.services import confusion_create, confusion_resolve, progress_record
from ops import metrics
from realtime.notifications import notifications_mark_read
from realtime.protocol import (
    EVENTS_FRAME_TYPES,
    ConfusionFrame,
    MarkReadFrame,
    ProgressFrame,
    ResolveConfusionFrame,
    SubscribeFrame,
    UnsubscribeFrame,
    events_frame_adapter,
)
from realtime.rooms import InvalidRoom, Room, parse_room, room_may_join
from realtime.runtime import RealtimeRuntime, realtime_service
from realtime.sequence import acurrent_seq
from realtime.snapshots import build_snapshot
from sockets.consumer import SignedInConsumer
from sockets.errors import Forbidden, InvalidMessage, NotFound, UnknownType
from sockets.frames import parse_client_frame

logger = logging.getLogger(__name__)


class EventsConsumer(SignedInConsumer):
    endpoint = "events"

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.rooms: dict[str, Room] = {}
        self.realtime: RealtimeRuntime = await realtime_service()
        await super().connect()

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: leave every room, each on its own."""
        await super().disconnect(code)
        for room in list(self.rooms.values()):
            try:
                await self._leave(room)
            except Exception:  # one room failing must not keep the others
                logger.exception("leaving %s failed", room)

    def parse(self, raw: dict[str, Any]) -> Any:
        return parse_client_frame(raw, events_frame_adapter, EVENTS_FRAME_TYPES)

    async def handle(self, frame: Any) -> None:
        rid = frame.request_id
        if isinstance(frame, SubscribeFrame):
            return await self._subscribe(self._room(frame.room), rid)
        if isinstance(frame, UnsubscribeFrame):
            room = self._room(frame.room)
            if room.name in self.rooms:
                await self._leave(room)
            return await self.send_frame({"type": "unsubscribed", "room": room.name}, rid)
        try:
            answer = await database_sync_to_async(self._act)(frame)
        except PermissionDenied as denied:
            raise Forbidden(str(denied) or None) from None
        except ObjectDoesNotExist:
            raise NotFound() from None
        except ValidationError as invalid:
            raise InvalidMessage(" ".join(invalid.messages)) from None
        await self.send_frame({"type": "ack", "of": frame.type, **answer}, rid)

    # --- rooms ----------------------------------------------------------------------------

    def _room(self, name: str) -> Room:
        try:
            return parse_room(name)
        except InvalidRoom as exc:
            raise InvalidMessage(details=[{"field": "room", "message": str(exc)}]) from None

    async def _subscribe(self, room: Room, request_id: str | None) -> None:
        """Join (once) and answer with the room's seq and snapshot: also the re-sync path."""
        if not await database_sync_to_async(room_may_join)(user=self.user, room=room):
            raise Forbidden("You may not join this room, or it does not exist.")
        if room.name not in self.rooms:
            await self.channel_layer.group_add(room.group, self.channel_name)
            self.rooms[room.name] = room
            if room.has_presence:
                joined, left = await self.realtime.presence.join(
                    room.name, self.user.pk, self.connection_id
                )
                await self.realtime.announce(
                    room.name, joined=[self.user.pk] if joined else [], left=left
                )
        # The seq before the snapshot: every event numbered after it reaches this socket (the
        # group is joined), and every event up to it is in the snapshot.
        seq = await acurrent_seq(room.name)
        snapshot = await build_snapshot(user=self.user, room=room, presence=self.realtime.presence)
        frame = {"type": "subscribed", "room": room.name, "snapshot": snapshot, "seq": seq}
        await self.send_frame(frame, request_id)

    async def _leave(self, room: Room) -> None:
        self.rooms.pop(room.name, None)
        await self.channel_layer.group_discard(room.group, self.channel_name)
        if room.has_presence:
            left = await self.realtime.presence.leave(room.name, self.user.pk, self.connection_id)
            await self.realtime.announce(room.name, left=left)

    async def room_event(self, message: dict[str, Any]) -> None:
        """Called with each event published to a room this socket is in (`room.event`)."""
        frame = message["frame"]
        if frame.get("room") in self.rooms:  # not one still in flight after `unsubscribe`
            await self.send_frame(frame, None)
            metrics.event_delivered(frame.get("event", ""))

    # --- actions (in a worker thread) -----------------------------------------------------

    def _act(self, frame: Any) -> dict[str, Any]:
        user = self.user
        if isinstance(frame, MarkReadFrame):
            ids = notifications_mark_read(user=user, notification_ids=frame.notification_ids)
            return {"notification_ids": ids}
        if isinstance(frame, ResolveConfusionFrame):
            confusion = confusion_resolve(user=user, confusion_id=frame.confusion_id)
            return {"confusion": confusion_payload(confusion)}
        lesson = lesson_get_viewable(user=user, lesson_id=frame.lesson_id)
        if lesson is None:
            raise NotFound("No such lesson.")
        if isinstance(frame, ProgressFrame):
            progress = progress_record(
                learner=user, lesson=lesson, percent=frame.percent, position=frame.position
            )
            return {"progress": progress_payload(progress)}
        if isinstance(frame, ConfusionFrame):
            confusion = confusion_create(
                learner=user, lesson=lesson, position=frame.position, note=frame.note
            )
            return {"confusion": confusion_payload(confusion)}
        raise UnknownType()
