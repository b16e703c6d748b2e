"""Realtime's own declarations (made in `RealtimeConfig.ready`, before any app's): `user:`
rooms with their notifications, `subscribe`, `unsubscribe`, `mark_read`, and the
`notification` and `presence` events."""

from typing import Any

from pydantic import Field

from realtime import actions, registry
from realtime.notifications import notifications_unread_count, notifications_unread_newest
from realtime.protocol import MarkReadFrame, SubscribeFrame, UnsubscribeFrame
from realtime.registry import ClientAction, EventKind, RoomKind, SnapshotPart
from realtime.server_frames import NotificationItem, NotificationsRead, PresenceItem


def user_room_may_join(*, user: Any, room_id: int) -> bool:
    """`user:{id}`: that user only."""
    return bool(room_id == user.pk)


def realtime_declare() -> None:
    """Declare what realtime itself owns."""
    registry.room_kind_register(
        RoomKind(name="user", may_join=user_room_may_join, who="that user only (oneself)")
    )
    for part in (
        SnapshotPart(
            key="notifications",
            annotation=list[NotificationItem],
            description="The newest 50 unread.",
            read=lambda *, user, room_id: notifications_unread_newest(user=user),
        ),
        SnapshotPart(
            key="unread_count",
            annotation=int,
            read=lambda *, user, room_id: notifications_unread_count(user=user),
        ),
    ):
        registry.snapshot_part_register(room_kind="user", part=part)
    _actions_declare()
    for event, action, payload in (
        ("notification", "create", NotificationItem),
        ("notification", "update", NotificationsRead),
        ("presence", "create", PresenceItem),
        ("presence", "delete", PresenceItem),
    ):
        registry.event_register(EventKind(event=event, action=action, payload=payload))


def _actions_declare() -> None:
    registry.client_action_register(
        ClientAction(
            frame=SubscribeFrame,
            summary="Join a room (or re-sync one already joined): answered with its snapshot "
            "and current `seq`, or `error` `forbidden`.",
            serve=actions.subscribe,
            reply="subscribed",
        )
    )
    registry.client_action_register(
        ClientAction(
            frame=UnsubscribeFrame,
            summary="Leave a room; answered `unsubscribed` even when it was not joined.",
            serve=actions.unsubscribe,
            reply="unsubscribed",
            limited=False,  # leaving costs the server nothing
        )
    )
    registry.client_action_register(
        actions.service_action(
            frame=MarkReadFrame,
            summary="Mark some of your notifications read.",
            run=actions.mark_read,
            ack={
                "notification_ids": (
                    list[int] | None,
                    Field(default=None, description="mark_read: marked."),
                )
            },
        )
    )
