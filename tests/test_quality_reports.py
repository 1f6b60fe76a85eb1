"""Quality reports and freshness: the flow, every refused actor (nothing changes), the pages, the
resource panel, deadlines and the stale flag."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests import services as rs
from catalog import services as catalog_services
from catalog.models import Resource
from departments.models import Membership
from governance import tasks
from governance.models import QualityReport, ResourceFreshness
from governance.services import freshness as freshness_services
from governance.services import quality as gs
from ledger.models import LedgerEntry
from notifications.models import Notification
from rights import services as grant_services
from rights.models import Grant
from tests.conftest import GOOD_CSV, ITEMS, csv_upload, make_user, resource_data
from workdays.deadlines import add_working_days

# Remove once catalog.governance_urls and the API routes are wired into the project's URLs.

REPORTS = "/api/v1/quality-reports/"
R = QualityReport.State


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def post(user, path, body=None):
    return api(user).post(path, body or {}, format="json")


@pytest.fixture
def police_requester(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


@pytest.fixture
def grant(request_draft, requester, steward, reviewer):
    """CIVIL's active grant on the released HEALTH resource."""
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=reviewer, request=request_draft)
    return Grant.objects.get(request=request_draft)


@pytest.fixture
def personas(requester, steward, reviewer, police_requester, outsider_steward, owner_requester):
    return {
        "requester": requester,  # CIVIL, holds the grant: the reporter
        "steward": steward,  # HEALTH, the owner
        "reviewer": reviewer,  # OFFICE
        "police_requester": police_requester,  # uninvolved
        "outsider_steward": outsider_steward,  # uninvolved, a steward elsewhere
        "owner_requester": owner_requester,  # HEALTH, but not a steward
    }


def file_report(grant, requester, **overrides):
    data = {
        "actor": requester,
        "department": grant.grantee_department,
        "resource": grant.resource,
        "kind": "wrong_value",
        "item": "birth_date",
        "lines": [3, 2],
        "description": "Line 2 has a birth date after the first dose.",
    }
    data.update(overrides)
    return gs.quality_report_file(**data)


@pytest.fixture
def report(grant, requester):
    return file_report(grant, requester)


def snapshot(report):
    """Everything a refused step must leave as it was."""
    report = QualityReport.objects.get(pk=report.pk)
    return (
        report.state,
        report.answer,
        report.due_date,
        report.resolution_release_id,
        report.steps.count(),
        report.history.count(),
        LedgerEntry.objects.count(),
        QualityReport.objects.count(),
    )


def reach(report, state, p):
    if state in ("acknowledged", "resolved", "closed"):
        gs.quality_report_acknowledge(actor=p["steward"], report=report)
    if state in ("resolved", "closed"):
        gs.quality_report_resolve(actor=p["steward"], report=report, reason="Corrected.")
    if state == "closed":
        gs.quality_report_confirm(actor=p["requester"], report=report)
    report.refresh_from_db()
    assert report.state == state
    return report


# --- filing ---------------------------------------------------------------------------------


