"""Every page a demo persona reaches, on a phone-sized screen and under axe-core (issue #15.3).

For each persona of the demo world (README "Demo users") the browser signs in and crawls, breadth
first from the home page, every same-origin page linked from the navigation and from the pages it
reaches (GET only; not sign-out, downloads, the API, the machine-readable catalog or the admin
beyond its index), at most ``PAGE_LIMIT`` pages and ``PER_PATTERN`` of one shape (``/grants/N/``)
so that every kind of page is seen in reasonable time. At a 390 px wide viewport, on each page:

- the page does not scroll sideways: ``document.documentElement.scrollWidth <= 390`` (wide
  tables scroll inside their own ``.table-wrap``); the message names the widest elements;
- the content's buttons, inputs and selects are at least 44 px tall (touch-sized);
- axe-core finds no violation of impact *serious* or *critical*.

All offenders are reported at once. axe-core is the npm package pinned in
tests/browser/package.json (``npm ci --prefix tests/browser``; .ci/run does it). It cannot be
added as a ``<script>`` element: the Content-Security-Policy (script-src 'self') refuses inline
scripts, and ``add_script_tag(path=...)`` inlines the file. ``page.evaluate(source)`` runs it
through the DevTools protocol instead, which the page's policy does not govern, so the pages are
checked under their real CSP (no ``bypass_csp``).

One browser serves the whole module; each persona gets a fresh context (its own cookies).
"""

import os
import re
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from access_requests.models import Request
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, IN_CI

DEMO_PASSWORD = "demo-pass-2026"
PERSONAS = ["office", "auditor", "health_steward", "civil_clerk", "police_clerk", "admin"]
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
PAGE_LIMIT = 60
PER_PATTERN = 2
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SKIPPED_PREFIXES = (
    "/accounts/logout/",
    "/api/",
    "/static/",
    "/media/",
    "/dsp/",
    "/.well-known/",
    "/id/",
    "/i18n/",
)
DOWNLOAD = re.compile(r"(\.(csv|pdf|ttl|jsonld|json|xml)$)|/download/|/receipt/")
SERIOUS = ("serious", "critical")

# The innermost elements that reach past the right edge and are not inside a container that
# scrolls or clips them, widest first (for the failure message).
WIDEST = """(limit) => {
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter(
    (el) => el.getBoundingClientRect().right > limit + 0.5 && !clipped(el));
  const innermost = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  const where = (el) => {
    const part = el.parentElement && el.parentElement.closest("header, nav, main, footer, table");
    return part ? name(part) + " " : "";
  };
  return innermost
    .map((el) => [Math.round(el.getBoundingClientRect().right), where(el) + name(el)])
    .sort((a, b) => b[0] - a[0]).slice(0, 3)
    .map(([right, label]) => `${label} (to ${right}px)`);
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")  # the conftest guard fails in CI
    # See conftest.py's ``page``: the ORM runs in this thread beside Playwright's event loop.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture
def axe_source():
    if not AXE.is_file():
        reason = f"needs axe-core at {AXE} (npm ci --prefix tests/browser)"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: a missing tool is a failure, not a skip)")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", rows=30, stdout=open(os.devnull, "w"))  # noqa: SIM115


def sign_in(browser, live_server, username, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"
    return context, page


def _shape(path):
    """``/grants/12/?page=2`` → ``/grants/N/?page``: pages of one kind."""
    parts = urlsplit(path)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def _crawlable(path):
    if path.startswith("/admin/"):
        return path == "/admin/"
    return not path.startswith(SKIPPED_PREFIXES) and not DOWNLOAD.search(urlsplit(path).path)


def crawl(page, live_server, visit):
    """Visit every page reachable from the home page (see the module docstring); ``visit(path)``
    runs on each HTML page. Returns the paths visited."""
    origin = urlsplit(live_server.url).netloc
    queue, queued, shapes, visited = deque(["/"]), {"/"}, Counter(), []
    while queue and len(visited) < PAGE_LIMIT:
        path = queue.popleft()
        try:
            response = page.goto(live_server.url + path)
        except PlaywrightError:  # a download the patterns did not catch
            continue
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        here = urlsplit(page.url)
        visited.append(here.path + (f"?{here.query}" if here.query else ""))
        visit(visited[-1])
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url, _fragment = urldefrag(urljoin(page.url, href))
            parts = urlsplit(url)
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.netloc != origin or link in queued or not _crawlable(link):
                continue
            queued.add(link)
            if shapes[_shape(link)] < PER_PATTERN:
                shapes[_shape(link)] += 1
                queue.append(link)
    return visited


# Buttons, button-like links, inputs and selects in the page's content (the header's belong to
# the header) shorter than a fingertip: 44 px.
SMALL_CONTROLS = """() => [...document.querySelectorAll(
    "main :is(button, .button, input:not([type=checkbox], [type=radio], [type=hidden]), select)")]
  .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
  .slice(0, 3)
  .map((el) => `${el.tagName.toLowerCase()}${el.name ? "[name=" + el.name + "]" : ""}`
    + ` "${(el.textContent || el.value || "").trim().slice(0, 30)}"`
    + ` ${Math.round(el.getBoundingClientRect().height)}px`)"""

# axe's result, reduced to what the failure message needs; the engine's name proves it ran.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return {engine: result.testEngine.name, violations: result.violations.map((v) => ({
    id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))};
}"""


