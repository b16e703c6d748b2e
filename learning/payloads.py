"""Rows as event payloads and snapshot entries (plain dicts; datetimes stay datetimes)."""

from typing import Any

from learning.models import Answer, Confusion, LessonProgress, Question
from realtime.people import display_name


def progress_payload(progress: LessonProgress) -> dict[str, Any]:
    return {
        "learner_id": progress.learner_id,
        "lesson_id": progress.lesson_id,
        "course_id": progress.lesson.course_id,
        "percent": progress.percent,
        "position": progress.position,
        "completed_at": progress.completed_at,
        "updated_at": progress.updated_at,
    }


def confusion_payload(confusion: Confusion) -> dict[str, Any]:
    return {
        "id": confusion.pk,
        "learner_id": confusion.learner_id,
        "learner_name": display_name(confusion.learner),
        "lesson_id": confusion.lesson_id,
        "course_id": confusion.lesson.course_id,
        "position": confusion.position,
        "note": confusion.note,
        "created_at": confusion.created_at,
        "resolved_by": confusion.resolved_by_id,
        "resolved_at": confusion.resolved_at,
    }


def answer_payload(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.pk,
        "author_id": answer.author_id,
        "author_name": display_name(answer.author),
        "text": answer.text,
        "created_at": answer.created_at,
    }


def question_payload(question: Question) -> dict[str, Any]:
    """The question with its visible answers (prefetched as `visible_answers`, or read)."""
    answers = getattr(question, "visible_answers", None)
    if answers is None:
        answers = question.answers.filter(hidden_at__isnull=True).select_related("author")
    return {
        "id": question.pk,
        "lesson_id": question.lesson_id,
        "course_id": question.lesson.course_id,
        "lesson_title": question.lesson.title,
        "learner_id": question.learner_id,
        "learner_name": display_name(question.learner),
        "text": question.text,
        "created_at": question.created_at,
        "answered_at": question.answered_at,
        "answers": [answer_payload(a) for a in answers],
    }


def question_removed_payload(question: Question) -> dict[str, Any]:
    return {
        "id": question.pk,
        "lesson_id": question.lesson_id,
        "course_id": question.lesson.course_id,
    }