def test_grantee_files_a_report_and_the_owners_stewards_are_told(grant, requester, steward):
    before = LedgerEntry.objects.count()
    response = post(
        requester,
        REPORTS,
        {
            "resource": grant.resource_id,
            "kind": "wrong_value",
            "item": "birth_date",
            "lines": [4, 2, 2],
            "description": "Birth date after the first dose.",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "open"
    assert (body["reporting_department"], body["owner_department"]) == ("CIVIL", "HEALTH")
    assert (body["kind"], body["item"], body["lines"], body["release"]) == (
        "wrong_value",
        "birth_date",
        [2, 4],
        1,
    )
    assert body["due_date"] == add_working_days(timezone.localdate(), 10).isoformat()
    assert [step["action"] for step in body["steps"]] == ["file"]
    assert body["steps"][0]["ledger_index"] == before
    entry = LedgerEntry.objects.get(index=before)
    assert LedgerEntry.objects.count() == before + 1
    assert entry.entry_type == "quality_report.file"
    assert b"Birth date after" not in bytes(entry.entry)  # the description only as a hash
    told = Notification.objects.get(recipient=steward, subject__startswith="Quality report")
    assert told.url == f"/governance/quality/{body['id']}/"
    assert "Answer within 10 working days" in told.body
    assert not Notification.objects.filter(
        recipient=requester, subject__startswith="Quality report"
    ).exists()


def test_the_office_may_report_on_any_resource(released, reviewer):
    response = post(
        reviewer,
        REPORTS,
        {"resource": released.pk, "kind": "stale", "description": "Not updated since spring."},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["reporting_department"] == "OFFICE"


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("police_requester", "holding a grant"),
        ("outsider_steward", "holding a grant"),
        ("steward", "holding a grant"),  # the owner corrects its data without a report
        ("owner_requester", "holding a grant"),
    ],
)
def test_departments_without_a_grant_cannot_report(grant, personas, who, message):
    response = post(
        personas[who],
        REPORTS,
        {"resource": grant.resource_id, "kind": "missing", "description": "Rows are missing."},
    )
    assert response.status_code == 403, response.json()
    assert message in response.json()["detail"]
    assert not QualityReport.objects.exists()


def test_a_revoked_grant_no_longer_allows_reporting(grant, requester, reviewer):
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")
    response = post(
        requester,
        REPORTS,
        {"resource": grant.resource_id, "kind": "missing", "description": "Rows are missing."},
    )
    assert response.status_code == 403
    assert not QualityReport.objects.exists()


def test_a_suspended_grant_still_allows_reporting(grant, requester, reviewer):
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    assert file_report(grant, requester).state == R.OPEN


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"item": "shoe_size"}, "item", "has no data item shoe_size"),
        ({"lines": [1]}, "lines", "Line 1 is the header"),
        ({"lines": [5]}, "lines", "has 3 rows (lines 2 to 4)"),
        ({"lines": list(range(2, 60))}, "lines", "no more than 50"),
        ({"description": "  "}, "description", "Describe the problem"),
        ({"kind": "ugly"}, "kind", ""),
    ],
)
def test_invalid_reports_are_400_and_file_nothing(grant, requester, overrides, field, message):
    body = {
        "resource": grant.resource_id,
        "kind": "wrong_value",
        "item": "birth_date",
        "lines": [2],
        "description": "Wrong.",
        **overrides,
    }
    before = LedgerEntry.objects.count()
    response = post(requester, REPORTS, body)
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["errors"][field])
    assert not QualityReport.objects.exists()
    assert LedgerEntry.objects.count() == before


# --- the flow -------------------------------------------------------------------------------


