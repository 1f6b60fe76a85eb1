"""End-to-end journey through the catalog in a real browser (Debian's Chromium via Playwright).

The ``browser`` marker lets the autouse guard in conftest.py skip these tests locally (or fail
them under ``CI=true``) when Chromium is missing.

``live_server`` runs Django in a separate thread with its own database connection, so it can only
see committed rows: pytest-django therefore switches any test that requests ``live_server`` to
``transactional_db`` semantics, and the data fixtures (``released``, ``steward``) commit for real.
The ``page`` fixture and ``CSP_LISTENER`` live in conftest.py (tests/test_browser_zh.py uses
them too).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import CSP_LISTENER, PASSWORD


@pytest.mark.browser
def test_steward_signs_in_searches_and_opens_a_resource(
    live_server, released, steward, page, artifacts_dir
):
    # Every page needs a signed-in user: the root sends an anonymous visitor to sign in.
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    assert "Sign in" in page.title()

    page.get_by_label("Username").fill(steward.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # After sign-in the home page (the task list); the navigation leads to the catalog.
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    expect(page).to_have_url(re.compile(r"/catalog/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Data catalog")

    # exact: the search form's aria-label "Search the catalog" would also match "Search".
    page.get_by_label("Search", exact=True).fill("vaccination")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]search=vaccination"))

    result = page.get_by_role("link", name="Vaccination records", exact=True)
    expect(result).to_be_visible()
    result.click()

    expect(page).to_have_url(re.compile(rf"/catalog/{released.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vaccination records")
    items = page.locator("section[aria-labelledby=items]")
    expect(items.get_by_role("cell", name="resident_id", exact=True)).to_be_visible()

    releases = page.locator("section[aria-labelledby=releases] tbody tr")
    expect(releases).to_have_count(1)
    # Columns: release, accepted, rows, SHA-256, uploaded by.
    expect(releases.first.locator("td").nth(0)).to_contain_text("1")
    expect(releases.first.locator("td").nth(2)).to_have_text("3")
    expect(releases.first.locator("td").nth(4)).to_have_text(steward.username)

    screenshot = artifacts_dir / "catalog-resource.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.is_file()
    assert screenshot.stat().st_size > 0


@pytest.mark.browser
def test_first_tab_focuses_the_skip_link(live_server, steward, page):
    page.goto(live_server.url + "/accounts/login/?next=/catalog/")
    page.get_by_label("Username").fill(steward.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/catalog/$"))

    # A fresh load, so focus starts at the top of the document.
    page.reload(wait_until="load")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    # The link is off-screen until focused; focused, it must be visible on screen.
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0

    skip.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


@pytest.fixture
def superuser(django_user_model):
    # Made before the browser opens: an ORM call from inside Playwright's event loop would get a
    # connection of its own that outlives the test (and blocks dropping the test database).
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


@pytest.mark.browser
def test_pages_admin_and_api_docs_run_under_the_csp_without_violations(
    live_server, released, steward, superuser, page
):
    page.context.add_init_script(CSP_LISTENER)
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    seen = {}

    def violations(path):
        seen[path] = page.evaluate("window.__cspViolations")
        return seen[path]

    page.goto(live_server.url + "/accounts/login/")
    assert violations("/accounts/login/") == []
    page.get_by_label("Username").fill(steward.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    assert violations("/") == []
    page.goto(live_server.url + "/catalog/")
    assert violations("/catalog/") == []

    for path, heading in [
        ("/catalog/new/", "New catalog entry"),
        (f"/catalog/{released.pk}/", "Vaccination records"),
        ("/accounts/password/", "Change your password"),
    ]:
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert violations(path) == []

    # The API docs: Swagger UI renders the schema (its start-up script is a file).
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("govshare API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations("/api/docs/") == []

    # Django admin: a change form with its widgets and scripts, as the office's superuser.
    page.goto(live_server.url + "/catalog/")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(superuser.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert violations("/admin/") == []
    page.goto(live_server.url + f"/admin/auth/user/{steward.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()
    # The permission pickers are built by admin's SelectFilter script.
    expect(page.locator("#id_user_permissions_from")).to_be_visible()
    assert violations("/admin/auth/user/change/") == []
    page.goto(live_server.url + "/admin/sharing/delivery/")
    expect(page.locator(".govshare-schedules")).to_be_visible()
    assert violations("/admin/sharing/delivery/") == []

    assert all(found == [] for found in seen.values()), seen
    assert [line for line in console if "Content Security Policy" in line] == []
