"""EventsConsumer: `/ws/events/`, realtime rooms (PROTOCOL.md, "Events").

After signing in, a client subscribes to rooms; each `subscribed` answer carries the room's
snapshot and its current `seq`, and every event of the room arrives as an `event` frame with
the next `seq`. Every other frame is a declared client action (`realtime.registry`): one
dispatcher serves each by its declaration, and maps the refusals of services to the wire in
one place.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from ops import metrics
from realtime import registry
from realtime.membership import Membership
from realtime.protocol import events_parse
from realtime.runtime import realtime_service
from sockets.consumer import SignedInConsumer
from sockets.errors import Forbidden, InvalidMessage, NotFound, RateLimited, UnknownType


class EventsConsumer(SignedInConsumer):
    endpoint = "events"

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened."""
        self.membership = Membership(socket=self, runtime=await realtime_service())
        await super().connect()

    async def disconnect(self, code: int) -> None:
        """Called when the socket closes: leave every room."""
        await super().disconnect(code)
        await self.membership.leave_all()

    def parse(self, raw: dict[str, Any]) -> Any:
        return events_parse(raw)

    async def handle(self, frame: Any) -> None:
        """Serve a client action by its declaration; Django refusals become error frames."""
        action = registry.client_action_get(frame.type)
        if action is None:
            raise UnknownType()
        if action.limited:
            await self._count_frame()
        try:
            answer = await action.serve(self, frame)
        except PermissionDenied as denied:
            raise Forbidden(str(denied) or None) from None
        except ObjectDoesNotExist as missing:
            raise NotFound(str(missing) or None) from None
        except ValidationError as invalid:
            raise InvalidMessage(" ".join(invalid.messages)) from None
        await self.send_frame(answer, frame.request_id)

    async def _count_frame(self) -> None:
        """One frame against the user's budget on this endpoint (shared by their sockets)."""
        per_minute = settings.EVENTS_RATE_LIMIT_PER_MINUTE
        retry_after = await self.runtime.rate.hit(f"events:{self.user.pk}", per_minute)
        if retry_after > 0:
            raise RateLimited(
                f"Too many frames (limit {per_minute} a minute); slow down.",
                retry_after=retry_after,
            )

    async def room_event(self, message: dict[str, Any]) -> None:
        """Called with each event published to a room this socket is in (`room.event`)."""
        frame = message["frame"]
        if frame.get("room") in self.membership:  # not one still in flight after `unsubscribe`
            await self.send_frame(frame, None)
            metrics.event_delivered(frame.get("event", ""))
