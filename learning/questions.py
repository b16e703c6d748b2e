"""Live Q&A: a learner asks a question on a lesson, the course's instructors answer it.

A lesson's questions are the class's: every participant of the course sees them (and their
answers) on the lesson, live in `lesson:{id}`; the course's instructors hear of them in their
`instructor:{id}` rooms, and the asker is told of each answer (a stored notification). A
moderator hides a question or an answer in the admin: it leaves every list and room.
Refusals are Django's exceptions, as in `learning.services`.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from learning.analytics import course_analytics_publish
from learning.models import MAX_QUESTION_LENGTH, Answer, Question
from learning.payloads import question_payload, question_removed_payload
from learning.selectors import (
    AnyUser,
    course_instructed_by,
    course_instructor_ids,
    course_is_instructor,
    course_is_participant,
    course_viewable_by,
)
from lessons.models import Lesson
from realtime.notifications import notification_create
from realtime.publish import publish_event

QUESTIONS_IN_SNAPSHOT = 50


def _with_answers(questions: QuerySet[Question]) -> QuerySet[Question]:
    """Questions with what their payload needs, in a fixed number of queries."""
    answers = Answer.objects.filter(hidden_at__isnull=True).select_related("author")
    return questions.select_related("learner", "lesson").prefetch_related(
        Prefetch("answers", queryset=answers, to_attr="visible_answers")
    )


def questions_of_lesson(*, lesson_id: int) -> QuerySet[Question]:
    """A lesson's visible questions, newest first (the caller checked the lesson is viewable)."""
    return _with_answers(Question.objects.filter(lesson_id=lesson_id, hidden_at__isnull=True))


def questions_open_for_instructor(*, user: AnyUser, limit: int = 100) -> list[Question]:
    """The newest unanswered questions of the courses the user teaches."""
    found = Question.objects.filter(
        answered_at__isnull=True,
        hidden_at__isnull=True,
        lesson__course__in=course_instructed_by(user=user),
    )
    return list(_with_answers(found)[:limit])


def question_get_visible(*, user: AnyUser, question_id: int) -> Question | None:
    """A visible question of a course the user may view; else None (missing or not theirs)."""
    found = Question.objects.filter(
        pk=question_id, hidden_at__isnull=True, lesson__course__in=course_viewable_by(user=user)
    )
    return _with_answers(found).select_related("lesson__course").first()


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("Write the question (or answer) first: it is empty.")
    if len(text) > MAX_QUESTION_LENGTH:
        raise ValidationError(f"The text is over {MAX_QUESTION_LENGTH} characters.")
    return text


@transaction.atomic
def question_ask(*, learner: Any, lesson: Lesson, text: str) -> Question:
    """Ask a question on a lesson: the course's participants only. The lesson's room and the
    course's instructors hear `question` `create`; the course's analytics change."""
    if not course_is_participant(user=learner, course=lesson.course):
        raise PermissionDenied("Only the course's learners ask questions.")
    question = Question.objects.create(learner=learner, lesson=lesson, text=_clean_text(text))
    question = _with_answers(Question.objects.filter(pk=question.pk)).get()
    _publish(question, "create")
    course_analytics_publish(course=lesson.course)
    return question


@transaction.atomic
def question_answer(*, user: Any, question_id: int, text: str) -> Question:
    """Answer a question: the course's instructors and staff only. The asker is notified.

    One the user may not see raises `Question.DoesNotExist`; a learner who sees it gets
    `PermissionDenied`. The first answer sets `answered_at` (the response time).
    """
    question = question_get_visible(user=user, question_id=question_id)
    if question is None:
        raise Question.DoesNotExist("No such question.")
    course = question.lesson.course
    if not course_is_instructor(user=user, course=course):
        raise PermissionDenied("Only the course's instructors answer questions.")
    text = _clean_text(text)
    Question.objects.select_for_update().filter(pk=question.pk).first()  # answers in order
    answer = Answer.objects.create(question_id=question.pk, author=user, text=text)
    Question.objects.filter(pk=question.pk, answered_at__isnull=True).update(
        answered_at=answer.created_at
    )
    question = _with_answers(Question.objects.filter(pk=question.pk)).get()
    _publish(question, "update")
    if question.learner_id != user.pk:
        notification_create(
            user=question.learner,
            title=f"Your question on “{question.lesson.title}” was answered",
            body=text[:500],
            data={
                "kind": "question_answered",
                "question_id": question.pk,
                "lesson_id": question.lesson_id,
                "course_id": course.pk,
            },
        )
    course_analytics_publish(course=course)
    return question


@transaction.atomic
def question_hide(*, question: Question) -> None:
    """Moderation: hide a question; its rooms hear `question` `delete`."""
    if question.hidden_at is not None:
        return
    question.hidden_at = timezone.now()
    question.save(update_fields=["hidden_at"])
    question_removed(question=question)


@transaction.atomic
def question_show(*, question: Question) -> None:
    """Moderation: show a hidden question again; its rooms hear `question` `create`."""
    if question.hidden_at is None:
        return
    Question.objects.filter(pk=question.pk).update(hidden_at=None)
    _publish(_with_answers(Question.objects.filter(pk=question.pk)).get(), "create")
    course_analytics_publish(course=question.lesson.course)


def question_removed(*, question: Question) -> None:
    """Tell the question's rooms it is gone (hidden, or about to be deleted)."""
    payload = question_removed_payload(question)
    for room in _rooms(question):
        publish_event(room=room, event="question", action="delete", payload=payload)
    course_analytics_publish(course=question.lesson.course)


@transaction.atomic
def answer_hide(*, answer: Answer) -> None:
    """Moderation: hide an answer; its question's rooms hear `question` `update` without it."""
    if answer.hidden_at is not None:
        return
    answer.hidden_at = timezone.now()
    answer.save(update_fields=["hidden_at"])
    answer_removed(question_id=answer.question_id)


def answer_removed(*, question_id: int) -> None:
    """Send a question again with the answers it has now (one was hidden or deleted)."""
    question = _with_answers(Question.objects.filter(pk=question_id, hidden_at__isnull=True))
    found = question.first()
    if found is not None:
        _publish(found, "update")


def _rooms(question: Question) -> list[str]:
    instructors = course_instructor_ids(course=question.lesson.course)
    return [
        f"lesson:{question.lesson_id}",
        f"user:{question.learner_id}",
        *(f"instructor:{i}" for i in instructors),
    ]


def _publish(question: Question, action: str) -> None:
    payload = question_payload(question)
    for room in _rooms(question):
        publish_event(room=room, event="question", action=action, payload=payload)
