"""The import wizard for real, in Chromium: daphne, a Celery worker process and the fake Gemini
server (speaking Gemini's protocol, answering each stage's schema) import a repository the test
makes with real git. The instructor reads a repository that is not there yet (stage 1 fails with
its sentence), creates it, presses Retry, picks folders and an overview, analyses, asks for
pathways (the model's first answer is no valid result: stage 3 fails, Retry), picks one side by
side with the others and reaches the course, whose lessons cite the repository's files; the bars
move from `import` events without a reload, and a reload finds every stage where it was from the
status routes.

Screenshots go to `$PAGES_SCREENSHOT_DIR` when it is set (to look at the pages)."""

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import LiveServer, server_env
from tests.e2e.test_pages import (  # noqa: F401
    browser,
    shot,
    signed_in,
)
from tests.e2e.test_pages_csp import RECORD_VIOLATIONS
from tests.fakes.gemini_server import FakeGeminiServer, Reply, placeholder_reply
from tests.imports.repository.gitrepo import git, make_repo
from tests.redis_server import redis_up
from tests.worker.process import WorkerProcess, worker_env

REDIS_URL = "redis://127.0.0.1:6379/4"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SETUP = """
from courses.models import Course
from django.contrib.auth import get_user_model
ida = get_user_model().objects.create_user("ida", "ida@example.com", "pw-ida-123", first_name="Ida")
Course.objects.create(owner=ida, title="Java for young coders")
"""

CITED = """
from lessons.models import LessonSource
for source in LessonSource.objects.filter(lesson_id={lesson_id}, kind="document"):
    print(f"{{source.path}}@{{source.commit}}")
"""

DOCS: dict[str, str | bytes] = {
    "README.md": "# Tide\n\nTide runs small tasks on a schedule. This is its handbook.\n",
    "docs/getting-started.md": (
        "# Getting started\n\n## Install\n\nRun `pip install tide`, then `tide init` in a "
        "project folder.\n\n## Your first task\n\nWrite `tide.toml` with one task and run "
        "`tide run`.\n"
    ),
    "docs/guide/schedules.md": (
        "# Schedules\n\nA schedule says when a task runs: `every 5m`, `daily 09:00` or a cron "
        "line.\n\n## Overlaps\n\nA task still running is not started twice.\n"
    ),
    "docs/guide/retries.md": (
        "# Retries\n\nA failed task is retried with backoff: `retries = 3`, `backoff = 2s`.\n"
    ),
    "docs/reference/cli.md": (
        "# Command line\n\n| command | does |\n| --- | --- |\n| `tide init` | a tide.toml |\n"
        "| `tide run` | runs the scheduler |\n| `tide list` | the tasks and their next run |\n"
    ),
    "docs/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 8,
    ".env": "TIDE_TOKEN=sk-live-0123456789abcdef0123456789abcdef\n",
    "src/tide/__init__.py": "VERSION = '1.0'\n",
}