def test_acknowledge_resolve_with_a_new_release_reopen_answer_and_confirm(
    report, requester, steward
):
    path = f"{REPORTS}{report.pk}"
    ledger = LedgerEntry.objects.count()
    history = report.history.count()

    def check(response, state, steps):
        nonlocal ledger, history
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == state
        assert [s["action"] for s in response.json()["steps"]] == steps
        assert LedgerEntry.objects.count() == ledger + 1  # exactly one entry per step
        assert QualityReport.objects.get(pk=report.pk).history.count() == history + 1
        ledger += 1
        history += 1
        return response.json()

    body = check(post(steward, f"{path}/acknowledge/"), "acknowledged", ["file", "acknowledge"])
    assert body["due_date"] == report.due_date.isoformat()  # the deadline does not move

    catalog_services.release_ingest(
        actor=steward, resource=report.resource, upload=csv_upload(GOOD_CSV)
    )
    ledger += 1  # the release's own entry
    same = post(steward, f"{path}/resolve/", {"reason": "Fixed.", "release": 1})
    assert same.status_code == 400
    assert "name a newer release" in same.json()["errors"]["release"][0]
    body = check(
        post(steward, f"{path}/resolve/", {"reason": "Birth dates corrected.", "release": 2}),
        "resolved",
        ["file", "acknowledge", "resolve"],
    )
    assert (body["resolution_release"], body["answer"], body["due_date"]) == (
        2,
        "Birth dates corrected.",
        None,
    )
    assert Notification.objects.filter(
        recipient=requester, subject=f"Quality report #{report.pk} was resolved"
    ).exists()

    body = check(
        post(requester, f"{path}/reopen/", {"reason": "Line 4 is still wrong."}),
        "open",
        ["file", "acknowledge", "resolve", "reopen"],
    )
    assert body["due_date"] == add_working_days(timezone.localdate(), 10).isoformat()
    body = check(
        post(steward, f"{path}/answer/", {"reason": "Line 4 is right: a late registration."}),
        "answered",
        ["file", "acknowledge", "resolve", "reopen", "answer"],
    )
    body = check(
        post(requester, f"{path}/confirm/"),
        "closed",
        ["file", "acknowledge", "resolve", "reopen", "answer", "confirm"],
    )
    assert body["closed_at"]
    step = report.steps.get(action="reopen")
    assert LedgerEntry.objects.get(index=step.ledger_index).entry_type == "quality_report.reopen"


def test_a_reason_is_required_to_answer_resolve_and_reopen(report, requester, steward):
    for user, action in ((steward, "answer"), (steward, "resolve")):
        before = snapshot(report)
        response = post(user, f"{REPORTS}{report.pk}/{action}/", {"reason": " "})
        assert response.status_code == 400, action
        assert snapshot(report) == before
    gs.quality_report_answer(actor=steward, report=report, reason="The value is right.")
    before = snapshot(report)
    assert post(requester, f"{REPORTS}{report.pk}/reopen/", {"reason": ""}).status_code == 400
    assert snapshot(report) == before


# action, state it is taken in, who may, and what everyone else gets
CASES = [
    ("acknowledge", "open", "steward", 403),
    ("answer", "open", "steward", 403),
    ("resolve", "acknowledged", "steward", 403),
    ("confirm", "resolved", "requester", 403),
    ("reopen", "resolved", "requester", 403),
]
UNINVOLVED = ("police_requester", "outsider_steward")


@pytest.mark.parametrize(("action", "state", "allowed", "refused_status"), CASES)
def test_every_step_refuses_everyone_but_its_actor_and_changes_nothing(
    report, personas, action, state, allowed, refused_status
):
    report = reach(report, state, personas)
    path = f"{REPORTS}{report.pk}/{action}/"
    for name, user in personas.items():
        if name == allowed:
            continue
        before = snapshot(report)
        response = post(user, path, {"reason": "Because."})
        expected = 404 if name in UNINVOLVED else refused_status
        if name == "reviewer":
            expected = 403  # the office sees every report but acts on none of these
        assert response.status_code == expected, (name, response.json())
        assert snapshot(report) == before, name
    assert post(None, path, {"reason": "Because."}).status_code == 401
    done = post(personas[allowed], path, {"reason": "Because."})
    assert done.status_code == 200, done.json()


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("confirm", "open"),
        ("reopen", "acknowledged"),
        ("acknowledge", "resolved"),
        ("resolve", "closed"),
        ("answer", "closed"),
        ("reopen", "closed"),
    ],
)
def test_illegal_steps_are_409_and_change_nothing(report, personas, action, state):
    report = reach(report, state, personas)
    actor = personas["requester" if action in ("confirm", "reopen") else "steward"]
    before = snapshot(report)
    response = post(actor, f"{REPORTS}{report.pk}/{action}/", {"reason": "Because."})
    assert response.status_code == 409, response.json()
    assert "cannot be" in response.json()["detail"]
    assert snapshot(report) == before


