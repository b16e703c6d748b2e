"""This process's identity, its heartbeat, and the sweep that finds dead processes' messages.

Every process that runs generations (web servers and background workers alike) writes a
heartbeat row (`AIWorker`) every WORKER_HEARTBEAT_SECONDS. A `streaming` message whose worker
has not beaten for three beats belongs to a process that died: the sweep marks it
`interrupted` and gives its token reservation back. The heartbeats live in the database, not a
per-process cache, so several processes on one database sweep safely with or without Redis.
"""

import datetime as dt
import logging
import os
import socket
import uuid

from django.conf import settings
from django.utils import timezone

from ai_chat.models import AIMessage, AIWorker
from ai_chat.services.conversations import messages_mark_interrupted

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
HEARTBEAT_SECONDS = settings.WORKER_HEARTBEAT_SECONDS
# A worker silent for three beats (and at least 5 s) is dead; the sweep runs as often.
HEARTBEAT_TTL = max(3 * HEARTBEAT_SECONDS, 5.0)


def worker_id() -> str:
    """This process's id (a forked child gets its own: the pid is part of it)."""
    global WORKER_ID
    if f":{os.getpid()}:" not in WORKER_ID:
        WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return WORKER_ID


def heartbeat() -> None:
    """Say this process is alive (one upsert)."""
    AIWorker.objects.update_or_create(worker_id=worker_id(), defaults={"beat_at": timezone.now()})


def sweep_interrupted() -> int:
    """Mark the messages of dead workers `interrupted`; return how many."""
    me = worker_id()
    workers = set(
        AIMessage.objects.filter(status=AIMessage.Status.STREAMING)
        .exclude(worker=me)
        .values_list("worker", flat=True)
        .distinct()
    )
    if not workers:
        return 0
    fresh_since = timezone.now() - dt.timedelta(seconds=HEARTBEAT_TTL)
    alive = set(
        AIWorker.objects.filter(worker_id__in=workers, beat_at__gte=fresh_since).values_list(
            "worker_id", flat=True
        )
    )
    dead = sorted(workers - alive)
    count = messages_mark_interrupted(worker_ids=dead) if dead else 0
    if count:
        logger.warning("marked %d messages of stopped processes interrupted", count)
    AIWorker.objects.filter(beat_at__lt=fresh_since - dt.timedelta(days=1)).delete()
    return count
