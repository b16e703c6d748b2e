"""Writes to quizzes and assignments."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max

from assessments.models import Assignment, AssignmentQuestion, Quiz, QuizQuestion
from courses.models import Course
from lessons.models import Lesson

QUIZ_QUESTION_FIELDS = ("type", "prompt", "options", "answer", "explanation", "points")
ASSIGNMENT_QUESTION_FIELDS = ("type", "prompt", "points", "rubric", "sample_answer")


def _next_position(queryset: Any) -> int:
    last = queryset.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@transaction.atomic
def quiz_add_questions(
    *, lesson: Lesson, questions: Sequence[Mapping[str, Any]]
) -> tuple[Quiz, bool, list[QuizQuestion]]:
    """Append questions to the lesson's quiz, creating the quiz if it is missing.

    Returns the quiz, whether it was created, and the new questions in order.
    """
    quiz, created = Quiz.objects.get_or_create(
        lesson=lesson, defaults={"title": f"Quiz: {lesson.title}"[:200]}
    )
    start = _next_position(quiz.questions.all())
    rows = [
        QuizQuestion(quiz=quiz, position=start + offset, **_fields(q, QUIZ_QUESTION_FIELDS))
        for offset, q in enumerate(questions)
    ]
    QuizQuestion.objects.bulk_create(rows)
    if _pks_missing(rows):
        rows = list(quiz.questions.filter(position__gte=start).order_by("position"))
    return quiz, created, rows


@transaction.atomic
def assignment_create(
    *, course: Course, title: str, instructions: str = "", lesson: Lesson | None = None
) -> Assignment:
    """Create an assignment on a course, optionally tied to one of its lessons."""
    if lesson is not None and lesson.course_id != course.pk:
        raise ValueError("the lesson belongs to another course")
    return Assignment.objects.create(
        course=course, lesson=lesson, title=title, instructions=instructions
    )


@transaction.atomic
def assignment_add_questions(
    *, assignment: Assignment, questions: Sequence[Mapping[str, Any]]
) -> list[AssignmentQuestion]:
    """Append questions to an assignment, after the ones it has."""
    start = _next_position(assignment.questions.all())
    rows = [
        AssignmentQuestion(
            assignment=assignment, position=start + offset, **_fields(q, ASSIGNMENT_QUESTION_FIELDS)
        )
        for offset, q in enumerate(questions)
    ]
    AssignmentQuestion.objects.bulk_create(rows)
    if _pks_missing(rows):
        rows = list(assignment.questions.filter(position__gte=start).order_by("position"))
    return rows


def _fields(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


def _pks_missing(rows: Sequence[Any]) -> bool:
    # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+; reload where it did not.
    return any(row.pk is None for row in rows)
