"""A lesson grounded in Google Search, for real in Chromium: daphne and a Celery worker process
with GEMINI_GROUNDING on, Gemini played by the fake server (which answers the `google_search`
tool with grounding metadata). A learner opens a pending lesson; when the worker completes it the
page shows the lesson's web sources and Google's search suggestions in their sandboxed frame,
without a reload and without a Content-Security-Policy violation; the API serves the same."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import LiveServer
from tests.e2e.test_pages import browser, shot, signed_in  # noqa: F401
from tests.e2e.test_pages_csp import RECORD_VIOLATIONS, violations
from tests.e2e.test_pages_generation import SETUP
from tests.fakes.gemini_server import FakeGeminiServer, placeholder_reply
from tests.redis_server import needs_redis
from tests.worker.process import WorkerProcess, worker_env

REDIS_URL = "redis://127.0.0.1:6379/1"
REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400), *needs_redis(REDIS_URL)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """daphne + one worker on one SQLite file, Redis db 1 (flushed), the fake Gemini."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    gemini = FakeGeminiServer(default=placeholder_reply).start()
    db = tmp_path_factory.mktemp("pages-grounding") / "db.sqlite3"
    env = worker_env(
        db,
        REDIS_URL=REDIS_URL,
        AI_PROVIDER="gemini",
        GEMINI_API_KEY="test-key",
        GEMINI_BASE_URL=gemini.url,
        GEMINI_MODEL="gemini-2.5-flash",
        GEMINI_GROUNDING="true",
    )
    live = LiveServer(env=env)
    live.manage("migrate", "--no-input", "-v0")
    ids = live.shell(SETUP).strip().splitlines()[-1].split()
    live.course_id, live.opened_id, _ = map(int, ids)
    worker = WorkerProcess(env=env)
    worker.purge()
    worker.start()
    live.start()
    live.gemini = gemini
    yield live
    live.stop()
    worker.stop()
    gemini.stop()


def test_a_grounded_lesson_shows_its_sources_and_googles_suggestions(browser, stack):  # noqa: F811
    page: Page = signed_in(browser, stack, "leo")
    page.add_init_script(RECORD_VIOLATIONS)
    try:
        expect(page).to_have_url(f"{stack.url}/learn/")
        page.goto(f"{stack.url}/lessons/{stack.opened_id}/")
        expect(page.locator("#lesson-badge")).to_have_attribute(
            "data-status", "completed", timeout=120_000
        )
        expect(page.locator("#content")).not_to_be_empty()
        links = page.locator("#source-list a")
        expect(links).to_have_count(2)
        expect(links.first).to_have_text("en.wikipedia.org")
        expect(links.first).to_have_attribute("href", f"{REDIRECT}AUZIYQ-fake-1")
        expect(links.first).to_have_attribute("target", "_blank")

        frame_element = page.locator("#search-suggestions")
        expect(frame_element).to_be_visible()
        assert frame_element.get_attribute("sandbox") == (
            "allow-popups allow-popups-to-escape-sandbox"
        )
        chip = page.frame_locator("#search-suggestions").locator("a.chip")
        expect(chip).to_have_text("the lesson explained")
        # Google's inline style applies inside the frame (its own policy allows it there).
        expect(chip).to_have_css("border-radius", "16px")
        shot(page, "lesson-grounded")
        assert violations(page) == []

        # The same lesson over the API: its sources and the suggestions' HTML.
        answer = page.request.get(f"{stack.url}/api/lessons/{stack.opened_id}")
        assert answer.status == 200
        lesson = answer.json()
        assert [s["title"] for s in lesson["sources"]] == ["en.wikipedia.org", "docs.python.org"]
        assert 'class="chip"' in lesson["search_suggestions"]

        # The suggestions document: no script may run, framed only by our own pages.
        framed = page.request.get(f"{stack.url}/lessons/{stack.opened_id}/search-suggestions/")
        policy = framed.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "frame-ancestors 'self'" in policy and "sandbox allow-popups" in policy
        assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    finally:
        page.context.close()
    # Research then lesson: the first request asked for Google Search, the second for JSON.
    bodies = [r.body for r in stack.gemini.requests]
    assert [("tools" in b) for b in bodies[:2]] == [True, False]
