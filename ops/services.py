"""Operations services: asking a worker to answer, and waiting for its answer."""

import time
import uuid

from django.conf import settings

from ops.models import WorkerPing
from ops.tasks import ping


def worker_ping_send(*, queue: str = settings.AI_QUEUE) -> str:
    """Queue a ping on `queue`; return the token its answer will carry."""
    token = uuid.uuid4().hex
    ping.apply_async(args=[token], queue=queue)
    return token


def worker_ping_wait(*, token: str, timeout: float) -> WorkerPing | None:
    """The worker's answer to `token`, or None if none came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = WorkerPing.objects.filter(token=token).first()
        if answer is not None or time.monotonic() >= deadline:
            return answer
        time.sleep(0.2)
