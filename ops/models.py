"""What operations keep in the database: the answers workers gave to pings."""

from django.db import models


class WorkerPing(models.Model):
    """A worker ran `ops.tasks.ping`: proof that the broker, the queue and a worker work."""

    token = models.CharField(max_length=64, unique=True)
    queue = models.CharField(max_length=64, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hostname} on {self.queue} ({self.token})"
