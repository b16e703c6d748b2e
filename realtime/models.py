"""Stored notifications: sent live to `user:{id}`, kept with their read state."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class RelayedEvent(models.Model):
    """An event a worker published without a shared channel layer, for the web process to send.

    Only the embedded defaults use it (no REDIS_URL: the in-memory layer of a Celery worker
    reaches no socket): realtime/relay.py.
    """

    room = models.CharField(max_length=200)
    event = models.CharField(max_length=50)
    action = models.CharField(max_length=20)
    payload = models.JSONField(default=dict)
    timestamp = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.event}/{self.action} to {self.room}"
