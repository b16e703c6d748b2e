"""Quizzes and assignments: questions appended in order, each write in one transaction."""

import pytest
from django.db import IntegrityError, transaction

from assessments.models import AssignmentQuestion, Quiz, QuizQuestion
from assessments.services import assignment_add_questions, assignment_create, quiz_add_questions
from courses.models import Course
from lessons.models import Lesson

pytestmark = pytest.mark.django_db


def test_quiz_add_questions_creates_quiz_once_and_appends(lesson):
    """The first batch creates the quiz; the next batch is appended after it."""
    question = {
        "type": "true_false",
        "prompt": "Java?",
        "options": ["True", "False"],
        "answer": "True",
    }
    quiz, created, rows = quiz_add_questions(lesson=lesson, questions=[question, question])
    assert created and [r.position for r in rows] == [0, 1] and all(r.pk for r in rows)
    quiz2, created2, rows2 = quiz_add_questions(lesson=lesson, questions=[question])
    assert quiz2 == quiz and not created2 and [r.position for r in rows2] == [2]
    assert Quiz.objects.count() == 1 and QuizQuestion.objects.count() == 3


def test_unique_positions_are_enforced(lesson):
    """Two questions cannot share a position in one quiz."""
    quiz = Quiz.objects.create(lesson=lesson)
    QuizQuestion.objects.create(quiz=quiz, position=0, type="short_answer", prompt="a", answer="b")
    with pytest.raises(IntegrityError), transaction.atomic():
        QuizQuestion.objects.create(
            quiz=quiz, position=0, type="short_answer", prompt="c", answer="d"
        )


def test_assignment_add_questions_appends_in_order(assignment):
    """Assignment questions are appended after the existing ones."""
    q = {"type": "essay", "prompt": "Why?", "points": 10, "rubric": [], "sample_answer": ""}
    first = assignment_add_questions(assignment=assignment, questions=[q])
    second = assignment_add_questions(assignment=assignment, questions=[q, q])
    assert [r.position for r in first + second] == [0, 1, 2]
    assert AssignmentQuestion.objects.filter(assignment=assignment).count() == 3


def test_assignment_create_refuses_a_lesson_of_another_course(course, other_user):
    """An assignment's lesson must belong to its course."""
    other = Course.objects.create(owner=other_user, title="Other")
    foreign = Lesson.objects.create(course=other, position=0, title="Elsewhere")
    with pytest.raises(ValueError):
        assignment_create(course=course, title="HW", lesson=foreign)
