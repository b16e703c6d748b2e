"""The tutor panel's conversation list in Chromium: a conversation started in one page is
listed in another (a new tab: nothing kept in its session storage), opened there with its
messages, continued, and archived out of the list; the tutor's welcome is shown."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_playground import browser, frame_json, page  # noqa: F401
from tests.e2e.test_playground_ui import sign_in, ui_server  # noqa: F401

pytestmark = pytest.mark.browser


def _chat(page, live):  # noqa: F811
    page.select_option("#endpoint", "chat")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")


def test_open_an_old_conversation_in_a_new_page_and_continue_it(page, ui_server):  # noqa: F811
    sign_in(page, ui_server, "ray")
    _chat(page, ui_server)
    expect(page.locator("#welcome")).to_contain_text("Ask me anything about what you are learning")
    page.fill("#prompt", "What is a loop?")
    page.click("#send")
    expect(page.locator("#send")).to_be_enabled(timeout=60_000)
    started = frame_json(page, '[data-type="conversation"]')
    listed = page.locator("#conversation-list li[data-conversation-id]")
    expect(listed.first).to_have_attribute("data-conversation-id", started["conversation_id"])

    other = page.context.new_page()  # a new tab: its own (empty) session storage
    other.set_default_timeout(20_000)
    other.goto(f"{ui_server.url}/playground/")
    _chat(other, ui_server)
    expect(other.locator("#preview .turn")).to_have_count(0)
    cid = started["conversation_id"]
    row = other.locator(f'#conversation-list li[data-conversation-id="{cid}"]')
    expect(row).to_contain_text("What is a loop?")
    expect(row).to_contain_text("active")
    row.locator("button.open").click()
    turns = other.locator("#preview .turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0)).to_contain_text("What is a loop?")
    expect(turns.nth(1)).to_contain_text("Placeholder answer")

    other.fill("#prompt", "And a function?")
    other.click("#send")
    expect(other.locator("#send")).to_be_enabled(timeout=60_000)
    expect(turns).to_have_count(4)
    expect(turns.nth(2)).to_contain_text("And a function?")
    continued = frame_json(other, '[data-type="conversation"]')
    assert continued["conversation_id"] == cid
    assert continued["created"] is False
    outgoing = frame_json(other, '[data-direction="out"][data-type="message"]')
    assert outgoing["conversation_id"] == cid

    # Archived: out of the list, listed with "archived", read only.
    row.locator("button.archive").click()
    expect(row).to_have_count(0)
    other.check("#conversations-archived")
    expect(row).to_have_attribute("data-status", "archived")
    other.screenshot(path="/tmp/playground-conversations.png", full_page=True)
