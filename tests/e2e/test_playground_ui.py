"""The playground's edges in Chromium: one generation per click, errors with their details,
the offline banner from the start, saved rows as admin links, the tutor chat's transcript, and
the admin's conversation list, reply and objectives."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import create_user, start_live_server
from tests.e2e.test_playground import browser, log_items, page  # noqa: F401

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    """A paced offline stream (a course takes seconds) and three messages a minute per user."""
    live = start_live_server(
        tmp_path_factory.mktemp("ui"),
        OFFLINE_CHUNK_DELAY_MS="40",
        OFFLINE_CHUNK_SIZE="12",
        RATE_LIMIT_MESSAGES_PER_MINUTE="3",
    )
    for name in ("sam", "tess", "ray", "lou"):
        create_user(live, name, f"pw-{name}-123", staff=True)
    yield live
    live.stop()


def sign_in(page: Page, live, name: str) -> None:  # noqa: F811
    page.goto(f"{live.url}/accounts/login/?next=/playground/")
    page.fill("#id_username", name)
    page.fill("#id_password", f"pw-{name}-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live.url}/playground/")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")


def sent(page: Page, frame_type: str):  # noqa: F811
    return log_items(page, f'[data-direction="out"][data-type="{frame_type}"]')


def test_the_offline_banner_shows_before_any_generation(page, ui_server):  # noqa: F811
    sign_in(page, ui_server, "sam")
    expect(page.locator("#offline-banner")).to_be_visible()
    assert log_items(page, '[data-type="complete"]').count() == 0


def test_a_double_click_on_send_starts_one_generation(page, ui_server):  # noqa: F811
    """Send is disabled from the click until the generation ends; then it is enabled again."""
    sign_in(page, ui_server, "sam")
    page.fill("#prompt", "Python for kids")
    page.dblclick("#send")
    expect(page.locator("#send")).to_be_disabled()
    expect(log_items(page, '[data-type="streaming"]').first).to_be_attached()
    expect(page.locator("#send")).to_be_disabled()  # still streaming
    expect(page.locator("#refine")).to_be_disabled()
    expect(log_items(page, '[data-type="complete"]')).to_have_count(1, timeout=60_000)
    expect(page.locator("#send")).to_be_enabled()
    assert sent(page, "message").count() == 1
    assert log_items(page, '[data-type="started"]').count() == 1


def test_an_error_shows_its_details_and_when_to_retry(page, ui_server):  # noqa: F811
    """`invalid_message` lists each bad field; `rate_limited` says when to retry."""
    sign_in(page, ui_server, "tess")
    page.select_option("#endpoint", "quiz")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")
    page.fill("#context", json.dumps({"lesson_id": "first", "question_count": 500}))
    page.click("#send")
    expect(log_items(page, '[data-type="error"]')).to_have_count(1)
    expect(page.locator("#last-error")).to_contain_text("invalid_message")
    details = page.locator("#error-details li")
    expect(details.first).to_be_visible()
    shown = details.all_text_contents()
    assert any("lesson_id" in line for line in shown), shown
    assert any("question_count" in line for line in shown), shown
    expect(page.locator("#send")).to_be_enabled()  # an answer, so Send is free again

    page.select_option("#endpoint", "chat")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")
    for _ in range(5):  # three a minute: one of these is refused
        page.click("#send")
        expect(page.locator("#send")).to_be_enabled(timeout=60_000)
        if log_items(page, '[data-code="rate_limited"]').count():
            break
    error = frame_of(page, '[data-type="error"]')
    assert error["code"] == "rate_limited" and error["retry_after"] > 0
    expect(page.locator("#last-error")).to_have_text(
        f"rate_limited: {error['message']} (retry after {error['retry_after']} s)"
    )
    page.screenshot(path=str(SHOTS / "playground-error.png"), full_page=True)


def frame_of(page: Page, selector: str) -> dict:  # noqa: F811
    return json.loads(log_items(page, selector).last.locator("pre").text_content())


def test_saved_rows_link_to_their_admin_pages(page, ui_server):  # noqa: F811
    sign_in(page, ui_server, "ray")
    page.fill("#prompt", "Go for teenagers")
    page.click("#send")
    expect(log_items(page, '[data-type="complete"]')).to_have_count(1, timeout=60_000)
    page.click("#save")
    expect(log_items(page, '[data-type="saved"]')).to_have_count(1)
    saved = frame_of(page, '[data-type="saved"]')
    links = page.locator("#saved a")
    expect(links).to_have_count(len(saved["objects"]))
    course_id = next(o["id"] for o in saved["objects"] if o["type"] == "course")
    course_link = page.locator("#saved a", has_text=f"course #{course_id}")
    assert course_link.get_attribute("href") == f"/admin/courses/course/{course_id}/change/"
    page.goto(f"{ui_server.url}{course_link.get_attribute('href')}")
    expect(page.locator("#id_title")).to_have_value("[Placeholder] Go for teenagers")
    # Objectives one per line, not a JSON list.
    objectives = page.locator("#id_objectives").input_value()
    assert objectives and not objectives.startswith("[") and "\n" in objectives
    page.screenshot(path=str(SHOTS / "admin-course.png"), full_page=True)


def test_the_tutor_chat_shows_the_whole_conversation(page, ui_server):  # noqa: F811
    """Each question and answer stays on the page, in order, across a reload."""
    sign_in(page, ui_server, "lou")
    page.select_option("#endpoint", "chat")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")
    for question in ("What is a loop?", "And a function?"):
        page.fill("#prompt", question)
        page.click("#send")
        expect(page.locator("#send")).to_be_enabled(timeout=60_000)
    turns = page.locator("#preview .turn")
    expect(turns).to_have_count(4)
    assert [t.get_attribute("data-role") for t in turns.all()] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    expect(turns.nth(0)).to_contain_text("What is a loop?")
    expect(turns.nth(2)).to_contain_text("And a function?")
    expect(turns.nth(3)).to_contain_text("Placeholder answer")
    started = log_items(page, '[data-type="conversation"]')
    ids = {json.loads(t)["conversation_id"] for t in started.locator("pre").all_text_contents()}
    assert len(ids) == 1  # the second question continued the conversation

    page.reload()
    expect(page.locator("#preview .turn")).to_have_count(4)
    page.click("#new")
    expect(page.locator("#preview .turn")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "playground-chat.png"), full_page=True)


def test_the_conversation_list_fits_at_1400_px(browser, ui_server):  # noqa: F811
    """Every column of the AI conversation list is visible beside both sidebars."""
    ui_server.manage(
        "generate",
        "course",
        "A long request about Java programming for kids, with many words in its title",
        "--user",
        "sam@example.com",
    )
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()  # noqa: F811
    try:
        page.goto(f"{ui_server.url}/accounts/login/?next=/admin/ai_chat/aiconversation/")
        page.fill("#id_username", "sam")
        page.fill("#id_password", "pw-sam-123")
        page.click("button[type=submit]")
        expect(page.locator("#result_list")).to_be_visible()
        widths = page.evaluate(
            """() => {
                const results = document.querySelector("#changelist .results");
                const last = document.querySelector("#result_list thead th:last-child");
                return {scroll: results.scrollWidth, client: results.clientWidth,
                        right: last.getBoundingClientRect().right,
                        edge: results.getBoundingClientRect().right};
            }"""
        )
        assert widths["scroll"] <= widths["client"], widths
        assert widths["right"] <= widths["edge"] + 1, widths
        page.screenshot(path=str(SHOTS / "admin-conversations.png"), full_page=True)
    finally:
        context.close()
