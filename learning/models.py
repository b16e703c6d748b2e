"""Who takes which course, how far each learner got, where they were confused, and the
questions they asked on a lesson with their answers."""

from django.conf import settings
from django.db import models
from django.db.models import Q

MAX_POSITION_LENGTH = 200
MAX_NOTE_LENGTH = 1000
MAX_QUESTION_LENGTH = 2000


class Enrollment(models.Model):
    class Role(models.TextChoices):
        LEARNER = "learner"
        INSTRUCTOR = "instructor"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="enrollments"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course_id", "created_at"]
        indexes = [models.Index(fields=["course", "role"])]
        constraints = [
            models.UniqueConstraint(fields=["learner", "course"], name="enrollment_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["learner", "instructor"]), name="enrollment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.course} ({self.role})"


class LessonProgress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, related_name="progress")
    percent = models.PositiveSmallIntegerField(default=0)
    position = models.CharField(max_length=MAX_POSITION_LENGTH, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "lesson progress"
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["lesson", "completed_at"])]
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="lesson_progress_unique"),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="lesson_progress_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.lesson}: {self.percent}%"


class Confusion(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confusions"
    )
    lesson = models.ForeignKey(
        "lessons.Lesson", on_delete=models.CASCADE, related_name="confusions"
    )
    position = models.CharField(max_length=MAX_POSITION_LENGTH, blank=True)
    note = models.TextField(max_length=MAX_NOTE_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lesson", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.learner} confused in {self.lesson} at {self.position or 'start'}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Question(models.Model):
    """A learner's question on a lesson, seen by the course's participants and answered by its
    instructors. `answered_at` is the first answer's time (the response time); a question hidden
    by a moderator (`hidden_at`) leaves every list and room."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions"
    )
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, related_name="questions")
    text = models.TextField(max_length=MAX_QUESTION_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lesson", "hidden_at", "answered_at"])]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:59] + "…"


class Answer(models.Model):
    """An instructor's answer to a question; hidden by a moderator like a question."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answers"
    )
    text = models.TextField(max_length=MAX_QUESTION_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:59] + "…"
