"""The playground at `/` in a real browser (Debian's Chromium) against a real daphne server."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.server import LiveServer, create_user, start_live_server

pytestmark = pytest.mark.browser
# A loaded CI machine (two cores, a whole suite) can take seconds to re-render after a reload.
expect.set_options(timeout=20_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/playground.png")


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium; missing means a broken machine, so fail rather than skip."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A server whose offline provider streams slowly: a course takes several seconds."""
    live = start_live_server(
        tmp_path_factory.mktemp("slow"), OFFLINE_CHUNK_DELAY_MS="60", OFFLINE_CHUNK_SIZE="8"
    )
    create_user(live, "sam", "pw-sam-123", staff=True)
    yield live
    live.stop()


def sign_in(page: Page, live: LiveServer) -> None:
    """Open the playground, get sent to the sign-in form, sign in as staff, land back on it."""
    page.goto(f"{live.url}/playground/")
    expect(page).to_have_url(f"{live.url}/accounts/login/?next=/playground/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", "pw-sam-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live.url}/playground/")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")


def log_items(page: Page, selector: str = ""):
    return page.locator(f"#frame-log li{selector}")


def frame_json(page: Page, selector: str) -> dict:
    return json.loads(log_items(page, selector).last.locator("pre").text_content())


def test_generate_a_course_with_the_offline_provider_and_save_it(page, lectern_server):
    """Text streams in, the preview shows the course, the offline banner shows; Save lists rows."""
    sign_in(page, lectern_server)
    page.select_option("#endpoint", "course")
    page.fill("#prompt", "Java for kids")
    page.click("#send")

    expect(log_items(page, '[data-type="complete"]')).to_have_count(1)
    expect(log_items(page, '[data-direction="out"][data-type="message"]')).to_have_count(1)
    assert log_items(page, '[data-type="streaming"]').count() > 1
    data = frame_json(page, '[data-type="complete"]')["data"]
    assert json.loads(page.locator("#text").text_content()) == data
    expect(page.locator("#preview")).to_contain_text("[Placeholder] Java for kids")
    expect(page.locator("#offline-banner")).to_be_visible()
    expect(page.locator("#offline-banner")).to_have_text(
        "Offline provider: placeholder content, no model involved"
    )
    expect(page.locator("#model")).to_have_text("offline-placeholder")

    page.click("#save")
    expect(log_items(page, '[data-type="saved"]')).to_have_count(1)
    saved = frame_json(page, '[data-type="saved"]')
    assert saved["created"] is True
    assert [o["type"] for o in saved["objects"]].count("lesson") == 6
    course_id = next(o["id"] for o in saved["objects"] if o["type"] == "course")
    expect(page.locator("#saved")).to_contain_text(f"course #{course_id}")
    expect(page.locator("#saved")).to_contain_text("lesson #")

    page.click("#history")
    expect(page.locator("#history-list li")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_reload_in_the_middle_of_a_stream_resumes_it(page, slow_server):
    """After a reload the page keeps the text it had, resumes after its last index, completes."""
    sign_in(page, slow_server)
    page.fill("#prompt", "Rust for teenagers")
    page.click("#send")
    # A locator, not wait_for_function: the page's CSP forbids the eval that one would use.
    log_items(page, '[data-type="streaming"]').nth(19).wait_for(state="attached")
    assert log_items(page, '[data-type="complete"]').count() == 0

    page.reload()
    expect(page.locator("#text")).not_to_have_text("")  # the kept text shows at once
    resume = frame_json(page, '[data-direction="out"][data-type="resume"]')
    assert resume["after_index"] >= 19
    expect(log_items(page, '[data-type="complete"]')).to_have_count(1, timeout=60_000)

    indexes = page.eval_on_selector_all(
        '#frame-log li[data-type="streaming"] pre',
        "els => els.map(e => JSON.parse(e.textContent).index)",
    )
    assert indexes[0] == resume["after_index"] + 1  # nothing replayed twice, nothing skipped
    assert indexes == list(range(indexes[0], indexes[0] + len(indexes)))
    complete = frame_json(page, '[data-type="complete"]')
    assert json.loads(page.locator("#text").text_content()) == complete["data"]
    expect(page.locator("#preview")).to_contain_text("[Placeholder] Rust for teenagers")
    expect(page.locator("#stream-state")).to_have_text("")
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('lectern.playground'))")
    assert stored["streaming"] is False


