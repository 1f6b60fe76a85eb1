"""One rule, one function: pages that count the same thing agree.

"Open quality report" is defined once (governance.selectors.QUALITY_OPEN_STATES): the resource
page's panel and the department scoreboard count the same reports, whatever state they are in.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import RequestFactory

from access_requests import services as rs
from governance import selectors
from governance.models import QualityReport
from governance.services import quality as gs
from rights.models import Grant
from transparency.scoreboard import scoreboard

R = QualityReport.State

# How a report reaches each state: the owner's (steward's) and the reporter's steps in order.
PATHS = {
    R.OPEN: [],
    R.ACKNOWLEDGED: ["acknowledge"],
    R.ANSWERED: ["answer"],
    R.RESOLVED: ["resolve"],
    R.CLOSED: ["answer", "confirm"],
    "reopened": ["resolve", "reopen"],
}


@pytest.fixture
def grant(request_draft, requester, steward, reviewer):
    """CIVIL's active grant on HEALTH's released resource."""
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=reviewer, request=request_draft)
    return Grant.objects.get(request=request_draft)


def report_in(path, grant, requester, steward):
    report = gs.quality_report_file(
        actor=requester,
        department=grant.grantee_department,
        resource=grant.resource,
        kind="wrong_value",
        description="Dose 2 should be 3.",
    )
    steps = {
        "acknowledge": lambda: gs.quality_report_acknowledge(actor=steward, report=report),
        "answer": lambda: gs.quality_report_answer(actor=steward, report=report, reason="Right."),
        "resolve": lambda: gs.quality_report_resolve(actor=steward, report=report, reason="Fixed."),
        "confirm": lambda: gs.quality_report_confirm(actor=requester, report=report),
        "reopen": lambda: gs.quality_report_reopen(actor=requester, report=report, reason="No."),
    }
    for step in PATHS[path]:
        steps[step]()
    report.refresh_from_db()
    return report


def scoreboard_open(code):
    today = datetime.date.today()
    rows = scoreboard(start=today - datetime.timedelta(days=30), end=today + datetime.timedelta(1))
    return next(row for row in rows if row["department"] == code)["quality_open"]


def panel(user, resource):
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=user.pk)
    template = Template("{% load quality_panel %}{% quality_panel resource %}")
    return template.render(Context({"request": request, "resource": resource}))


def panel_says(count):
    return f"{count} open quality report{'' if count == 1 else 's'}."


@pytest.mark.parametrize("path", list(PATHS))
def test_scoreboard_and_resource_panel_count_the_same_open_reports(path, grant, requester, steward):
    report = report_in(path, grant, requester, steward)
    expected = 1 if report.state in (R.OPEN, R.ACKNOWLEDGED, R.ANSWERED) else 0
    assert selectors.open_quality_report_count(grant.resource) == expected
    assert scoreboard_open("HEALTH") == expected
    page = panel(steward, grant.resource)
    assert panel_says(expected) in page
    assert (f"/governance/quality/{report.pk}/" in page) is bool(expected)


def test_with_a_report_in_every_state_both_count_open_acknowledged_and_answered(
    grant, requester, steward
):
    reports = [report_in(path, grant, requester, steward) for path in PATHS]
    assert sorted(r.state for r in reports) == sorted(
        [R.ACKNOWLEDGED, R.ANSWERED, R.CLOSED, R.OPEN, R.OPEN, R.RESOLVED]
    )
    open_reports = {r.pk for r in reports if r.state in selectors.QUALITY_OPEN_STATES}
    assert len(open_reports) == 4  # open, acknowledged, answered, and the reopened one
    assert scoreboard_open("HEALTH") == selectors.open_quality_report_count(grant.resource) == 4
    assert {r.pk for r in selectors.open_quality_reports(steward, grant.resource)} == open_reports
    assert panel_says(4) in panel(steward, grant.resource)
    assert scoreboard_open("CIVIL") == 0  # counted for the owner, not the reporter
