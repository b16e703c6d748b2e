"""The events panel at `/events/` and the tutor chat in the playground, in a real browser
(Debian's Chromium) against a real daphne server."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.server import LiveServer, create_user, start_live_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MARKDOWN = "/static/ai_chat/markdown.js"

SETUP = """
from courses.models import Course, Module
from learning.models import Enrollment
from lessons.models import Lesson
from django.contrib.auth import get_user_model
User = get_user_model()
ida, leo = User.objects.get(username="ida"), User.objects.get(username="leo")
leo.first_name = "Leo"; leo.save()
course = Course.objects.create(owner=ida, title="Java")
module = Module.objects.create(course=course, position=0, title="Basics")
lesson = Lesson.objects.create(course=course, module=module, position=0, title="Loops")
Enrollment.objects.create(learner=leo, course=course)
print(course.pk, lesson.pk)
"""


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A daphne process with staff `sam`, the course owner `ida` and the enrolled learner `leo`."""
    live = start_live_server(tmp_path_factory.mktemp("events-panel"))
    live.users = {
        "sam": create_user(live, "sam", "pw-sam-123", staff=True),
        "ida": create_user(live, "ida", "pw-ida-123"),
        "leo": create_user(live, "leo", "pw-leo-123"),
    }
    live.course_id, live.lesson_id = map(int, live.shell(SETUP).strip().splitlines()[-1].split())
    yield live
    live.stop()


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def sign_in(page: Page, live: LiveServer, username: str, path: str) -> None:
    page.goto(f"{live.url}{path}")
    expect(page).to_have_url(f"{live.url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live.url}{path}")


def ready_on_events(page: Page, user_id: int) -> None:
    expect(page.locator("#events-status")).to_have_attribute("data-status", "ready")
    # The panel joins the user's own room by itself.
    expect(page.locator(f'#rooms li[data-room="user:{user_id}"]')).to_have_text(
        re.compile(r"seq \d+$")
    )


def room_seq(page: Page, room: str) -> int:
    return int(page.locator(f'#rooms li[data-room="{room}"]').text_content().rsplit(" ", 1)[1])


def test_confusion_reaches_the_instructor_live_and_the_resolution_reaches_the_learner(
    browser, live
):
    ida, leo = live.users["ida"], live.users["leo"]
    teacher, learner = new_page(browser), new_page(browser)
    try:
        sign_in(teacher, live, "ida", "/events/")
        ready_on_events(teacher, ida)
        expect(teacher.locator("#endpoint")).to_have_count(0)  # no AI endpoints here
        teacher.click("#sub-instructor")
        expect(teacher.locator(f'#rooms li[data-room="instructor:{ida}"]')).to_contain_text("seq 0")

        sign_in(learner, live, "leo", "/events/")
        ready_on_events(learner, leo)
        learner.fill("#lesson-id", str(live.lesson_id))
        learner.fill("#position", "p. 3")
        learner.fill("#confusion-note", "Why does <b>i++</b> skip one?")
        learner.click("#mark-confusing")
        expect(learner.locator("#events-ack")).to_have_attribute("data-of", "confusion")
        mine = learner.locator("#my-confusions li")
        expect(mine).to_have_count(1)
        expect(mine).to_have_attribute("data-state", "open")

        # The instructor's page shows the alert live, with the note as text.
        alert = teacher.locator(
            f'#event-list li[data-room="instructor:{ida}"][data-event="confusion"]'
            '[data-action="create"]'
        )
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("Why does <b>i++</b> skip one?")
        expect(alert).to_contain_text("Leo")
        expect(alert).to_have_attribute("data-seq", "1")
        expect(teacher.locator("#confusion-alerts li")).to_have_count(1)
        expect(teacher.locator("#event-list b")).to_have_count(0)

        alert.locator("button.resolve").click()
        expect(teacher.locator("#events-ack")).to_have_attribute("data-of", "resolve_confusion")
        expect(teacher.locator("#confusion-alerts li")).to_have_count(0)

        # The learner hears `confusion` `update` on their own room.
        update = learner.locator(
            f'#event-list li[data-room="user:{leo}"][data-event="confusion"][data-action="update"]'
        )
        expect(update).to_have_count(1)
        expect(update).to_contain_text("resolved")
        expect(mine).to_have_attribute("data-state", "resolved")

        # Progress from the slider is acknowledged.
        learner.locator("#progress").fill("40")
        expect(learner.locator("#events-ack")).to_have_attribute("data-of", "progress")
        expect(learner.locator("#events-ack")).to_contain_text("40%")
    finally:
        teacher.context.close()
        learner.context.close()


def test_a_gap_in_seq_makes_the_panel_subscribe_again(browser, live):
    """A learner may not join someone else's instructor room; a seq gap re-subscribes."""
    leo = live.users["leo"]
    page = new_page(browser)
    try:
        sign_in(page, live, "leo", "/events/")
        ready_on_events(page, leo)
        page.fill("#room", f"instructor:{live.users['ida']}")
        page.click("#subscribe")
        expect(page.locator("#events-error")).to_contain_text("forbidden")
        page.fill("#lesson-id", str(live.lesson_id))
        room = page.locator(f'#rooms li[data-room="user:{leo}"]')
        seq = room_seq(page, f"user:{leo}")
        confusions = page.locator("#my-confusions li").count()
        page.click("#mark-confusing")
        expect(room).to_have_text(f"user:{leo} · seq {seq + 1}")
        # Pretend the event at seq + 1 was lost: the next one, at seq + 2, is a gap.
        page.evaluate(f"window.lecternEvents.rooms.set('user:{leo}', {seq})")
        page.click("#mark-confusing")
        expect(page.locator("#event-list li.gap")).to_contain_text("re-subscribing")
        expect(room).to_have_text(f"user:{leo} · seq {seq + 2}")
        expect(page.locator("#my-confusions li")).to_have_count(confusions + 2)  # the snapshot
    finally:
        page.context.close()


