"""Operations tasks: a ping that proves a worker takes messages from a queue and can write."""

from typing import Any

from celery import shared_task

from ops.models import WorkerPing


@shared_task(bind=True, name="ops.tasks.ping", max_retries=3)
def ping(self: Any, token: str) -> None:
    """Record that a worker answered `token`; run twice, it records once."""
    delivery = self.request.delivery_info or {}
    WorkerPing.objects.get_or_create(
        token=token,
        defaults={
            "queue": str(delivery.get("routing_key") or ""),
            "hostname": str(self.request.hostname or ""),
        },
    )
