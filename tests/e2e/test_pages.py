"""The pages people use, in Chromium against a real daphne process: each role lands on its page,
a lesson renders from sanitised markdown, and badges and a pending lesson change live from
`generation` events published by another process (through Redis, as a worker would).

Screenshots go to `$PAGES_SCREENSHOT_DIR` when it is set (to look at the pages)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.server import LiveServer, server_env
from tests.redis_server import needs_redis

REDIS_URL = "redis://127.0.0.1:6379/8"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),  # a shared two-core machine: a management command takes seconds
    *needs_redis(REDIS_URL),
]


SETUP = """
from courses.models import Course, Module
from learning.models import Enrollment
from lessons.models import Lesson
from lessons.services import lesson_apply_content, lesson_set_generation_status
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.create_user("sam", "sam@example.com", "pw-sam-123", is_staff=True, is_superuser=True)
ida = User.objects.create_user("ida", "ida@example.com", "pw-ida-123", first_name="Ida")
leo = User.objects.create_user("leo", "leo@example.com", "pw-leo-123", first_name="Leo")
course = Course.objects.create(owner=ida, title="Java for young coders",
    description="Variables, loops and your first game, one small step at a time.")
basics = Module.objects.create(course=course, position=0, title="Basics",
    description="Storing and repeating things.")
games = Module.objects.create(course=course, position=1, title="Your first game")
written = Lesson.objects.create(course=course, module=basics, position=0, title="Variables",
    estimated_minutes=20, objectives=["Name a value", "Change it"])
lesson_apply_content(lesson=written, content={"content": (
    "# Variables\\n\\nA variable is a **named box**.\\n\\n```java\\nint score = 0;\\n```\\n\\n"
    "- Give it a name\\n- Put a value in\\n\\n<script>window.pwned = 1</script>"
    "[bad](javascript:alert(1)) [docs](https://dev.java/learn/)")})
loops = Lesson.objects.create(course=course, module=basics, position=1, title="Loops",
    estimated_minutes=25)
failing = Lesson.objects.create(course=course, module=games, position=0, title="Drawing")
lesson_set_generation_status(lesson=failing, status="failed",
    error="The model did not answer in time; try again.")
Lesson.objects.create(course=course, module=games, position=1, title="Scores")
Enrollment.objects.create(learner=leo, course=course)
print(course.pk, written.pk, loops.pk, failing.pk)
"""

PUBLISH = """
from lessons.models import Lesson
from lessons.services import lesson_apply_content, lesson_set_generation_status
lesson = Lesson.objects.get(pk={lesson_id})
if "{status}" == "completed":
    lesson_apply_content(lesson=lesson, content={{"content": "# Loops\\n\\nDo it **again**."}})
else:
    lesson_set_generation_status(lesson=lesson, status="{status}", error="{error}")
"""


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """daphne on Redis db 8 (flushed), with staff `sam`, owner `ida` and learner `leo`."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    db = tmp_path_factory.mktemp("pages") / "pages.sqlite3"
    live = LiveServer(env=server_env(db, REDIS_URL=REDIS_URL))
    live.manage("migrate", "--no-input", "-v0")
    ids = live.shell(SETUP).strip().splitlines()[-1].split()
    live.course_id, live.written_id, live.loops_id, live.failing_id = map(int, ids)
    live.start()
    yield live
    live.stop()


def publish(live: LiveServer, lesson_id: int, status: str, error: str = "") -> None:
    """Move a lesson from another process: lessons' services publish its `generation` event."""
    live.shell(PUBLISH.format(lesson_id=lesson_id, status=status, error=error))