def test_an_error_shows_as_the_protocol_sends_it(page, lectern_server):
    """A lesson that does not exist is answered `not_found`: the log and the page show it."""
    sign_in(page, lectern_server)
    page.select_option("#endpoint", "lesson")
    expect(page.locator("#status")).to_have_attribute("data-status", "ready")
    page.fill("#context", json.dumps({"lesson_id": 999999}))
    page.click("#send")

    error = log_items(page, '[data-type="error"]')
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("data-code", "not_found")
    expect(error.locator("summary")).to_contain_text("not_found")
    message = frame_json(page, '[data-type="error"]')
    assert message["code"] == "not_found"
    assert message["request_id"] == frame_json(page, '[data-type="message"]')["request_id"]
    expect(page.locator("#last-error")).to_have_text(f"not_found: {message['message']}")


CLIENT = "/static/ai_chat/lectern-client.js"


def test_client_reconnects_after_a_dropped_socket_and_resumes_the_stream(page, slow_server):
    """LecternClient, on its own: a dropped socket reconnects and resumes after the last index."""
    page.goto(f"{slow_server.url}/accounts/login/")  # same origin, for the module and the cookie
    sign_in(page, slow_server)
    result = page.evaluate(
        """async ([module, url]) => {
            const { LecternClient } = await import(module);
            const frames = [], sent = [], statuses = [];
            const client = new LecternClient(url, {
                onFrame: (f) => frames.push(f), onSend: (f) => sent.push(f),
                onStatus: (s) => statuses.push(s),
            });
            await client.connect();
            client.request({ type: "message", content: "Go for kids", context: {} });
            const until = async (test) => {
                const deadline = Date.now() + 30000;
                while (!test()) {
                    if (Date.now() > deadline) {
                        throw new Error(JSON.stringify({ frames, sent, statuses }).slice(-3000));
                    }
                    await new Promise((r) => setTimeout(r, 20));
                }
            };
            await until(() => frames.filter((f) => f.type === "streaming").length >= 10);
            client.ws.close(4000, "simulated drop");
            await until(() => frames.some((f) => ["complete", "error"].includes(f.type)));
            client.close();
            await until(() => statuses.at(-1) === "closed");
            return { frames, sent, statuses };
        }""",
        [CLIENT, f"{slow_server.ws_url}/ws/ai/course-generation/"],
    )
    indexes = [f["index"] for f in result["frames"] if f["type"] == "streaming"]
    assert indexes == list(range(len(indexes)))  # no chunk twice, none missing
    assert result["frames"][-1]["type"] == "complete"
    text = "".join(f["chunk"] for f in result["frames"] if f["type"] == "streaming")
    assert json.loads(text) == result["frames"][-1]["data"]
    resume = next(f for f in result["sent"] if f["type"] == "resume")
    assert resume["after_index"] >= 9
    assert "reconnecting" in result["statuses"]
    assert result["statuses"][-1] == "closed"


FAKE_SERVER = """
// A stand-in for the server: `auth` is always accepted; other frames get fake.respond(frame).
window.fake = { sockets: [], sent: [], respond: () => null };
window.WebSocket = class {
    static OPEN = 1;
    constructor(url) {
        this.url = url; this.readyState = 0; fake.sockets.push(this);
        setTimeout(() => { this.readyState = 1; this.onopen?.(); }, 0);
    }
    send(text) {
        const frame = JSON.parse(text);
        fake.sent.push(frame);
        const answer = frame.type === "auth"
            ? { type: "auth_success", user: { id: 1 } } : fake.respond(frame);
        if (answer) this.reply({ ...answer, request_id: frame.request_id });
    }
    reply(frame) { setTimeout(() => this.onmessage?.({ data: JSON.stringify(frame) }), 0); }
    close(code = 1000) {
        this.readyState = 3;
        setTimeout(() => this.onclose?.({ code }), 0);
    }
};
"""