def test_chat_answer_renders_as_markdown_with_typing_and_feedback(browser, live):
    page = new_page(browser)
    try:
        sign_in(page, live, "sam", "/playground/")
        expect(page.locator("#status")).to_have_attribute("data-status", "ready")
        page.select_option("#endpoint", "chat")
        expect(page.locator("#status")).to_have_attribute("data-status", "ready")
        page.fill("#prompt", "What is a loop?")
        page.click("#send")
        expect(page.locator('#frame-log li[data-type="complete"]')).to_have_count(1)
        assert page.locator('#frame-log li[data-type="typing"]').count() == 2  # on, then off
        expect(page.locator("#typing")).to_be_hidden()
        expect(page.locator("#preview strong")).to_have_text("Placeholder answer.")
        expect(page.locator("#preview code")).to_have_text("GEMINI_API_KEY")
        assert "**" not in page.locator("#preview").text_content()

        page.fill("#feedback-comment", "clear enough")
        page.click('#feedback button[data-rating="4"]')
        expect(page.locator("#feedback-status")).to_contain_text("Feedback saved")
        sent = page.locator('#frame-log li[data-direction="out"][data-type="feedback"] pre')
        expect(sent).to_contain_text('"rating": 4')
        # The events panel is on the same page.
        expect(page.locator("#events-status")).to_have_attribute("data-status", "ready")
    finally:
        page.context.close()


HOSTILE = """# Title

Some **bold**, *italic* and `<code>`.

<script>window.pwned = 1</script>
<img src=x onerror="window.pwned = 2">

![a cat](https://example.com/cat.png) and ![evil](javascript:alert(1))

[good](https://example.com/a?b=1) [bad](javascript:alert(1)) [data](data:text/html,hi)
[rel](/admin/)

- one
- two **2**

1. first
2. second

```html
<script>alert(3)</script>
```
"""


def test_markdown_renderer_never_makes_live_html(browser, live):
    page = new_page(browser)
    try:
        page.goto(f"{live.url}/accounts/login/")  # same origin, for the module
        result = page.evaluate(
            """async ([module, text]) => {
                const { renderMarkdownInto } = await import(module);
                const root = document.createElement("div");
                document.body.append(root);
                renderMarkdownInto(root, text);
                await new Promise((r) => setTimeout(r, 100));
                return {
                    tags: [...root.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
                    links: [...root.querySelectorAll("a")].map((a) => a.getAttribute("href")),
                    text: root.textContent,
                    h1: root.querySelector("h1")?.textContent,
                    pwned: window.pwned ?? null,
                    onerror: root.querySelectorAll("[onerror]").length,
                    pre: root.querySelector("pre code")?.textContent,
                    lists: [...root.querySelectorAll("ul li, ol li")].map((l) => l.textContent),
                };
            }""",
            [MARKDOWN, HOSTILE],
        )
    finally:
        page.context.close()
    tags = set(result["tags"])
    assert tags <= {"h1", "p", "strong", "em", "code", "pre", "a", "ul", "ol", "li", "span"}
    assert "script" not in tags and "img" not in tags
    assert result["pwned"] is None and result["onerror"] == 0
    assert result["links"] == ["https://example.com/a?b=1"]  # no javascript:, data: or relative
    assert result["h1"] == "Title"
    assert "<script>window.pwned = 1</script>" in result["text"]  # raw HTML shown as text
    assert "a cat" in result["text"] and "evil" in result["text"]  # alt text, no image
    assert result["pre"] == "<script>alert(3)</script>"
    assert result["lists"] == ["one", "two 2", "first", "second"]


def test_a_question_asked_on_the_panel_is_answered_by_the_instructor(browser, live):
    """Ask on the learner view; the instructor's open questions show it live and answer it; the
    learner's notifications list the answer."""
    ida, leo = live.users["ida"], live.users["leo"]
    teacher, learner = new_page(browser), new_page(browser)
    try:
        sign_in(teacher, live, "ida", "/events/")
        ready_on_events(teacher, ida)
        teacher.click("#sub-instructor")
        expect(teacher.locator(f'#rooms li[data-room="instructor:{ida}"]')).not_to_contain_text("…")
        sign_in(learner, live, "leo", "/events/")
        ready_on_events(learner, leo)
        learner.fill("#lesson-id", str(live.lesson_id))
        learner.fill("#question-text", "Is <i>++i</i> the same?")
        learner.click("#ask-question")
        expect(learner.locator("#events-ack")).to_have_attribute("data-of", "ask_question")
        asked = teacher.locator("#question-alerts li")
        expect(asked).to_have_count(1)
        expect(asked).to_contain_text("Is <i>++i</i> the same?")
        asked.locator("input").fill("Almost: it adds first.")
        asked.locator("button").click()
        expect(teacher.locator("#events-ack")).to_have_attribute("data-of", "answer_question")
        expect(teacher.locator("#question-alerts li")).to_have_count(0)
        told = learner.locator("#notifications li", has_text="was answered")
        expect(told).to_have_count(1)
        expect(told).to_contain_text("Almost: it adds first.")
    finally:
        teacher.context.close()
        learner.context.close()
