"""The admin of the domain: courses, modules, lessons, quizzes, assignments and questions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import AssignmentQuestion, Quiz, QuizQuestion
from courses.models import Course, Module
from lessons.models import Lesson

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def quiz(lesson):
    quiz = Quiz.objects.create(lesson=lesson, title="Variables check")
    QuizQuestion.objects.create(
        quiz=quiz,
        position=0,
        type="multiple_choice",
        prompt="Which keyword declares an integer?",
        options=["int", "str"],
        answer="int",
    )
    return quiz


@pytest.fixture
def assignment_question(assignment):
    return AssignmentQuestion.objects.create(
        assignment=assignment, position=0, type="coding", prompt="Write a loop that counts to 10."
    )


def rows(response):
    return list(response.context["cl"].result_list)


def test_course_changelist_shows_module_and_lesson_counts(staff_client, course):
    """Staff see each course with its number of modules and lessons."""
    response = staff_client.get(reverse("admin:courses_course_changelist"))

    assert response.status_code == 200
    assert "Intro to Java" in response.text
    [row] = rows(response)
    assert (row.module_count, row.lesson_count) == (1, 2)


def test_course_changelist_searches_by_owner_email(staff_client, course, other_user):
    """A search for an owner's email lists that owner's courses."""
    Course.objects.create(owner=other_user, title="Bob's course")

    response = staff_client.get(reverse("admin:courses_course_changelist"), {"q": "bob@example"})

    assert [row.title for row in rows(response)] == ["Bob's course"]


def test_course_changelist_filters_by_status(staff_client, course, user):
    """The status filter keeps only courses in that status."""
    Course.objects.create(owner=user, title="Live course", status="published")

    response = staff_client.get(
        reverse("admin:courses_course_changelist"), {"status__exact": "published"}
    )

    assert [row.title for row in rows(response)] == ["Live course"]


def test_course_changelist_queries_do_not_grow_with_courses(staff_client, course, user):
    """The course list costs the same number of queries for one course as for ten."""
    url = reverse("admin:courses_course_changelist")
    staff_client.get(url)
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for n in range(9):
        more = Course.objects.create(owner=user, title=f"Course {n}")
        Module.objects.create(course=more, position=0, title="Start")
    with CaptureQueriesContext(connection) as ten:
        response = staff_client.get(url)

    assert len(rows(response)) == 10
    assert len(ten) == len(one)


def test_course_change_page_shows_modules_and_lessons_inline(staff_client, course):
    """A course's page lists its modules and its lessons."""
    response = staff_client.get(reverse("admin:courses_course_change", args=[course.pk]))

    assert response.status_code == 200
    assert 'value="Basics"' in response.text
    assert 'value="Variables"' in response.text
    assert 'value="Loops"' in response.text


def test_course_change_page_offers_only_its_own_modules(staff_client, course, other_user):
    """A lesson row can pick a module of its own course, not another course's."""
    elsewhere = Course.objects.create(owner=other_user, title="Python")
    Module.objects.create(course=elsewhere, position=0, title="Snakes")

    response = staff_client.get(reverse("admin:courses_course_change", args=[course.pk]))

    assert "1. Basics" in response.text
    assert "Snakes" not in response.text


def test_course_change_page_queries_do_not_grow_with_lessons(staff_client, course):
    """Every lesson row shares one query for its module choices."""
    url = reverse("admin:courses_course_change", args=[course.pk])
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for n in range(2, 12):
        Lesson.objects.create(course=course, position=n, title=f"Lesson {n}")
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(url)

    assert 'value="Lesson 11"' in response.text
    assert len(many) == len(few)


def test_course_change_page_adds_a_lesson_to_a_module(staff_client, course):
    """Saving the course page with a new lesson row creates the lesson in its module."""
    module = course.modules.get()
    lessons = list(course.lessons.all())
    data = {
        "owner": course.owner_id,
        "title": "Intro to Java",
        "description": course.description,
        "objectives": "",  # one per line: none
        "prerequisites": "",
        "age_range": course.age_range,
        "level": "beginner",
        "category": "",
        "language": "en",
        "status": "draft",
        **formset_data("modules", [{"id": module.pk, "position": 0, "title": "Basics"}]),
        **formset_data(
            "lessons",
            [
                {"id": lesson.pk, "position": lesson.position, "module": module.pk}
                | {"title": lesson.title}
                for lesson in lessons
            ]
            + [{"position": 2, "module": module.pk, "title": "Methods"}],
            initial=len(lessons),
        ),
    }

    response = staff_client.post(reverse("admin:courses_course_change", args=[course.pk]), data)

    assert response.status_code == 302, response.context["errors"]
    assert course.lessons.get(title="Methods").module == module


def course_form_data(course, **changes):
    data = {
        "owner": course.owner_id,
        "title": course.title,
        "description": course.description,
        "age_range": course.age_range,
        "level": course.level,
        "category": course.category,
        "language": course.language,
        "status": course.status,
        **formset_data("modules", []),
        **formset_data("lessons", []),
    }
    return data | changes


def test_course_objectives_are_edited_one_per_line_not_as_json(staff_client, course):
    """The change page shows each objective on its own line; saving lines stores a list."""
    course.objectives = ["Read Java code", 'Write "for" loops']
    course.save()
    url = reverse("admin:courses_course_change", args=[course.pk])

    form = staff_client.get(url).context["adminform"].form
    assert form["objectives"].value() == 'Read Java code\nWrite "for" loops'
    assert "[" not in form["objectives"].as_widget()

    data = course_form_data(
        course, objectives="Read Java code\r\n\r\n  Write loops  \r\n", prerequisites=""
    )
    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    course.refresh_from_db()
    assert course.objectives == ["Read Java code", "Write loops"]
    assert course.prerequisites == []


