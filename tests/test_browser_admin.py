"""The office's admin lists fit a 1280 px wide screen (#15.8): no horizontal scroll on the main
changelists, with the demo world's data in them (Debian's Chromium via Playwright)."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from tests.beat_schedule import beat_schedule_seed
from tests.conftest import CSP_LISTENER

PASSWORD = "demo-pass-2026"  # seed_demo's default
OFFICE_LISTS = [
    "/admin/access_requests/request/",
    "/admin/rights/grant/",
    "/admin/rights/attestation/",
    "/admin/rights/grantusage/",
    "/admin/sharing/delivery/",
    "/admin/catalog/resource/",
    "/admin/catalog/release/",
    "/admin/catalog/dataitem/",
    "/admin/standards/agreement/",
    "/admin/standards/agreementsignature/",
    "/admin/governance/qualityreport/",
    "/admin/governance/demand/",
    "/admin/governance/dispute/",
    "/admin/governance/resourcefreshness/",
    "/admin/departments/department/",
    "/admin/departments/membership/",
    "/admin/workdays/holiday/",
    "/admin/workdays/reviewpolicy/",
    "/admin/django_celery_beat/periodictask/",
    "/admin/django_celery_beat/intervalschedule/",
    "/admin/django_celery_beat/crontabschedule/",
    "/admin/notifications/notification/",
    "/admin/ledger/ledgercheckpoint/",
    "/admin/ledger/ledgerwitness/",
    "/admin/axes/accessattempt/",
]
AUDITOR_LISTS = ["/admin/ledger/ledgerentry/", "/admin/audit/accesslog/"]


def _sign_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/")


def _too_wide(page, base, paths):
    """Each list wider than the window or than its box, with the widths."""
    wide = {}
    for path in paths:
        response = page.goto(base + path)
        assert response.status == 200, path
        assert page.locator("#changelist").count() == 1, path
        # The page must not scroll sideways, nor the list inside its box (admin's .results
        # scrolls on its own, hiding the columns on the right).
        page_width, list_width, box_width = page.evaluate(
            "[document.documentElement.scrollWidth,"
            " document.querySelector('#changelist .results')?.scrollWidth ?? 0,"
            " document.querySelector('#changelist .results')?.clientWidth ?? 0]"
        )
        if page_width > 1280 or list_width > box_width:
            wide[path] = (page_width, list_width, box_width)
        assert page.evaluate("window.__cspViolations") == [], path
    return wide


@pytest.mark.browser
def test_admin_lists_fit_1280_px_for_the_office_and_the_auditor(live_server, page, artifacts_dir):
    beat_schedule_seed()  # an earlier transactional test's flush may have taken the jobs away
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115
    page.add_init_script(CSP_LISTENER)
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(page, live_server.url, "office")
    office = _too_wide(page, live_server.url, OFFICE_LISTS)
    page.goto(live_server.url + "/admin/access_requests/request/")
    expect(page.locator("#result_list th.column-state")).to_be_in_viewport()
    page.screenshot(path=str(artifacts_dir / "admin-requests-1280.png"))
    # A job's page: the office saves it; its widgets' scripts are files (the CSP holds).
    sweep = PeriodicTask.objects.get(name="deliveries-sweep")
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{sweep.pk}/change/")
    expect(page.locator('input[name="_save"]')).to_be_visible()
    expect(page.locator("#id_interval")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(artifacts_dir / "admin-periodic-task-1280.png"), full_page=True)
    page.context.clear_cookies()
    _sign_in(page, live_server.url, "auditor")
    auditor = _too_wide(page, live_server.url, AUDITOR_LISTS)
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{sweep.pk}/change/")
    expect(page.get_by_text("deliveries-sweep").first).to_be_visible()
    expect(page.locator('input[name="_save"]')).to_have_count(0)
    assert (office, auditor) == ({}, {})
