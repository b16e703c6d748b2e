"""Every page carries a Content-Security-Policy, and works under it in Chromium: no script,
style or socket of the page itself is blocked."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_playground import browser, log_items, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

# Recorded before any script of the page runs: what the policy blocked, and where.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
    const where = `${e.sourceFile}:${e.lineNumber}`;
    window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def violations(on: Page) -> list[str]:
    return on.evaluate("window.cspViolations")


def test_pages_carry_a_policy_and_nothing_of_theirs_is_blocked(page, lectern_server):  # noqa: F811
    page.add_init_script(RECORD_VIOLATIONS)
    blocked_in_console: list[str] = []
    page.on(
        "console",
        lambda m: blocked_in_console.append(m.text) if "Content Security Policy" in m.text else 0,
    )
    policies = {}
    page.on(
        "response",
        lambda r: (
            policies.__setitem__(r.url, r.headers.get("content-security-policy"))
            if r.request.resource_type == "document"
            else None
        ),
    )

    sign_in(page, lectern_server)  # the sign-in form (an inline style with the nonce), then `/`
    assert violations(page) == []
    page.fill("#prompt", "CSP for kids")
    page.click("#send")  # the socket (connect-src 'self') streams a whole generation
    expect(log_items(page, '[data-type="complete"]')).to_have_count(1)
    assert violations(page) == []

    for path in (
        "/events/",
        "/courses/import/",
        "/admin/",
        "/admin/ai_chat/aiconversation/",
        "/admin/courses/course/add/",
        "/api/docs",
    ):
        page.goto(f"{lectern_server.url}{path}")
        expect(page.locator("body")).to_be_visible()
        assert violations(page) == [], path
    page.goto(f"{lectern_server.url}/admin/ai_chat/aiconversation/")
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#content")).to_contain_text("CSP for kids")
    assert violations(page) == []

    assert blocked_in_console == []
    assert len(policies) >= 8
    for url, policy in policies.items():
        assert policy and "script-src 'self'" in policy and "object-src 'none'" in policy, url
        assert "unsafe-inline" not in policy, url


def test_an_inline_script_without_the_nonce_is_blocked(page, lectern_server):  # noqa: F811
    """The policy is enforced, not only sent: a script injected into the page does not run."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{lectern_server.url}/accounts/login/")
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.injected = true";
            document.body.append(s);
        }"""
    )
    assert page.evaluate("window.injected === undefined")
    assert any(v.startswith("script-src") for v in violations(page))
