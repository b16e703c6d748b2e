"""The classroom in Chromium, two browser contexts against a real daphne process on Redis
(database 9): a learner asks a question on the lesson page, the instructor sees it arrive on
the course page with the course's analytics, answers it there, and the learner sees the answer
and the notification live, without a reload.

Screenshots: /work/notes/screens/classroom-*.png, or `$PAGES_SCREENSHOT_DIR` when set."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import LiveServer, server_env
from tests.e2e.test_pages import browser, signed_in  # noqa: F401
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/9"
SCREENS = Path(os.environ.get("PAGES_SCREENSHOT_DIR") or "/work/notes/screens")

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300), *needs_redis(REDIS_URL)]

SETUP = """
from courses.models import Course, Module
from learning.models import Enrollment
from lessons.models import Lesson
from lessons.services import lesson_apply_content
from django.contrib.auth import get_user_model
User = get_user_model()
ida = User.objects.create_user("ida", "ida@example.com", "pw-ida-123", first_name="Ida")
leo = User.objects.create_user("leo", "leo@example.com", "pw-leo-123", first_name="Leo")
course = Course.objects.create(owner=ida, title="Java for young coders",
    description="Variables, loops and your first game.")
basics = Module.objects.create(course=course, position=0, title="Basics")
written = Lesson.objects.create(course=course, module=basics, position=0, title="Variables",
    estimated_minutes=20)
lesson_apply_content(lesson=written, content={"content": "# Variables\\n\\nA **named box**."})
Lesson.objects.create(course=course, module=basics, position=1, title="Loops")
Enrollment.objects.create(learner=leo, course=course)
print(course.pk, written.pk)
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # database 9 is this test's own
    db = tmp_path_factory.mktemp("classroom") / "classroom.sqlite3"
    live = LiveServer(env=server_env(db, REDIS_URL=REDIS_URL))
    live.manage("migrate", "--no-input", "-v0")
    live.course_id, live.lesson_id = map(int, live.shell(SETUP).strip().splitlines()[-1].split())
    live.start()
    yield live
    live.stop()


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"classroom-{name}.png"), full_page=True)


def test_a_learner_asks_the_instructor_answers_and_the_learner_sees_it(browser, live):  # noqa: F811
    teacher = signed_in(browser, live, "ida")
    learner = signed_in(browser, live, "leo")
    try:
        expect(teacher).to_have_url(f"{live.url}/courses/")
        expect(teacher.locator("#live-status")).to_have_attribute("data-status", "ready")
        expect(teacher.locator("#analytics")).to_be_visible()
        expect(teacher.locator("#no-open-questions")).to_be_visible()
        expect(teacher.locator("#stat-completion")).to_have_text("0%")

        learner.goto(f"{live.url}/lessons/{live.lesson_id}/")
        expect(learner.locator("#live-status")).to_have_attribute("data-status", "ready")
        expect(learner.locator("#no-questions")).to_be_visible()
        expect(teacher.locator("#stat-active")).to_have_text("1")  # Leo is on the lesson
        learner.fill("#ask-text", "Why is it called a box?")
        learner.click("#ask")
        mine = learner.locator("#question-list .question")
        expect(mine).to_have_count(1)
        expect(mine).to_have_attribute("data-state", "open")
        expect(learner.locator("#ask-text")).to_have_value("")
        expect(learner.locator("#ask-done")).to_contain_text("notified")
        shot(learner, "learner-asked")

        question = teacher.locator("#open-question-list .question")
        expect(question).to_have_count(1)  # arrived live
        expect(question.locator(".question-text")).to_have_text("Why is it called a box?")
        expect(question.locator(".who")).to_have_text("Leo")
        expect(teacher.locator("#struggling li")).to_contain_text("Variables")
        struggling = teacher.locator("#struggling li")
        expect(struggling).to_contain_text("0 open confusions · 1 open question")
        shot(teacher, "teacher-sees-question")
        question.locator("textarea").fill("Because it holds one value, like a box holds a toy.")
        question.locator("button[type=submit]").click()
        expect(teacher.locator("#no-open-questions")).to_be_visible()
        expect(teacher.locator("#struggling li")).to_have_count(0)
        expect(teacher.locator("#stat-p90")).to_contain_text("1 answered")
        shot(teacher, "teacher-answered")

        expect(mine).to_have_attribute("data-state", "answered")
        expect(mine.locator(".answer-text")).to_have_text(
            "Because it holds one value, like a box holds a toy."
        )
        expect(mine.locator(".answer .who")).to_have_text("Ida")
        expect(learner.locator("#bell-count")).to_have_text("1")
        learner.click("#bell-button")
        note = learner.locator("#bell-list .bell-item")
        expect(note).to_have_attribute("data-kind", "question_answered")
        title = "Your question on “Variables” was answered"
        expect(note.locator(".bell-title")).to_have_text(title)
        shot(learner, "learner-answered")
        note.locator("button").click()
        expect(learner.locator("#bell-count")).to_be_hidden()
        expect(learner.locator("#bell-empty")).to_be_visible()
    finally:
        teacher.context.close()
        learner.context.close()
