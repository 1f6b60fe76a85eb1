"""Scoreboard figures against a constructed set of requests with known response times."""

import csv
import datetime
import io
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests import services as rs
from access_requests.models import Request, RequestStep
from tests.conftest import REQUEST_ITEMS, request_data
from workdays.models import Holiday

MONDAY = datetime.date(2026, 10, 5)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def file(resource, requester, departments):
    return rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=request_data(),
        items=REQUEST_ITEMS,
    )


def backdate(request, *days):
    """Put the request's steps (oldest first) on the given days."""
    steps = list(request.steps.order_by("id"))
    assert len(steps) == len(days), [s.action for s in steps]
    for step, day in zip(steps, days, strict=True):
        RequestStep.objects.filter(pk=step.pk).update(at=at(day))


@pytest.fixture
def history(released, requester, steward, reviewer, departments):
    """Three requests: HEALTH answers in 1, 3 and 7 working days; OFFICE approves two, rejects
    one; a holiday sits inside the 7-day wait."""
    Holiday.objects.create(date=datetime.date(2026, 10, 8), name="Autumn holiday")
    d = datetime.timedelta
    plans = [
        # (create, submit, route, owner answer day, office decision day, decision)
        # owner: Mon→Tue 1 wd; office: Tue→Wed 1 wd
        (MONDAY, MONDAY, MONDAY, MONDAY + d(1), MONDAY + d(2), "approve"),
        # owner: Mon→Fri 3 wd (Thursday is a holiday); office: Fri→Mon 1 wd
        (MONDAY, MONDAY, MONDAY, MONDAY + d(4), MONDAY + d(7), "approve"),
        # owner: Mon→Thu of the next week 7 wd (late); office: Thu→Fri 1 wd
        (MONDAY, MONDAY, MONDAY, MONDAY + d(10), MONDAY + d(11), "reject"),
    ]
    for create, submit, route, owner_day, office_day, decision in plans:
        request = file(released, requester, departments)
        rs.request_submit(actor=requester, request=request)
        rs.request_endorse(actor=steward, request=request)
        if decision == "approve":
            rs.request_approve(actor=reviewer, request=request)
        else:
            rs.request_reject(actor=reviewer, request=request, reason="No.")
        backdate(request, create, submit, route, owner_day, office_day)


def figures(rows, code):
    return next(row for row in rows if row["department"] == code)


def test_scoreboard_figures_match_the_constructed_history(client, history, requester):
    response = APIClient()
    response.force_login(requester)
    body = response.get("/api/v1/scoreboard/", {"start": "2026-10-01", "end": "2026-11-01"}).json()
    health = figures(body["departments"], "HEALTH")
    assert (health["answered"], health["median_days"], health["p90_days"]) == (3, 3, 7)
    assert health["deadlines_met"] == 2  # 1 and 3 within 5 working days; 7 is late
    assert health["approval_rate"] is None  # owners give opinions, not decisions
    office = figures(body["departments"], "OFFICE")
    assert (office["answered"], office["median_days"], office["p90_days"]) == (3, 1, 1)
    assert office["deadlines_met"] == 3
    assert office["approval_rate"] == round(2 / 3, 3)
    civil = figures(body["departments"], "CIVIL")
    assert civil["answered"] == 0 and civil["median_days"] is None