def test_client_refreshes_an_expired_token_and_retries_the_request_once(page, lectern_server):
    """On `token_expired` the client gets a fresh token, sends `auth`, retries the request once."""
    page.add_init_script(FAKE_SERVER)
    page.goto(f"{lectern_server.url}/accounts/login/")
    result = page.evaluate(
        """async (module) => {
            const { LecternClient } = await import(module);
            const frames = [], seen = {};
            let tokens = 0;
            // A ping succeeds once retried; a history request keeps failing.
            fake.respond = (f) => {
                seen[f.request_id] = (seen[f.request_id] || 0) + 1;
                if (f.type === "ping" && seen[f.request_id] > 1) return { type: "pong" };
                return { type: "error", code: "token_expired", message: "old", retryable: false };
            };
            const client = new LecternClient("ws://fake/", {
                getToken: async () => `token-${++tokens}`, onFrame: (f) => frames.push(f),
            });
            await client.connect();
            const first = client.request({ type: "ping" });
            const second = client.request({ type: "history", conversation_id: "c" });
            await new Promise((r) => setTimeout(r, 300));
            client.close();
            return { frames, sent: fake.sent, tokens, first, second };
        }""",
        CLIENT,
    )
    sent = [(f["type"], f.get("token") or f.get("request_id")) for f in result["sent"]]
    first, second = result["first"], result["second"]
    assert sent == [
        ("auth", "token-1"),
        ("ping", first),
        ("history", second),
        ("auth", "token-2"),  # one refresh for both expired requests
        ("ping", first),
        ("history", second),
    ]
    assert result["tokens"] == 2
    answered = [(f["type"], f.get("code"), f.get("request_id")) for f in result["frames"]]
    assert answered == [
        ("auth_success", None, None),
        ("auth_success", None, None),
        ("pong", None, first),
        ("error", "token_expired", second),  # its retry failed too: now the caller hears
    ]


def test_client_does_not_reconnect_after_a_final_close_code(page, lectern_server):
    """Close 4401 (auth) ends the client; an ordinary drop reconnects with backoff."""
    page.add_init_script(FAKE_SERVER)
    page.goto(f"{lectern_server.url}/accounts/login/")
    result = page.evaluate(
        """async (module) => {
            const { LecternClient } = await import(module);
            const run = async (code) => {
                fake.sockets.length = 0;
                const statuses = [];
                const client = new LecternClient("ws://fake/", {
                    getToken: async () => "t",
                    onStatus: (s, d) => statuses.push([s, d?.code ?? null]),
                });
                await client.connect();
                fake.sockets[0].close(code);
                await new Promise((r) => setTimeout(r, 1500));
                client.close();
                return { statuses, sockets: fake.sockets.length };
            };
            return { final: await run(4401), drop: await run(1006) };
        }""",
        CLIENT,
    )
    assert result["final"]["sockets"] == 1
    assert result["final"]["statuses"][-1] == ["closed", 4401]
    assert result["drop"]["sockets"] == 2
    assert ["reconnecting", 1006] in result["drop"]["statuses"]


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    """A server whose database has no course, lesson or assignment yet."""
    live = start_live_server(tmp_path_factory.mktemp("empty"))
    create_user(live, "sam", "pw-sam-123", staff=True)
    yield live
    live.stop()


def test_an_endpoint_without_a_row_to_point_at_says_so(page, empty_server):
    """With no lesson to edit, the lesson example says so instead of naming lesson 1; the
    course example, which needs no row, is filled in."""
    sign_in(page, empty_server)
    page.select_option("#endpoint", "lesson")
    expect(page.locator("#local-error")).to_have_text(
        "No example context: you have no lesson you may edit yet."
    )
    assert json.loads(page.locator("#context").input_value()) == {}
    page.select_option("#endpoint", "course")
    expect(page.locator("#local-error")).to_have_text("")
    assert json.loads(page.locator("#context").input_value())["age_range"] == "8-12"