class Findings:
    """What the pages got wrong, page by page, for one message listing them all."""

    def __init__(self, page, axe_source):
        self.page, self.axe_source = page, axe_source
        self.too_wide: dict[str, str] = {}
        self.small: dict[str, list[str]] = {}
        self.violations: list[str] = []

    def check(self, path):
        page = self.page
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"] and not path.startswith("/admin/"):  # the admin is Django's
            self.too_wide[path] = f"{width}px: " + "; ".join(page.evaluate(WIDEST, NARROW["width"]))
        if not path.startswith("/admin/") and (small := page.evaluate(SMALL_CONTROLS)):
            self.small[path] = small
        page.evaluate(self.axe_source)
        result = page.evaluate(AXE_RUN)
        assert result["engine"] == "axe-core", result
        self.violations.extend(
            f"{path} {v['id']} ({v['impact']}): {', '.join(v['targets'])}"
            for v in result["violations"]
            if v["impact"] in SERIOUS
        )

    def report(self, who, pages):
        return (
            f"{who}: {pages} pages; wider than {NARROW['width']}px: {self.too_wide}; "
            f"controls under 44px: {self.small}; "
            "axe (serious, critical):\n" + "\n".join(self.violations)
        )


@pytest.mark.browser
@pytest.mark.parametrize("username", PERSONAS)
def test_every_page_fits_a_phone_and_has_no_serious_axe_violation(
    browser, live_server, demo, axe_source, username
):
    context, page = sign_in(browser, live_server, username, NARROW)
    findings = Findings(page, axe_source)
    try:
        visited = crawl(page, live_server, findings.check)
    finally:
        context.close()
    # The crawl really walked the portal, not a sign-in page.
    assert len(visited) >= 10, visited
    assert any(path.startswith("/catalog/") for path in visited), visited
    assert findings.too_wide == findings.small == {} and findings.violations == [], findings.report(
        username, len(visited)
    )


@pytest.mark.browser
def test_sign_in_page_and_public_register_fit_a_phone_and_pass_axe(
    browser, live_server, demo, axe_source
):
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    findings = Findings(page, axe_source)
    try:
        for path in ("/accounts/login/", "/register/"):
            page.goto(live_server.url + path)
            findings.check(path)
        rows = page.locator("table.list tbody tr").count()
    finally:
        context.close()
    assert rows >= 1  # the register lists the demo's active grant
    assert findings.too_wide == findings.small == {} and findings.violations == [], findings.report(
        "anonymous", 2
    )


def _office_review_request():
    return Request.objects.filter(state=Request.State.OFFICE_REVIEW).order_by("pk").first()


@pytest.mark.browser
def test_decision_page_and_scoreboard_at_desktop_and_phone_width(
    browser, live_server, demo, artifacts_dir
):
    """Screenshots of the office's decision page (a request in management review) and the
    scoreboard, at 1280 and 390 px; the scoreboard's table fits 1280 px and its charts keep
    their natural size (never stretched, shrunk on a phone)."""
    decision = _office_review_request()
    assert decision is not None
    for width, viewport in ((1280, WIDE), (390, NARROW)):
        context, page = sign_in(browser, live_server, "office", viewport)
        try:
            page.goto(f"{live_server.url}/requests/{decision.pk}/")
            assert page.get_by_role("button", name="Approve").count() >= 1
            page.screenshot(
                path=str(artifacts_dir / f"decision-office-{width}.png"), full_page=True
            )

            page.goto(live_server.url + "/scoreboard/")
            page.screenshot(path=str(artifacts_dir / f"scoreboard-{width}.png"), full_page=True)
            table = page.locator(".table-wrap").first
            fits = table.evaluate("el => el.scrollWidth <= el.clientWidth")
            chart = page.locator("figure.chart svg").first.bounding_box()
            body = page.evaluate("getComputedStyle(document.body).fontSize")
            label = page.locator("figure.chart svg text").first.evaluate(
                "el => getComputedStyle(el).fontSize"
            )
        finally:
            context.close()
        assert chart is not None
        if width == 1280:
            assert fits, "the scoreboard's table scrolls at 1280 px"
            assert (chart["width"], label, body) == (400, "16px", "16px")
        else:
            assert chart["width"] <= 390 - 2 * 16
        for name in (f"decision-office-{width}.png", f"scoreboard-{width}.png"):
            assert (artifacts_dir / name).stat().st_size > 0