def test_lesson_objectives_are_edited_one_per_line(staff_client, lesson):
    lesson.objectives = ["Name three loop kinds"]
    lesson.save()
    url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
    form = staff_client.get(url).context["adminform"].form
    assert form["objectives"].value() == "Name three loop kinds"


def test_module_changelist_shows_course_and_lesson_count(staff_client, course):
    """Staff see each module with its course and number of lessons."""
    response = staff_client.get(reverse("admin:courses_module_changelist"))

    [row] = rows(response)
    assert row.lesson_count == 2
    assert "Intro to Java" in response.text


def test_module_change_page_shows_the_module(staff_client, course):
    """A module's page shows its title."""
    module = course.modules.get()

    response = staff_client.get(reverse("admin:courses_module_change", args=[module.pk]))

    assert response.status_code == 200
    assert 'value="Basics"' in response.text


def test_lesson_changelist_shows_generation_status(staff_client, course):
    """The lesson list shows each lesson's generation status."""
    Lesson.objects.filter(title="Loops").update(generation_status="failed")

    response = staff_client.get(reverse("admin:lessons_lesson_changelist"))

    assert response.status_code == 200
    assert '<td class="field-generation_status">Failed</td>' in response.text


def test_lesson_changelist_filters_by_generation_status(staff_client, course):
    """The generation status filter keeps only lessons in that state."""
    Lesson.objects.filter(title="Loops").update(generation_status="failed")

    response = staff_client.get(
        reverse("admin:lessons_lesson_changelist"), {"generation_status__exact": "failed"}
    )

    assert [row.title for row in rows(response)] == ["Loops"]


def test_lesson_change_page_shows_content_and_generation_error(staff_client, lesson):
    """A lesson's page shows its content and why its generation failed."""
    Lesson.objects.filter(pk=lesson.pk).update(
        content="# Variables\nA box for a value.", generation_error="The model timed out."
    )

    response = staff_client.get(reverse("admin:lessons_lesson_change", args=[lesson.pk]))

    assert response.status_code == 200
    assert "A box for a value." in response.text
    assert "The model timed out." in response.text


def test_quiz_changelist_shows_lesson_and_question_count(staff_client, quiz):
    """The quiz list shows each quiz's lesson, course and number of questions."""
    response = staff_client.get(reverse("admin:assessments_quiz_changelist"))

    [row] = rows(response)
    assert row.question_count == 1
    assert "Variables check" in response.text
    assert "Intro to Java" in response.text


def test_quiz_change_page_shows_questions_inline(staff_client, quiz):
    """A quiz's page lists its questions."""
    response = staff_client.get(reverse("admin:assessments_quiz_change", args=[quiz.pk]))

    assert response.status_code == 200
    assert "Which keyword declares an integer?" in response.text


def test_quiz_question_changelist_filters_by_type(staff_client, quiz):
    """The quiz question list filters by question type."""
    QuizQuestion.objects.create(
        quiz=quiz, position=1, type="true_false", prompt="Java is an island.", answer="true"
    )

    response = staff_client.get(
        reverse("admin:assessments_quizquestion_changelist"), {"type__exact": "true_false"}
    )

    assert [row.prompt for row in rows(response)] == ["Java is an island."]


def test_assignment_changelist_shows_course_and_question_count(staff_client, assignment_question):
    """The assignment list shows each assignment's course and number of questions."""
    response = staff_client.get(reverse("admin:assessments_assignment_changelist"))

    [row] = rows(response)
    assert row.question_count == 1
    assert "Homework 1" in response.text
    assert "Intro to Java" in response.text


def test_assignment_change_page_shows_questions_inline(staff_client, assignment_question):
    """An assignment's page lists its questions."""
    url = reverse("admin:assessments_assignment_change", args=[assignment_question.assignment_id])

    response = staff_client.get(url)

    assert response.status_code == 200
    assert "Write a loop that counts to 10." in response.text


def test_assignment_question_change_page_shows_the_prompt(staff_client, assignment_question):
    """An assignment question's page shows its prompt."""
    url = reverse("admin:assessments_assignmentquestion_change", args=[assignment_question.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    assert "Write a loop that counts to 10." in response.text


@pytest.mark.parametrize(
    "name",
    [
        "admin:courses_course_changelist",
        "admin:courses_module_changelist",
        "admin:lessons_lesson_changelist",
        "admin:assessments_quiz_changelist",
        "admin:assessments_quizquestion_changelist",
        "admin:assessments_assignment_changelist",
        "admin:assessments_assignmentquestion_changelist",
    ],
)
def test_non_staff_users_are_sent_to_login(client, user, name):
    """A signed-in user who is not staff is redirected to the admin login."""
    client.force_login(user)

    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_owner_cannot_open_their_course(client, user, course):
    """A course's owner who is not staff is redirected to login from its admin page."""
    client.force_login(user)

    response = client.get(reverse("admin:courses_course_change", args=[course.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def formset_data(prefix, forms, *, initial=None):
    """POST data for an inline formset: the management form, then each form's fields."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(forms)),
        f"{prefix}-INITIAL_FORMS": str(len(forms) if initial is None else initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, form in enumerate(forms):
        data.update({f"{prefix}-{i}-{name}": value for name, value in form.items()})
    return data
