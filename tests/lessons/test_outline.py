"""A course outline becomes a course, its modules and lesson skeletons, in one transaction."""

import pytest

from courses.models import Course, Module
from lessons.models import Lesson
from lessons.outline import course_create_from_outline, course_update_from_outline

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