def signed_in(browser: Browser, live: LiveServer, username: str) -> Page:
    """A page signed in through the form at `/`, on wherever the sign-in landed."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live.url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("button[type=submit]")
    return page


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("PAGES_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def badge(page: Page, lesson_id: int):
    return page.locator(f'.lesson[data-lesson-id="{lesson_id}"] [data-role=badge]')


def test_an_instructor_lands_on_their_course_page(browser, live):
    page = signed_in(browser, live, "ida")
    try:
        expect(page).to_have_url(f"{live.url}/courses/")
        expect(page.locator("h1")).to_have_text("Java for young coders")
        expect(page.locator(".module")).to_have_count(2)
        expect(badge(page, live.written_id)).to_have_attribute("data-status", "completed")
        failed_row = page.locator(f'.lesson[data-lesson-id="{live.failing_id}"]')
        expect(failed_row.locator("[data-role=error]")).to_contain_text("did not answer in time")
        expect(failed_row.locator("[data-action=retry]")).to_be_visible()
        expect(page.locator("#live-status")).to_have_attribute("data-status", "ready")
        shot(page, "instructor-course")
        page.click("#sign-out")
        expect(page.locator("#id_username")).to_be_visible()
        shot(page, "sign-in")
    finally:
        page.context.close()


def test_a_learner_lands_home_and_reads_a_sanitised_lesson(browser, live):
    page = signed_in(browser, live, "leo")
    try:
        expect(page).to_have_url(f"{live.url}/learn/")
        expect(page.locator(".course h2")).to_have_text("Java for young coders")
        expect(page.locator("[data-action=generate]")).to_have_count(0)
        shot(page, "learner-home")
        page.click(f'.lesson[data-lesson-id="{live.written_id}"] .lesson-title')
        expect(page).to_have_url(f"{live.url}/lessons/{live.written_id}/")
        expect(page.locator("#content h1")).to_have_text("Variables")
        expect(page.locator("#content strong")).to_have_text("named box")
        expect(page.locator("#content pre")).to_contain_text("int score = 0;")
        expect(page.locator('#content a[href="https://dev.java/learn/"]')).to_have_count(1)
        assert page.locator("#content script").count() == 0
        assert page.locator('#content a[href^="javascript"]').count() == 0
        assert page.evaluate("window.pwned") is None
        shot(page, "lesson-completed")
    finally:
        page.context.close()


def test_staff_land_on_the_course_page_and_keep_the_playground(browser, live):
    page = signed_in(browser, live, "sam")
    try:
        expect(page).to_have_url(f"{live.url}/courses/")
        page.click("text=Playground")
        expect(page).to_have_url(f"{live.url}/playground/")
    finally:
        page.context.close()


def test_badges_follow_generation_events_live(browser, live):
    """Another process moves a lesson through generating, failed and completed: the badge and
    the error follow each event without a reload."""
    page = signed_in(browser, live, "ida")
    try:
        expect(page.locator("#live-status")).to_have_attribute("data-status", "ready")
        row = page.locator(f'.lesson[data-lesson-id="{live.loops_id}"]')
        expect(badge(page, live.loops_id)).to_have_attribute("data-status", "pending")
        publish(live, live.loops_id, "generating")
        expect(badge(page, live.loops_id)).to_have_attribute("data-status", "generating")
        expect(badge(page, live.loops_id)).to_have_text("generating")
        shot(page, "instructor-generating")
        publish(live, live.loops_id, "failed", "The provider was unavailable.")
        expect(badge(page, live.loops_id)).to_have_attribute("data-status", "failed")
        expect(row.locator("[data-role=error]")).to_have_text("The provider was unavailable.")
        expect(row.locator("[data-action=retry]")).to_be_visible()
        publish(live, live.loops_id, "completed")
        expect(badge(page, live.loops_id)).to_have_attribute("data-status", "completed")
        expect(row.locator("[data-role=error]")).to_be_hidden()
    finally:
        page.context.close()


def test_a_pending_lesson_appears_when_its_generation_completes(browser, live):
    """A learner on a lesson not written yet reads it the moment it completes, no reload."""
    publish(live, live.loops_id, "pending")
    page = signed_in(browser, live, "leo")
    try:
        page.goto(f"{live.url}/lessons/{live.loops_id}/")
        expect(page.locator("#live-status")).to_have_attribute("data-status", "ready")
        expect(page.locator("#content")).to_be_empty()
        shot(page, "lesson-pending")
        publish(live, live.loops_id, "generating")
        expect(page.locator("#progress")).to_be_visible()
        shot(page, "lesson-generating")
        publish(live, live.loops_id, "completed")
        expect(page.locator("#content h1")).to_have_text("Loops")
        expect(page.locator("#content strong")).to_have_text("again")
        expect(page.locator("#progress")).to_be_hidden()
        expect(page.locator("#lesson-badge")).to_have_attribute("data-status", "completed")
    finally:
        page.context.close()