# Records every bar's (status, progress) as the page changes it, and marks the document so a
# reload would be seen (the marker would be gone).
TRACE_BARS = """() => {
    window.sameDocument = true;
    window.barTrace = {1: [], 2: [], 3: [], 4: []};
    for (const bar of document.querySelectorAll("[data-stage-bar]")) {
        const record = () => window.barTrace[bar.dataset.stageBar].push(
            [bar.dataset.status, Number(bar.querySelector("[role=progressbar]")
                .getAttribute("aria-valuenow"))]);
        new MutationObserver(record).observe(bar, {attributes: true, subtree: true,
            attributeFilter: ["data-status", "aria-valuenow"]});
    }
}"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """daphne + one worker on one SQLite file, Redis db 4 (flushed) as broker and layer, and
    the fake Gemini server answering every request with a valid result of its schema."""
    import redis

    if not redis_up(REDIS_URL):
        pytest.skip(f"needs Redis at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    gemini = FakeGeminiServer(default=placeholder_reply).start()
    folder = tmp_path_factory.mktemp("import-wizard")
    env = worker_env(
        folder / "db.sqlite3",
        REDIS_URL=REDIS_URL,
        REPOSITORY_ALLOW_LOCAL="true",
        AI_PROVIDER="gemini",
        GEMINI_API_KEY="test-key",
        GEMINI_BASE_URL=gemini.url,
        GEMINI_MAX_RETRIES="0",
        AI_MAX_VALIDATION_RETRIES="0",
    )
    live = LiveServer(env=env)
    live.manage("migrate", "--no-input", "-v0")
    live.shell(SETUP)
    worker = WorkerProcess(env=env)
    worker.purge()
    worker.start()
    live.start()
    live.repo = folder / "tide-handbook"  # made by the test, after a first attempt fails
    live.gemini = gemini
    yield live
    live.stop()
    worker.stop()
    gemini.stop()


def bar(page: Page, stage: int):
    return page.locator(f'[data-stage-bar="{stage}"]')


def expect_success(page: Page, stage: int) -> None:
    expect(bar(page, stage)).to_have_attribute("data-status", "SUCCESS", timeout=180_000)
    expect(bar(page, stage).locator("[data-role=percent]")).to_have_text("100%")


def moved(page: Page, stage: int) -> list[list]:
    """The (status, progress) values stage `stage`'s bar took, in order."""
    return page.evaluate(f"window.barTrace[{stage}]")


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(REDIS_URL), reason=f"needs Redis at {REDIS_URL}")
def test_an_instructor_turns_a_repository_into_a_course(browser, stack):  # noqa: F811
    page = signed_in(browser, stack, "ida")
    page.add_init_script(RECORD_VIOLATIONS)  # the policy blocks nothing of the wizard's
    try:
        expect(page).to_have_url(f"{stack.url}/courses/")
        page.click("#import-link")
        expect(page).to_have_url(f"{stack.url}/courses/import/")
        shot(page, "wizard-start")

        # 1. A repository that is not there yet: a new draft course, then stage 1 fails.
        page.fill("#course-title", "Tide handbook")
        page.fill("#repo-url", str(stack.repo))
        page.click("#start-import")
        page.wait_for_url(re.compile(r"/courses/\d+/import/$"))
        course_id = int(re.findall(r"\d+", page.url)[-1])
        expect(page.locator("#live-status")).to_have_attribute("data-status", "ready")
        error = bar(page, 1).locator("[data-role=error]")
        expect(bar(page, 1)).to_have_attribute("data-status", "FAILURE", timeout=120_000)
        expect(error).to_be_visible()
        expect(error.locator("[data-role=error-message]")).not_to_be_empty()
        shot(page, "wizard-stage1-failed")

        # Retry once the repository exists: the bar moves through the stage's steps live.
        make_repo(stack.repo, DOCS)
        page.evaluate(TRACE_BARS)
        error.locator("[data-action=retry]").click()
        expect_success(page, 1)
        assert [p for s, p in moved(page, 1) if 0 < p < 100], moved(page, 1)
        expect(error).to_be_hidden()

        # 2. Folders and overview; the files left out are listed with their reasons.
        step2 = page.locator("#step-documents")
        expect(step2).to_have_attribute("data-state", "active")
        expect(page.locator('#folder-list input[value=""]')).to_be_checked()
        expect(page.locator('#overview-list input[value="README.md"]')).to_be_checked()
        page.click("#skipped-summary")
        skipped = page.locator("#skipped-list")
        expect(skipped.locator("li", has_text=".env")).to_contain_text("looks like a secret")
        expect(skipped.locator("li", has_text="docs/logo.png")).to_contain_text("binary")
        page.uncheck('#folder-list input[value=""]')
        page.check('#folder-list input[value="docs"]')
        expect(page.locator("#selection-summary")).to_have_text("5 documents selected.")
        shot(page, "wizard-documents")
        page.click("#save-selection")

        # 3. Complexity and notes, then the analysis of each document.
        expect(page.locator("#step-analysis")).to_have_attribute("data-state", "active")
        page.check('#analysis-form input[value="intermediate"]')
        page.fill("#analysis-notes", "For operators who schedule backups.")
        page.click("#analyze")
        expect_success(page, 2)
        expect(page.locator("#analyzed-summary")).to_have_text("5 documents analysed")
        shot(page, "wizard-analysed")

        # 4. Pathways: the model's first answer is no valid result (stage 3 fails with a sentence;
        # no re-ask in this stack), the instructor retries, and the options appear side by side;
        # they build the first.
        expect(page.locator("#step-pathway")).to_have_attribute("data-state", "active")
        stack.gemini.push(Reply.text("Here are some ideas for pathways!"))  # not the schema
        page.click("#suggest")
        failed = bar(page, 3).locator("[data-role=error]")
        expect(bar(page, 3)).to_have_attribute("data-status", "FAILURE", timeout=120_000)
        expect(failed.locator("[data-role=error-message]")).not_to_be_empty()
        shot(page, "wizard-stage3-failed")
        failed.locator("[data-action=retry]").click()
        expect_success(page, 3)
        expect(failed).to_be_hidden()
        pathways = page.locator(".pathway")
        expect(pathways.first).to_be_visible()
        options = pathways.count()
        assert 2 <= options <= 4
        boxes = [pathways.nth(i).bounding_box() for i in range(options)]
        assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]  # side by side
        shot(page, "wizard-pathways")
        first = pathways.first
        first.locator("[data-action=choose-pathway]").click()
        expect(first).to_have_attribute("data-chosen", "true")

        # 5. The course.
        expect_success(page, 4)
        expect(page.locator("#done")).to_be_visible()
        expect(page.locator("#done-title")).to_have_text("Tide handbook")
        shot(page, "wizard-course")
        assert any(status == "FAILURE" for status, _ in moved(page, 3)), moved(page, 3)
        for stage in (2, 3, 4):
            assert moved(page, stage)[0] == ["PENDING", 0], moved(page, stage)
            assert moved(page, stage)[-1] == ["SUCCESS", 100], moved(page, stage)
        assert page.evaluate("window.sameDocument") is True  # no reload on the way

        # After a reload, the status routes put every stage where it was.
        page.reload()
        for stage in (1, 2, 3, 4):
            expect(bar(page, stage)).to_have_attribute("data-status", "SUCCESS")
        expect(page.locator("#step-course")).to_have_attribute("data-state", "active")
        expect(page.locator(".pathway")).to_have_count(options)
        shot(page, "wizard-reloaded")

        assert page.evaluate("window.cspViolations") == []
        # the link is filled in once the generated course is read: wait for it, then follow it
        expect(page.locator("#export")).to_have_attribute("href", re.compile(r"/export$"))
        export = page.request.get(urljoin(page.url, page.locator("#export").get_attribute("href")))
        assert export.ok and export.headers["content-type"] == "application/zip"
        assert export.body()[:2] == b"PK"

        page.click("#open-course")
        expect(page).to_have_url(f"{stack.url}/courses/{course_id}/")
        expect(page.locator("h1")).to_have_text("Tide handbook")
        expect(page.locator(".module").first).to_be_visible()
        expect(
            page.locator('.lesson [data-role=badge][data-status="pending"]').first
        ).to_be_visible()
        shot(page, "wizard-course-page")

        # A lesson, written on opening, shows the repository files it was grounded in (at the
        # commit that was read) as soon as it completes.
        page.locator(".lesson .lesson-title").first.click()
        expect(page.locator("#lesson-badge")).to_have_attribute(
            "data-status", "completed", timeout=180_000
        )
        lesson_id = int(page.locator("#lesson").get_attribute("data-lesson-id") or 0)
        sources = page.locator("#source-list li")
        expect(sources.first).to_be_visible()
        rows = [r for r in stack.shell(CITED.format(lesson_id=lesson_id)).split() if "@" in r]
        commit = git(stack.repo, "rev-parse", "HEAD")
        assert rows and all(row.split("@")[0] in DOCS for row in rows), rows
        assert {row.split("@")[1] for row in rows} == {commit}, rows
        assert sources.count() == len(rows)
        shot(page, "wizard-lesson-sources")
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """`make run`'s defaults: no Redis (a filesystem broker, each process its own channel
    layer), the offline provider; daphne and one worker on one SQLite file."""
    folder = tmp_path_factory.mktemp("import-wizard-embedded")
    env = server_env(folder / "db.sqlite3", REPOSITORY_ALLOW_LOCAL="true")
    live = LiveServer(env=env)
    live.manage("migrate", "--no-input", "-v0")
    live.shell(SETUP)
    worker = WorkerProcess(env=env)
    worker.purge()
    worker.start()
    live.start()
    live.repo = make_repo(folder / "tide", DOCS)
    yield live
    live.stop()
    worker.stop()


def test_without_redis_the_wizard_follows_the_stages_through_the_status_routes(
    browser,  # noqa: F811
    embedded,
):
    """A worker's events cannot reach the page without a shared channel layer: the page reads
    `GET import` while a stage runs, so the bars still move and every step is reached."""
    page = signed_in(browser, embedded, "ida")
    try:
        page.goto(f"{embedded.url}/courses/import/")
        expect(page.locator("#wizard")).to_have_attribute("data-events", "local")
        page.fill("#repo-url", str(embedded.repo))
        page.click("#start-import")
        expect_success(page, 1)
        expect(page.locator("#course-choice option:checked")).to_have_text("tide documentation")
        page.click("#save-selection")
        page.click("#analyze")
        expect_success(page, 2)
        page.click("#suggest")
        expect_success(page, 3)
        page.locator("[data-action=choose-pathway]").first.click()
        expect_success(page, 4)
        expect(page.locator("#done")).to_be_visible()
        shot(page, "wizard-embedded-course")
    finally:
        page.context.close()