def test_a_report_is_seen_by_the_parties_and_the_office_only(report, personas):
    path = f"{REPORTS}{report.pk}/"
    for name in ("requester", "steward", "reviewer", "owner_requester"):
        assert api(personas[name]).get(path).status_code == 200, name
        assert api(personas[name]).get(REPORTS).json()["count"] == 1, name
    for name in UNINVOLVED:
        assert api(personas[name]).get(path).status_code == 404, name
        assert api(personas[name]).get(REPORTS).json()["count"] == 0, name
    assert api().get(path).status_code == 401
    assert api().get(REPORTS).status_code == 401


def test_list_filters_by_state_and_resource(report, grant, requester, steward):
    gs.quality_report_acknowledge(actor=steward, report=report)
    file_report(grant, requester, kind="missing", item="", lines=[])
    client = api(steward)
    assert client.get(REPORTS, {"state": "open"}).json()["count"] == 1
    assert client.get(REPORTS, {"state": "acknowledged"}).json()["count"] == 1
    assert client.get(REPORTS, {"resource": grant.resource_id}).json()["count"] == 2
    assert client.get(REPORTS, {"resource": 999999}).json()["count"] == 0


def test_list_runs_a_fixed_number_of_queries(grant, requester, steward):
    def count(expected):
        client = APIClient()
        client.force_login(steward)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(REPORTS)
        assert response.json()["count"] == expected
        return len(captured)

    for _number in range(2):
        file_report(grant, requester)
    few = count(2)
    for _number in range(10):
        gs.quality_report_acknowledge(actor=steward, report=file_report(grant, requester))
    many = count(12)
    # session, user, roles (with the user's office departments), count, page
    assert few == many == 5


# --- deadlines and freshness ----------------------------------------------------------------


def test_overdue_reports_are_flagged_once_and_the_owner_and_office_told(report, steward, reviewer):
    today = report.due_date + datetime.timedelta(days=1)
    assert gs.quality_reports_mark_overdue(today=report.due_date) == 0
    assert gs.quality_reports_mark_overdue(today=today) == 1
    assert gs.quality_reports_mark_overdue(today=today) == 0
    report.refresh_from_db()
    assert report.overdue_since is not None
    for user in (steward, reviewer):
        assert Notification.objects.filter(recipient=user, subject__contains="overdue").count() == 1
    assert tasks.mark_overdue_quality_reports() == 0  # the task calls the same service
    # An answer stops the clock and clears the flag.
    gs.quality_report_answer(actor=steward, report=report, reason="Correct as is.")
    report.refresh_from_db()
    assert (report.due_date, report.overdue_since) == (None, None)


def _age_newest_release(resource, days):
    then = timezone.now() - datetime.timedelta(days=days)
    resource.releases.update(created_at=then)
    Resource.objects.filter(pk=resource.pk).update(published_at=then)


def stale_notices(user):
    return Notification.objects.filter(recipient=user, subject__contains="out of date").count()


def test_a_resource_past_its_update_cycle_is_flagged_stale_once(released, steward):
    ledger = LedgerEntry.objects.count()
    assert freshness_services.resources_flag_stale() == (0, 0)  # released just now, daily cycle
    assert ResourceFreshness.objects.get(resource=released).stale is False
    _age_newest_release(released, 2)
    assert tasks.flag_stale_resources() == {"flagged": 1, "cleared": 0}
    freshness = ResourceFreshness.objects.get(resource=released)
    assert freshness.stale and freshness.stale_since is not None
    assert stale_notices(steward) == 1
    assert LedgerEntry.objects.filter(entry_type="resource.stale").count() == 1
    # Running again changes nothing and tells nobody twice.
    assert freshness_services.resources_flag_stale() == (0, 0)
    assert stale_notices(steward) == 1
    assert LedgerEntry.objects.count() == ledger + 1
    # A new release clears the flag on the next run.
    catalog_services.release_ingest(actor=steward, resource=released, upload=csv_upload(GOOD_CSV))
    assert freshness_services.resources_flag_stale() == (0, 1)
    freshness.refresh_from_db()
    assert (freshness.stale, freshness.stale_since) == (False, None)
    assert LedgerEntry.objects.filter(entry_type="resource.fresh").count() == 1
    assert list(freshness.history.values_list("stale", flat=True)) == [False, True, False]


