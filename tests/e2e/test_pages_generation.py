"""The pages with background generation for real, in Chromium: daphne and a Celery worker
process share a database, a broker and Redis (the channel layer); a learner opens a pending
lesson and reads it when the worker completes it, without reloading; an instructor clicks
Generate all and watches every badge of the module turn to completed."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import LiveServer
from tests.e2e.test_pages import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    browser,
    shot,
    signed_in,
)
from tests.redis_server import needs_redis
from tests.worker.process import WorkerProcess, worker_env

REDIS_URL = "redis://127.0.0.1:6379/8"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400), *needs_redis(REDIS_URL)]

SETUP = """
from courses.models import Course, Module
from learning.models import Enrollment
from lessons.models import Lesson
from django.contrib.auth import get_user_model
User = get_user_model()
ida = User.objects.create_user("ida", "ida@example.com", "pw-ida-123", first_name="Ida")
leo = User.objects.create_user("leo", "leo@example.com", "pw-leo-123", first_name="Leo")
course = Course.objects.create(owner=ida, title="Java for young coders")
basics = Module.objects.create(course=course, position=0, title="Basics")
opened = Lesson.objects.create(course=course, module=basics, position=0, title="Variables")
games = Module.objects.create(course=course, position=1, title="Your first game")
for position, title in enumerate(["Drawing", "Moving", "Scores"]):
    Lesson.objects.create(course=course, module=games, position=position, title=title)
Enrollment.objects.create(learner=leo, course=course)
print(course.pk, opened.pk, games.pk)
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """daphne + one worker on one SQLite file, Redis db 8 (flushed) as broker and layer."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    db = tmp_path_factory.mktemp("pages-generation") / "db.sqlite3"
    env = worker_env(db, REDIS_URL=REDIS_URL, OFFLINE_CHUNK_DELAY_MS="20")
    live = LiveServer(env=env)
    live.manage("migrate", "--no-input", "-v0")
    ids = live.shell(SETUP).strip().splitlines()[-1].split()
    live.course_id, live.opened_id, live.games_id = map(int, ids)
    worker = WorkerProcess(env=env)
    worker.purge()
    worker.start()
    live.start()
    yield live
    live.stop()
    worker.stop()


def test_a_learner_reads_a_pending_lesson_when_its_generation_completes(browser, stack):  # noqa: F811
    page: Page = signed_in(browser, stack, "leo")
    try:
        expect(page).to_have_url(f"{stack.url}/learn/")
        page.click(f'.lesson[data-lesson-id="{stack.opened_id}"] .lesson-title')
        expect(page.locator("#progress")).to_be_visible()
        expect(page.locator("#lesson-badge")).to_have_attribute("data-status", "generating")
        shot(page, "lesson-generating-real")
        expect(page.locator("#lesson-badge")).to_have_attribute(
            "data-status", "completed", timeout=120_000
        )
        expect(page.locator("#content")).not_to_be_empty()
        expect(page.locator("#progress")).to_be_hidden()
        shot(page, "lesson-generated-real")
    finally:
        page.context.close()


def test_an_instructor_generates_a_module_and_watches_every_badge_turn(browser, stack):  # noqa: F811
    page = signed_in(browser, stack, "ida")
    try:
        expect(page.locator("#live-status")).to_have_attribute("data-status", "ready")
        module = page.locator(f'.module[data-module-id="{stack.games_id}"]')
        badges = module.locator("[data-role=badge]")
        expect(badges).to_have_count(3)
        page.click(f'[data-action=generate-module][data-module-id="{stack.games_id}"]')
        expect(module.locator('[data-role=badge][data-status="generating"]').first).to_be_visible()
        shot(page, "module-generating-real")
        expect(module.locator('[data-role=badge][data-status="completed"]')).to_have_count(
            3, timeout=180_000
        )
        shot(page, "module-generated-real")
    finally:
        page.context.close()
