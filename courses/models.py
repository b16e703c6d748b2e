"""Courses and their modules."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Course(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner"
        INTERMEDIATE = "intermediate"
        ADVANCED = "advanced"

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="courses"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    objectives = models.JSONField(default=list, blank=True)
    prerequisites = models.JSONField(default=list, blank=True)
    age_range = models.CharField(max_length=20, blank=True)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    category = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=35, default="en")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["beginner", "intermediate", "advanced"]),
                name="course_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="course_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "position"], name="module_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.title}"