@pytest.mark.parametrize(
    ("cycle", "age_days", "stale"),
    [
        ("daily", 2, True),
        ("weekly", 6, False),
        ("weekly", 8, True),
        ("monthly", 30, False),
        ("monthly", 32, True),
        ("quarterly", 93, True),
        ("yearly", 365, False),
        ("yearly", 367, True),
        ("realtime", 1000, False),
        ("irregular", 1000, False),
    ],
)
def test_stale_follows_the_update_cycle(steward, departments, cycle, age_days, stale):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier=f"HEALTH-{cycle.upper()}", update_cycle=cycle),
        methods=["realtime"],
        items=ITEMS,
    )
    catalog_services.resource_publish(actor=steward, resource=resource)
    catalog_services.release_ingest(actor=steward, resource=resource, upload=csv_upload(GOOD_CSV))
    _age_newest_release(resource, age_days)
    freshness_services.resources_flag_stale()
    assert ResourceFreshness.objects.get(resource=resource).stale is stale


def test_without_a_release_the_age_counts_from_publication(published, steward):
    Resource.objects.filter(pk=published.pk).update(
        published_at=timezone.now() - datetime.timedelta(days=3)
    )
    assert freshness_services.resources_flag_stale() == (1, 0)
    assert stale_notices(steward) == 1


def test_a_retired_resource_loses_its_stale_flag(released, steward):
    _age_newest_release(released, 5)
    freshness_services.resources_flag_stale()
    catalog_services.resource_retire(actor=steward, resource=released, reason="Replaced.")
    assert freshness_services.resources_flag_stale() == (0, 1)


# --- pages ----------------------------------------------------------------------------------


def text(response):
    return response.content.decode()


def test_grantee_files_through_the_form_and_the_owner_acts_on_the_page(
    client, grant, requester, steward
):
    client.force_login(requester)
    url = reverse("governance:quality_create") + f"?resource={grant.resource_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'for="id_description"' in text(page)
    bad = client.post(url, {"kind": "wrong_value", "lines": "two", "description": "x"})
    assert bad.status_code == 400
    assert "separated by commas" in text(bad)
    too_far = client.post(url, {"kind": "wrong_value", "lines": "2, 9", "description": "x"})
    assert too_far.status_code == 400
    assert "line 9 is not in it" in text(too_far)
    assert not QualityReport.objects.exists()
    done = client.post(
        url,
        {"kind": "wrong_value", "item": "fee", "lines": "2, 3", "description": "Fee is negative."},
    )
    report = QualityReport.objects.get()
    assert done.url == reverse("governance:quality_detail", args=[report.pk])
    assert (report.item, report.lines) == ("fee", [2, 3])

    client.force_login(steward)
    detail = client.get(done.url)
    assert detail.status_code == 200
    assert "Acknowledge" in text(detail) and "Fee is negative." in text(detail)
    resolve = reverse("governance:quality_action", args=[report.pk, "resolve"])
    client.post(resolve, {"reason": ""})
    report.refresh_from_db()
    assert report.state == R.OPEN
    client.post(resolve, {"reason": "Fee fixed at the source."})
    report.refresh_from_db()
    assert report.state == R.RESOLVED

    client.force_login(requester)
    page = text(client.get(done.url))
    assert "Close the report" in page and "Reopen" in page
    client.post(reverse("governance:quality_action", args=[report.pk, "confirm"]))
    report.refresh_from_db()
    assert report.state == R.CLOSED