def test_scoreboard_page_and_csv(client, history, requester):
    client.force_login(requester)
    page = client.get("/scoreboard/", {"start": "2026-10-01", "end": "2026-11-01"})
    assert page.status_code == 200
    assert b"<svg" in page.content
    exported = client.get("/scoreboard.csv", {"start": "2026-10-01", "end": "2026-11-01"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    health = next(r for r in rows if r["department"] == "HEALTH")
    assert (health["answered"], health["median_days"], health["p90_days"]) == ("3", "3", "7")
    bad = client.get("/scoreboard/", {"start": "2026-11-01", "end": "2026-10-01"})
    assert bad.status_code == 400


def test_scoreboard_needs_sign_in(client, db):
    assert APIClient().get("/api/v1/scoreboard/").status_code == 401
    assert client.get("/scoreboard/").status_code == 302


def test_scoreboard_counts_open_quality_reports_and_overdue_attestations(
    request_draft, requester, steward, reviewer
):
    from governance.services import quality as governance
    from rights import services as grant_services
    from rights.attestations import attestations_open_due
    from rights.models import Attestation, Grant
    from transparency.scoreboard import scoreboard

    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=reviewer, request=request_draft)
    grant = Grant.objects.get(request=request_draft)
    governance.quality_report_file(
        actor=requester,
        department=grant.grantee_department,
        resource=grant.resource,
        kind="wrong_value",
        item="dose_number",
        lines=[2],
        description="Dose 2 should be 3.",
    )
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Purpose fulfilled.")
    attestations_open_due()
    Attestation.objects.update(due_date=datetime.date.today() - datetime.timedelta(days=1))
    today = datetime.date.today()
    rows = scoreboard(start=today - datetime.timedelta(days=30), end=today + datetime.timedelta(1))
    assert figures(rows, "HEALTH")["quality_open"] == 1
    assert figures(rows, "CIVIL")["attestations_overdue"] == 1
    assert figures(rows, "CIVIL")["quality_open"] == 0


OCTOBER = {"start": "2026-10-01", "end": "2026-11-01"}


@pytest.fixture
def open_reviews(history, released, requester, steward, departments):
    """Beside the history: a management review left open past its due date (OFFICE, the
    management-right holder, owes it) and an owner review due after October (not late then)."""
    late = file(released, requester, departments)
    rs.request_submit(actor=requester, request=late)
    rs.request_endorse(actor=steward, request=late)
    waiting = file(released, requester, departments)
    rs.request_submit(actor=requester, request=waiting)
    Request.objects.filter(pk=late.pk).update(due_date=datetime.date(2026, 10, 20))
    Request.objects.filter(pk=waiting.pk).update(due_date=datetime.date(2026, 11, 5))
    return late, waiting


def test_an_open_overdue_review_counts_as_a_missed_deadline(open_reviews, requester):
    client = APIClient()
    client.force_login(requester)
    body = client.get("/api/v1/scoreboard/", OCTOBER).json()
    office = figures(body["departments"], "OFFICE")
    # Three answers in time and one review open past its deadline: 3 of 4, not 100 %.
    assert (office["answered"], office["deadlines_met"], office["open_overdue"]) == (3, 3, 1)
    assert office["deadlines_met_rate"] == 0.75
    # HEALTH's open review is due on 5 November: not late in October, its rate unchanged.
    health = figures(body["departments"], "HEALTH")
    assert (health["deadlines_met"], health["open_overdue"]) == (2, 0)
    assert health["deadlines_met_rate"] == round(2 / 3, 3)
    # From November until today it is late too; HEALTH's one answer then (the endorsement of
    # the open management review, made today) was in time: 1 met of 2.
    november = client.get("/api/v1/scoreboard/", {"start": "2026-11-01"}).json()
    health = figures(november["departments"], "HEALTH")
    assert (health["answered"], health["deadlines_met"], health["open_overdue"]) == (1, 1, 1)
    assert health["deadlines_met_rate"] == 0.5


def test_scoreboard_page_shows_the_open_and_overdue_column(client, open_reviews, requester):
    client.force_login(requester)
    html = client.get("/scoreboard/", OCTOBER).content.decode()
    table = html[html.index("<table") : html.index("</table>")]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert headers[3:5] == ["Deadlines met", "Open and overdue"]  # under "Requests"
    office = re.search(r'<th scope="row">OFFICE .*?</tr>', table, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td>", office)[3:5] == ["3 (75%)", "1"]
    exported = client.get("/scoreboard.csv", OCTOBER)
    row = next(
        r
        for r in csv.DictReader(io.StringIO(exported.content.decode()))
        if r["department"] == "OFFICE"
    )
    assert (row["open_overdue"], row["deadlines_met_rate"]) == ("1", "0.75")


def test_date_inputs_show_the_period_used(client, requester):
    client.force_login(requester)
    today = timezone.localdate()
    html = client.get("/scoreboard/").content.decode()
    # No dates given: the defaults (1 January, tomorrow) are in the inputs, as the text says.
    assert f'name="start" value="{today.year}-01-01"' in html
    assert f'name="end" value="{today + datetime.timedelta(days=1):%Y-%m-%d}"' in html
    assert 'href="/scoreboard.csv?start=' in html
    html = client.get("/scoreboard/", OCTOBER).content.decode()
    assert 'name="start" value="2026-10-01"' in html
    assert 'name="end" value="2026-11-01"' in html
    assert 'href="/scoreboard.csv?start=2026-10-01&amp;end=2026-11-01"' in html


def chart(html, title):
    start = html.index(f"<figcaption>{title}</figcaption>")
    return html[start : html.index("</figure>", start)]


def test_median_response_chart_draws_a_bar_per_department_at_natural_size(
    client, history, requester
):
    client.force_login(requester)
    html = client.get("/scoreboard/", OCTOBER).content.decode()
    median = chart(html, "Median response (working days)")
    assert 'viewBox="0 0 400 128" width="400" height="128"' in median
    # Departments by code: CIVIL, HEALTH (median 3, the longest bar), OFFICE (1), POLICE.
    assert re.findall(r'<rect [^>]*width="([^"]+)"', median) == ["0.0", "264.0", "88.0", "0.0"]
    assert re.findall(r'font-size="(\d+)"', median) == ["16"] * 8


def test_chart_without_a_bar_says_why(client, released, requester, steward, reviewer, departments):
    """Answers on the day their review began: medians of 0 (the demo world's case)."""
    request = file(released, requester, departments)
    rs.request_submit(actor=requester, request=request)
    rs.request_endorse(actor=steward, request=request)
    client.force_login(requester)
    html = client.get("/scoreboard/").content.decode()
    median = chart(html, "Median response (working days)")
    assert "<svg" not in median
    assert "every answer in this period came on the working day its review began" in median
    assert "<svg" in chart(html, "Requests answered")
    deliveries = chart(html, "Deliveries made")
    assert "No delivery was made in this period." in deliveries and "<svg" not in deliveries
