"""Each demo persona's home page in Chromium (#15 points 1 and 2): their seeded tasks, every
navigation link opening, the header on one line at 1280 px and collapsed behind "Menu" at
390 px, with JavaScript off, without sideways scrolling; screenshots of both widths."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.test_home_views import seeded_tasks

DEMO_PASSWORD = "demo-pass-2026"
PERSONAS = ["office", "auditor", "health_steward", "civil_clerk", "police_clerk", "admin"]
NAV_ITEMS = "nav[aria-label=Main] > ul > li"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115


def sign_in(page, url, username):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


@pytest.mark.browser
@pytest.mark.parametrize("username", PERSONAS)
def test_each_persona_sees_their_tasks_and_a_navigation_that_fits(
    live_server, demo, page, artifacts_dir, username
):
    expected = seeded_tasks(username)  # before the browser: the ORM in the test's thread
    url = live_server.url
    sign_in(page, url, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work")

    # What waits for them, each item a link to where it is done.
    waiting = page.locator("section[aria-labelledby=waiting-for-you] a.task-title")
    expect(waiting).to_have_count(len(expected))
    for index, (href, text) in enumerate(expected):
        expect(waiting.nth(index)).to_have_text(text)
        expect(waiting.nth(index)).to_have_attribute("href", href)
    if not expected:
        expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()

    # 1280 px: every entry of the navigation on one line, no label broken over two.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    heights = page.eval_on_selector_all(
        NAV_ITEMS, "items => items.map(li => li.getBoundingClientRect().height)"
    )
    line = page.eval_on_selector(
        "nav[aria-label=Main]", "nav => parseFloat(getComputedStyle(nav).lineHeight)"
    )
    assert heights and max(heights) < 2 * line, heights
    tops = page.eval_on_selector_all(
        NAV_ITEMS, "items => items.map(li => Math.round(li.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, tops  # one row
    page.screenshot(path=str(artifacts_dir / f"home-{username}-1280.png"), full_page=True)

    # Every link of the navigation answers 200 with an HTML page (the group's links too).
    hrefs = page.eval_on_selector_all(
        "nav[aria-label=Main] a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert "/" in hrefs and "/catalog/" in hrefs
    for href in hrefs:
        answer = page.request.get(url + href)
        assert (href, answer.status) == (href, 200)
        assert answer.headers["content-type"].startswith("text/html"), href

    # 390 px: the screenshot with the menu closed; no sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir / f"home-{username}-390.png"), full_page=True)
    for width in (1280, 390):
        shot = artifacts_dir / f"home-{username}-{width}.png"
        assert shot.is_file() and shot.stat().st_size > 0


@pytest.mark.browser
def test_the_narrow_menu_opens_without_javascript_with_touch_sized_links(
    live_server, demo, page, artifacts_dir
):
    browser = page.context.browser
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        narrow = context.new_page()
        url = live_server.url
        sign_in(narrow, url, "health_steward")
        nav = narrow.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        # The count is on the closed menu's button too.
        menu = narrow.locator("summary", has_text="Menu")
        expect(menu.locator(".badge-count")).to_have_text("3")
        menu.click()
        expect(nav).to_be_visible()
        targets = narrow.eval_on_selector_all(
            "nav[aria-label=Main] > ul > li > a, nav[aria-label=Main] summary, "
            ".signout a, .signout button",
            "els => els.map(e => [e.textContent.trim(), e.getBoundingClientRect().height])",
        )
        # Eight entries, the governance group, the password link and the sign-out button.
        assert len(targets) == 11
        assert [name for name, height in targets if height < 44] == []
        # The governance group opens in place, its links as large.
        narrow.locator("summary", has_text="Governance").click()
        quality = nav.get_by_role("link", name="Quality reports")
        expect(quality).to_be_visible()
        assert quality.bounding_box()["height"] >= 44
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
        narrow.screenshot(path=str(artifacts_dir / "home-menu-open-390.png"), full_page=True)
        quality.click()
        expect(narrow).to_have_url(url + "/governance/quality/")
        expect(narrow.get_by_role("heading", level=1)).to_have_text("Quality reports")
    finally:
        context.close()