def test_uninvolved_departments_get_404_for_every_report_page_and_step(
    client, report, police_requester, outsider_steward
):
    for user in (police_requester, outsider_steward):
        client.force_login(user)
        assert client.get(reverse("governance:quality_detail", args=[report.pk])).status_code == 404
        for action in gs.QUALITY_TRANSITIONS:
            url = reverse("governance:quality_action", args=[report.pk, action])
            assert client.post(url, {"reason": "x"}).status_code == 404
        assert f"#{report.pk}" not in text(client.get(reverse("governance:quality_list")))
    assert snapshot(report)[0] == R.OPEN
    assert report.steps.count() == 1


def test_visible_but_not_allowed_is_403_on_the_web_and_changes_nothing(
    client, report, requester, reviewer
):
    before = snapshot(report)
    for user, action in ((requester, "acknowledge"), (reviewer, "answer")):
        client.force_login(user)
        url = reverse("governance:quality_action", args=[report.pk, action])
        assert client.post(url, {"reason": "x"}).status_code == 403
    assert snapshot(report) == before


def test_the_report_form_is_refused_without_a_grant(client, released, police_requester):
    client.force_login(police_requester)
    url = reverse("governance:quality_create") + f"?resource={released.pk}"
    assert client.get(url).status_code == 403
    assert client.get(reverse("governance:quality_create")).status_code == 404


def test_steps_are_post_only_and_unknown_steps_are_404(client, report, steward):
    client.force_login(steward)
    assert (
        client.get(reverse("governance:quality_action", args=[report.pk, "answer"])).status_code
        == 405
    )
    assert (
        client.post(reverse("governance:quality_action", args=[report.pk, "delete"])).status_code
        == 404
    )


def test_anonymous_is_sent_to_sign_in(client, report):
    for url in (
        reverse("governance:quality_list"),
        reverse("governance:quality_detail", args=[report.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_list_page_runs_a_fixed_number_of_queries(client, grant, requester, steward):
    client.force_login(steward)

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("governance:quality_list"))
        assert response.status_code == 200
        return len(captured), text(response)

    file_report(grant, requester)
    few, _page = count()
    for _number in range(8):
        file_report(grant, requester)
    many, page = count()
    assert few == many
    assert "9 reports" in page


def render_panel(user, resource):
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=user.pk)
    template = Template("{% load quality_panel %}{% quality_panel resource %}")
    return template.render(Context({"request": request, "resource": resource}))


def test_resource_panel_shows_open_reports_to_parties_and_only_the_count_to_others(
    report, requester, steward, police_requester
):
    mine = render_panel(requester, report.resource)
    assert "1 open quality report." in mine
    assert reverse("governance:quality_detail", args=[report.pk]) in mine
    assert "Report a problem with this data" in mine
    assert reverse("governance:quality_detail", args=[report.pk]) in render_panel(
        steward, report.resource
    )
    other = render_panel(police_requester, report.resource)
    assert "1 open quality report." in other
    assert reverse("governance:quality_detail", args=[report.pk]) not in other
    assert "Report a problem" not in other


def test_resource_panel_shows_the_stale_flag(released, steward):
    _age_newest_release(released, 3)
    freshness_services.resources_flag_stale()
    assert "Out of date" in render_panel(steward, released)


def test_admin_lists_overdue_reports_first(client, report, grant, requester, departments):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-2026-x")
    late = file_report(grant, requester)
    QualityReport.objects.filter(pk=late.pk).update(overdue_since=timezone.now())
    client.force_login(admin)
    page = client.get(reverse("admin:governance_qualityreport_changelist"))
    assert page.status_code == 200
    body = text(page)
    first, second = (
        reverse("admin:governance_qualityreport_change", args=[pk]) for pk in (late.pk, report.pk)
    )
    assert body.index(first) < body.index(second)
    assert (
        client.get(reverse("admin:governance_qualityreport_change", args=[report.pk])).status_code
        == 200
    )
    assert client.get(reverse("admin:governance_resourcefreshness_changelist")).status_code == 200
