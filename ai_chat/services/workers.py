"""This process's identity, its heartbeat, and the sweep that finds dead processes' messages.

Each process that runs generations (web or Celery worker) writes a heartbeat to the
`heartbeats` cache, which every process sees: Redis, or without it files beside the broker's
(the embedded mode runs web and worker on one machine). A `streaming` message whose worker has
no heartbeat belongs to a process that died: it is marked `interrupted`.
"""

import logging
import os
import socket
import time
import uuid

from django.conf import settings
from django.core.cache import caches

from ai_chat.models import AIMessage
from ai_chat.services.conversations import messages_mark_interrupted

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
HEARTBEAT_SECONDS = settings.WORKER_HEARTBEAT_SECONDS
# A worker silent for three beats (and at least 5 s) is dead; the sweep runs as often.
HEARTBEAT_TTL = max(3 * HEARTBEAT_SECONDS, 5.0)
_KEY = "lectern:worker:{}"


def heartbeat() -> None:
    caches["heartbeats"].set(
        _KEY.format(WORKER_ID), time.time(), timeout=max(1, int(HEARTBEAT_TTL))
    )


def sweep_interrupted() -> int:
    """Mark the messages of dead workers `interrupted`; return how many."""
    workers = set(
        AIMessage.objects.filter(status=AIMessage.Status.STREAMING)
        .exclude(worker=WORKER_ID)
        .values_list("worker", flat=True)
        .distinct()
    )
    alive = caches["heartbeats"].get_many([_KEY.format(w) for w in workers])
    dead = [w for w in workers if _KEY.format(w) not in alive]
    count = messages_mark_interrupted(worker_ids=dead) if dead else 0
    if count:
        logger.warning("marked %d messages of stopped processes interrupted", count)
    return count
