"""Lessons, with the state of their AI generation."""

from django.db import models
from django.db.models import Q


class Lesson(models.Model):
    class GenerationStatus(models.TextChoices):
        PENDING = "pending"
        GENERATING = "generating"
        COMPLETED = "completed"
        FAILED = "failed"

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="lessons")
    module = models.ForeignKey(
        "courses.Module", on_delete=models.CASCADE, related_name="lessons", null=True, blank=True
    )
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    objectives = models.JSONField(default=list, blank=True)
    outline = models.JSONField(default=list, blank=True)
    content = models.TextField(blank=True, help_text="Markdown.")
    key_terms = models.JSONField(default=list, blank=True)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    generation_status = models.CharField(
        max_length=20, choices=GenerationStatus.choices, default=GenerationStatus.PENDING
    )
    generation_error = models.TextField(blank=True)
    # sha256 of `content` as the last generation wrote it: content that differs was edited by hand.
    generated_content_hash = models.CharField(max_length=64, blank=True)
    # Google Search grounding (GEMINI_GROUNDING): the search suggestions Google's terms require
    # to be shown with grounded content (its HTML, served sandboxed by the lesson page), and the
    # queries it ran. The pages it used are `sources` of kind `web`.
    search_suggestions = models.TextField(blank=True)
    search_queries = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course_id", "module__position", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(generation_status__in=["pending", "generating", "completed", "failed"]),
                name="lesson_generation_status_valid",
            ),
            models.UniqueConstraint(
                fields=["module", "position"],
                condition=Q(module__isnull=False),
                name="lesson_position_unique_in_module",
            ),
            models.UniqueConstraint(
                fields=["course", "position"],
                condition=Q(module__isnull=True),
                name="lesson_position_unique_in_course",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class LessonRevision(models.Model):
    """A lesson's content as it was before something replaced it (a regeneration, a save)."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="revisions")
    reason = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    objectives = models.JSONField(default=list, blank=True)
    outline = models.JSONField(default=list, blank=True)
    content = models.TextField(blank=True)
    key_terms = models.JSONField(default=list, blank=True)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    edited = models.BooleanField(default=False, help_text="The content had been edited by hand.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lesson_id", "-created_at"]
        indexes = [models.Index(fields=["lesson", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.created_at:%Y-%m-%d %H:%M})"


class LessonSource(models.Model):
    """What a lesson was written from: a web page found by search grounding, or a document of
    an imported repository (its path and heading, read at `commit`). Shown beside the lesson;
    the API's `sources` are these, in `position` order."""

    class Kind(models.TextChoices):
        WEB = "web"
        DOCUMENT = "document"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEB)
    title = models.CharField(max_length=300, blank=True)
    uri = models.URLField(max_length=2000, blank=True)
    path = models.CharField(max_length=1000, blank=True, help_text="Repository documents only.")
    heading = models.CharField(max_length=300, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lesson_id", "position", "id"]
        indexes = [models.Index(fields=["lesson", "position"])]

    def __str__(self) -> str:
        return self.title or self.path or self.uri
