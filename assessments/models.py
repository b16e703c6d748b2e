"""Quizzes and assignments, and their questions."""

from django.db import models
from django.db.models import Q


class Quiz(models.Model):
    lesson = models.OneToOneField("lessons.Lesson", on_delete=models.CASCADE, related_name="quiz")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title or f"Quiz for {self.lesson}"


class QuizQuestion(models.Model):
    class Type(models.TextChoices):
        MULTIPLE_CHOICE = "multiple_choice"
        TRUE_FALSE = "true_false"
        SHORT_ANSWER = "short_answer"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    prompt = models.TextField()
    options = models.JSONField(default=list, blank=True)
    answer = models.TextField()
    explanation = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "position"], name="quiz_question_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(type__in=["multiple_choice", "true_false", "short_answer"]),
                name="quiz_question_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.prompt[:80]


class Assignment(models.Model):
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="assignments"
    )
    lesson = models.ForeignKey(
        "lessons.Lesson",
        on_delete=models.SET_NULL,
        related_name="assignments",
        null=True,
        blank=True,
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class AssignmentQuestion(models.Model):
    class Type(models.TextChoices):
        SHORT_ANSWER = "short_answer"
        ESSAY = "essay"
        CODING = "coding"
        PROJECT = "project"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    prompt = models.TextField()
    points = models.PositiveIntegerField(default=10)
    rubric = models.JSONField(default=list, blank=True)
    sample_answer = models.TextField(blank=True)

    class Meta:
        ordering = ["assignment", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "position"], name="assignment_question_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(type__in=["short_answer", "essay", "coding", "project"]),
                name="assignment_question_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.prompt[:80]
