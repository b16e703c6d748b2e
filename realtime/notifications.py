"""Notifications: stored, sent live to their user's room, marked read by that user only."""

import threading
import time
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from realtime.models import Notification
from realtime.publish import publish_event

UNREAD_IN_SNAPSHOT = 50
# Ids this process stored, and so published itself, with when: the notification poll of a
# server without a shared channel layer (realtime/notification_poll.py) skips them.
PUBLISHED_HERE_SECONDS = 300
_lock = threading.Lock()
_published_here: dict[int, float] = {}


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


@transaction.atomic
def notification_create(
    *, user: Any, title: str, body: str = "", data: dict[str, Any] | None = None
) -> Notification:
    """Store a notification; once committed, send it to `user:{id}` (`notification` `create`)."""
    notification = Notification.objects.create(
        user=user, title=title[:200], body=body, data=data or {}
    )
    publish_event(
        room=f"user:{user.pk}",
        event="notification",
        action="create",
        payload=notification_payload(notification),
    )
    _note_published_here(notification.pk)
    return notification


def _note_published_here(notification_id: int) -> None:
    now = time.monotonic()
    with _lock:
        _published_here[notification_id] = now
        for stale in [i for i, at in _published_here.items() if now - at > PUBLISHED_HERE_SECONDS]:
            del _published_here[stale]


def notifications_published_here() -> set[int]:
    """Ids of the notifications this process stored (in the last few minutes)."""
    with _lock:
        return set(_published_here)


@transaction.atomic
def notifications_mark_read(*, user: Any, notification_ids: Iterable[int]) -> list[int]:
    """Mark the user's own unread notifications among `notification_ids` read; return their ids.

    Others' notifications and ones already read are left alone (and not named). The user's
    other devices hear `notification` `update` with the ids and the time.
    """
    ids = sorted(
        Notification.objects.select_for_update()
        .filter(user=user, pk__in=list(notification_ids), read_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    read_at = timezone.now()
    Notification.objects.filter(pk__in=ids).update(read_at=read_at)
    publish_event(
        room=f"user:{user.pk}",
        event="notification",
        action="update",
        payload={"notification_ids": ids, "read_at": read_at},
    )
    return ids


def notifications_unread_newest(*, user: Any, limit: int = UNREAD_IN_SNAPSHOT) -> list[Any]:
    """The user's newest unread notifications, as payloads."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    return [notification_payload(n) for n in unread[:limit]]


def notifications_unread_count(*, user: Any) -> int:
    """How many of the user's notifications are unread in all."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
