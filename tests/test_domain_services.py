"""Domain services write courses, lessons, quizzes and assignments in one transaction each."""

import pytest
from django.db import IntegrityError, transaction

from assessments.models import AssignmentQuestion, Quiz, QuizQuestion
from assessments.services import assignment_add_questions, assignment_create, quiz_add_questions
from courses.models import Course, Module
from courses.selectors import course_get_editable
from courses.services import course_create_from_outline, course_update_from_outline
from lessons.models import Lesson
from lessons.selectors import lesson_get_editable
from lessons.services import lesson_apply_content, lesson_set_generation_status

pytestmark = pytest.mark.django_db

OUTLINE = {
    "title": "Java for kids",
    "description": "A first course",
    "objectives": ["Write a program"],
    "prerequisites": [],
    "age_range": "8-12",
    "level": "beginner",
    "category": "programming",
    "modules": [
        {
            "title": "Basics",
            "description": "",
            "lessons": [
                {"title": "Hello", "description": "", "objectives": [], "estimated_minutes": 20},
                {
                    "title": "Variables",
                    "description": "",
                    "objectives": [],
                    "estimated_minutes": 25,
                },
            ],
        },
        {
            "title": "Loops",
            "description": "",
            "lessons": [
                {"title": "For", "description": "", "objectives": [], "estimated_minutes": 30}
            ],
        },
    ],
}


def test_course_create_from_outline_writes_modules_and_pending_lessons(user):
    """An outline becomes a draft course, its modules in order and one pending lesson each."""
    written = course_create_from_outline(owner=user, outline=OUTLINE, language="de")
    course = written.course
    assert course.owner == user and course.status == "draft" and course.language == "de"
    assert [m.title for m in course.modules.order_by("position")] == ["Basics", "Loops"]
    lessons = Lesson.objects.filter(course=course).order_by("module__position", "position")
    assert [lesson.title for lesson in lessons] == ["Hello", "Variables", "For"]
    assert {lesson.generation_status for lesson in lessons} == {"pending"}
    assert len(written.modules) == 2 and len(written.lessons) == 3


def test_course_create_is_atomic(user, monkeypatch):
    """A failure half-way through an outline leaves no course behind."""
    original = Lesson.objects.create
    calls = []

    def failing_create(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return original(**kwargs)

    monkeypatch.setattr(Lesson.objects, "create", failing_create)
    with pytest.raises(RuntimeError):
        course_create_from_outline(owner=user, outline=OUTLINE)
    assert not Course.objects.exists() and not Module.objects.exists()


def test_course_update_matches_by_position_and_deletes_nothing(course):
    """Revising updates modules and lessons in place, adds new ones, keeps the rest."""
    lesson = course.lessons.get(position=0)
    lesson.content = "written by hand"
    lesson.save()
    outline = {**OUTLINE, "title": "Java, revised"}
    written = course_update_from_outline(course=course, outline=outline)
    course.refresh_from_db()
    assert course.title == "Java, revised"
    assert [m.title for m in course.modules.order_by("position")] == ["Basics", "Loops"]
    lesson.refresh_from_db()
    assert lesson.title == "Hello" and lesson.content == "written by hand"
    assert len(written.lessons) == 3


def test_lesson_apply_content_marks_generation_completed(lesson):
    """Applying content writes the fields and moves the status to completed."""
    lesson_set_generation_status(lesson=lesson, status="failed", error="timeout")
    lesson_apply_content(
        lesson=lesson,
        content={
            "title": "Variables",
            "content": "# Vars",
            "estimated_minutes": 30,
            "key_terms": [],
        },
    )
    lesson.refresh_from_db()
    assert lesson.content == "# Vars" and lesson.generation_status == "completed"
    assert lesson.generation_error == ""


def test_lesson_generation_status_refuses_unknown_values(lesson):
    """An unknown generation status is refused before it reaches the database."""
    with pytest.raises(ValueError):
        lesson_set_generation_status(lesson=lesson, status="exploded")


def test_database_refuses_invalid_choices(lesson):
    """Check constraints hold even when the ORM's validation is bypassed."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(generation_status="exploded")


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


def test_selectors_scope_to_owner_and_staff(course, other_user, staff_user):
    """Only the owner (and staff) may edit a course or its lessons."""
    lesson = course.lessons.first()
    assert course_get_editable(user=course.owner, course_id=course.pk) == course
    assert course_get_editable(user=other_user, course_id=course.pk) is None
    assert course_get_editable(user=staff_user, course_id=course.pk) == course
    assert lesson_get_editable(user=other_user, lesson_id=lesson.pk) is None
    assert lesson_get_editable(user=course.owner, lesson_id=lesson.pk) == lesson
