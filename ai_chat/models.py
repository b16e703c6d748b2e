"""The conversation store: conversations, messages, provenance of saved rows, feedback, usage."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def kind_registered(value: str) -> None:
    """Validator of `AIConversation.kind`: the kinds are the registry's, not a database list."""
    from ai_chat.kinds import KINDS

    if value not in KINDS:
        raise ValidationError(f"{value!r} is not a registered kind.", code="invalid_choice")


class AIConversation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_conversations"
    )
    # A name of `ai_chat.kinds.KINDS`; no database list, so a new kind needs no migration.
    kind = models.CharField(max_length=20, validators=[kind_registered])
    title = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # What the conversation is about (`Kind.resolve_target`): a row of any model, or nothing.
    target_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    flagged_for_review = models.BooleanField(default=False)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    # Bounded context: the summary of the earliest `summary_turns` turns (questions and
    # answers), sent instead of them (ai_chat/services/context.py).
    summary = models.TextField(blank=True)
    summary_turns = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI conversation"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["user", "-updated_at"]),
            models.Index(fields=["kind", "-updated_at"]),
            models.Index(fields=["target_type", "target_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "archived"]), name="ai_conversation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} conversation {self.pk}"


class AIMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class Origin(models.TextChoices):
        MODEL = "", "model"
        CACHE = "cache", "answer cache"
        FALLBACK = "fallback", "fallback (every provider was down)"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        INTERRUPTED = "interrupted"

    ENDED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        AIConversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField(blank=True)
    # User messages: the whole turn sent to the model (content plus the context it was given).
    prompt = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETED)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=50, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    # The process that runs a streaming message; a message whose process died is `interrupted`.
    worker = models.CharField(max_length=100, blank=True)
    # Tokens of the daily budget held for this generation until it ends (0 once settled), so a
    # generation whose process died gives its reservation back when it is marked interrupted.
    reserved_tokens = models.PositiveIntegerField(default=0)
    # Where an assistant message's answer came from: the model (""), the tutor's answer cache,
    # or the fallback built from the lesson when every provider was down.
    origin = models.CharField(max_length=20, choices=Origin.choices, default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "AI message"
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["status", "worker"]),
            # The running generations only: every start counts its user's (`busy`). Messages
            # go from streaming to an end within minutes, so this index stays small, where the
            # one above keeps an entry per update until vacuum: a soak at 1,000 generations a
            # minute drove that count to 66 ms (bench/README.md, issue 12).
            models.Index(
                fields=["conversation"],
                condition=Q(status="streaming"),
                name="ai_message_streaming",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["user", "assistant"]), name="ai_message_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["streaming", "completed", "failed", "cancelled", "interrupted"]
                ),
                name="ai_message_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class AIProviderAttempt(models.Model):
    """One provider asked (or skipped) for an assistant message: the chain's action register."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered"
        UNAVAILABLE = "unavailable"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    message = models.ForeignKey(
        AIMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_attempts",
    )
    position = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error_code = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    first_chunk_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField()
    started_at = models.DateTimeField()

    class Meta:
        verbose_name = "AI provider attempt"
        ordering = ["message", "position"]
        indexes = [models.Index(fields=["provider", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.outcome}"


class AIResultSave(models.Model):
    """One accepted result: `save` of an assistant message. At most one per message."""

    message = models.OneToOneField(AIMessage, on_delete=models.CASCADE, related_name="save_record")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "AI result save"

    def __str__(self) -> str:
        return f"save of {self.message_id}"


class AIGeneratedObject(models.Model):
    """Provenance: a domain row written by saving an assistant message."""

    save_record = models.ForeignKey(AIResultSave, on_delete=models.CASCADE, related_name="written")
    message = models.ForeignKey(AIMessage, on_delete=models.CASCADE, related_name="generated")
    position = models.PositiveIntegerField()
    # One of the saving kind's `object_types`.
    object_type = models.CharField(max_length=30)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    created = models.BooleanField(default=True, help_text="False when the row was updated.")

    class Meta:
        verbose_name = "AI generated object"
        ordering = ["save_record", "position"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["save_record", "position"], name="ai_generated_object_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id}"


class AIFeedback(models.Model):
    message = models.ForeignKey(AIMessage, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.SmallIntegerField(help_text="1 (poor) to 5 (excellent).")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI feedback"
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="ai_feedback_once_per_user"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="ai_feedback_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.message_id}"


class AIDailyUsage(models.Model):
    """Tokens a user spent (and holds reserved) on one UTC day: the daily budget's ledger."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    used_tokens = models.PositiveBigIntegerField(default=0)
    reserved_tokens = models.PositiveBigIntegerField(default=0)
    generations = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "AI daily usage"
        verbose_name_plural = "AI daily usage"
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="ai_daily_usage_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.used_tokens}"


class AIWorker(models.Model):
    """A process that runs generations (a web server or a background worker), alive while its
    heartbeat is fresh. In the database so that every process on it sees every other, with or
    without Redis: a sweep never takes a live process's generations for a dead one's."""

    worker_id = models.CharField(max_length=100, primary_key=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = "AI worker process"

    def __str__(self) -> str:
        return self.worker_id
