"""Background generation jobs: one row per lesson generation; the broker only points at it."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class LessonJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_jobs"
    )
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    force = models.BooleanField(default=False)
    # What the lesson goes back to when the job is cancelled before it wrote anything.
    previous_status = models.CharField(max_length=20, default="pending")
    # Lesson, skeleton hash and prompt version: the same request twice is the same job.
    idempotency_key = models.CharField(max_length=200)
    attempts = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=50, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    # The attempt that holds the job: only its holder may heartbeat or finish it.
    lease_token = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    conversation = models.ForeignKey(
        "ai_chat.AIConversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    message = models.ForeignKey(
        "ai_chat.AIMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["user", "status"]),
            models.Index(fields=["lesson", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]),
                name="lesson_job_status_valid",
            ),
            # At most one live job per lesson, whatever the races above it.
            models.UniqueConstraint(
                fields=["lesson"],
                condition=Q(status__in=["queued", "running"]),
                name="lesson_job_one_active_per_lesson",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} for lesson {self.lesson_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
