"""Disputes: the three levels, every actor allowed and refused, the ledger, the API and the pages.

Until govshare/urls.py includes the dispute URLs these tests run on a test-local urlconf that
mirrors the final wiring.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests import services as rs
from core.exceptions import IllegalTransition
from departments.models import Membership
from governance.models import Dispute, DisputeDecision, QualityReport
from governance.services import decisions, disputes
from ledger.models import LedgerEntry
from notifications.models import Notification
from rights.models import Grant, GrantEvent
from tests.conftest import REQUEST_ITEMS, make_user, request_data
from workdays.deadlines import add_working_days

DISPUTES = "/api/v1/disputes/"
S = Dispute.State


def make_grant(resource, requester, steward, reviewer, departments, purpose="School enrolment."):
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=request_data(purpose=purpose),
        items=REQUEST_ITEMS,
    )
    rs.request_submit(actor=requester, request=request)
    rs.request_endorse(actor=steward, request=request)
    rs.request_approve(actor=reviewer, request=request)
    return Grant.objects.get(request=request)


@pytest.fixture
def grant(released, requester, steward, reviewer, departments):
    """CIVIL's active grant on HEALTH's resource; the office holds the management right."""
    return make_grant(released, requester, steward, reviewer, departments)


@pytest.fixture
def police(departments):
    """A requester of POLICE: a department with no part in CIVIL's and HEALTH's dispute."""
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


@pytest.fixture
def decider(departments):
    """A second office reviewer (the ``reviewer`` may be made a member of CIVIL)."""
    return make_user("office_decider", departments["OFFICE"], Membership.Role.REVIEWER)


@pytest.fixture
def dispute(grant, requester):
    return disputes.dispute_raise(
        actor=requester,
        kind="grant",
        grant=grant,
        disputed="Deliveries stopped on 3 March without notice.",
        asked="Restore the real-time interface.",
    )


def api(user):
    client = APIClient()
    client.force_authenticate(fresh(user))  # a fresh user (and role cache) per call, as in life
    return client


def post(user, path, body=None, **kwargs):
    return api(user).post(path, body or {}, format=kwargs.pop("format", "json"), **kwargs)


def fresh(user):
    """The user re-read: no cached roles or permissions."""
    return get_user_model().objects.get(pk=user.pk)


def state_of(dispute):
    dispute = Dispute.objects.get(pk=dispute.pk)
    return (
        dispute.state,
        dispute.level,
        dispute.steps.count(),
        dispute.history.count(),
        DisputeDecision.objects.count(),
        LedgerEntry.objects.count(),
        Grant.objects.get(pk=dispute.grant_id).status if dispute.grant_id else None,
    )


def ledger_record(index):
    return json.loads(bytes(LedgerEntry.objects.get(index=index).entry))


# --- the three levels -----------------------------------------------------------------------


def test_three_levels_end_with_the_authoritys_decision_and_suspend_the_grant_on_the_way(
    dispute, grant, requester, steward, reviewer
):
    assert requester.has_perm("rights.use_grant", grant)
    ledger_before = LedgerEntry.objects.count()
    base = f"{DISPUTES}{dispute.pk}/"

    # Level 1: both departments state their case, with evidence.
    evidence = SimpleUploadedFile("log.csv", b"date,calls\n2026-03-03,0\n", content_type="text/csv")
    stated = post(
        requester,
        f"{base}statement/",
        {"text": "Our call log shows no answer.", "evidence": evidence},
        format="multipart",
    )
    assert stated.status_code == 200, stated.json()
    answered = post(steward, f"{base}statement/", {"text": "The calls exceeded the daily limit."})
    assert answered.status_code == 200
    escalated = post(steward, f"{base}escalate/", {"reason": "We cannot agree."})
    body = escalated.json()
    assert (body["state"], body["level"]) == ("office_review", 2)
    assert body["due_date"] == add_working_days(timezone.localdate(), 5).isoformat()

    # Level 2: the office decides and orders the grant suspended, through grant_suspend.
    decided = post(
        reviewer,
        f"{base}decide/",
        {
            "outcome": "partly_upheld",
            "reasons": "Both failed to follow the limits agreed.",
            "responsible_department": "CIVIL",
            "order": "suspend_grant",
        },
    )
    assert decided.status_code == 200, decided.json()
    assert (decided.json()["state"], decided.json()["level"]) == ("decided", 2)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED
    assert not fresh(requester).has_perm("rights.use_grant", grant)
    event = GrantEvent.objects.get(grant=grant, action="suspend")
    assert event.actor == reviewer
    assert event.reason.startswith(f"Ordered by the decision on dispute #{dispute.pk}")

    # Level 3: CIVIL takes it to the supervising authority; the office records its decision.
    referred = post(requester, f"{base}escalate/", {"reason": "The limit was never notified."})
    assert (referred.json()["state"], referred.json()["level"]) == ("authority_review", 3)
    final = post(
        reviewer,
        f"{base}record-final/",
        {
            "authority": "Provincial Big Data Bureau",
            "authority_reference": "PBDB-2026-17",
            "outcome": "upheld",
            "reasons": "The limit was never notified to CIVIL.",
            "responsible_department": "HEALTH",
            "order": "correct_data",
            "order_text": "Publish the daily limit in the catalog entry.",
        },
    )
    assert final.status_code == 200, final.json()
    body = final.json()
    assert (body["state"], body["level"]) == ("closed", 3)
    assert [(d["level"], d["outcome"], d["responsible_department"], d["order"]) for d in
            body["decisions"]] == [
        (2, "partly_upheld", "CIVIL", "suspend_grant"),
        (3, "upheld", "HEALTH", "correct_data"),
    ]  # fmt: skip
    assert body["decisions"][1]["authority"] == "Provincial Big Data Bureau"
    assert [(s["action"], s["level"], s["department"]) for s in body["steps"]] == [
        ("raise", 1, "CIVIL"),
        ("statement", 1, "CIVIL"),
        ("statement", 1, "HEALTH"),
        ("escalate", 2, "HEALTH"),
        ("decide", 2, "OFFICE"),
        ("refer", 3, "CIVIL"),
        ("record_final", 3, "OFFICE"),
    ]
    assert body["steps"][1]["has_evidence"] is True

    # Every step has its own ledger entry; the suspension has the grant's own one.
    types = list(
        LedgerEntry.objects.filter(index__gte=ledger_before)
        .order_by("index")
        .values_list("entry_type", flat=True)
    )
    assert types == [
        "dispute.statement",
        "dispute.statement",
        "dispute.escalate",
        "dispute.decide",
        "grant.suspend",
        "dispute.refer",
        "dispute.record_final",
    ]
    steps = Dispute.objects.get(pk=dispute.pk).steps.order_by("at", "id")
    assert all(step.ledger_index is not None for step in steps)
    assert Dispute.objects.get(pk=dispute.pk).history.count() == 1 + 6


def test_the_ledger_holds_ids_codes_and_hashes_never_the_text(dispute):
    step = dispute.steps.get()
    raw = bytes(LedgerEntry.objects.get(index=step.ledger_index).entry).decode()
    record = json.loads(raw)
    assert record["type"] == "dispute.raise"
    assert record["departments"] == ["CIVIL", "HEALTH", "OFFICE"]
    assert record["subject"] == {
        "dispute": dispute.pk,
        "grant": dispute.grant_id,
        "resource": dispute.resource_id,
    }
    assert set(record["hashes"]) == {"text_sha256", "asked_sha256"}
    assert "Deliveries stopped" not in raw and "Restore" not in raw


def test_raising_tells_the_other_department(dispute, steward, requester):
    assert Notification.objects.filter(recipient=steward, url=f"/disputes/{dispute.pk}/").exists()
    assert not Notification.objects.filter(recipient=requester).filter(
        url=f"/disputes/{dispute.pk}/"
    )


def test_settlement_by_agreement_ends_the_dispute_at_level_one(dispute, steward, requester):
    decisions.dispute_settle(
        actor=steward,
        dispute=dispute,
        reasons="HEALTH restores the interface; CIVIL keeps to 1,000 calls a day.",
        responsible_department=dispute.respondent_department,
    )
    dispute.refresh_from_db()
    assert (dispute.state, dispute.level) == (S.SETTLED, 1)
    decision = dispute.decisions.get()
    assert (decision.outcome, decision.level, decision.responsible_department.code) == (
        "agreed",
        1,
        "HEALTH",
    )
    before = state_of(dispute)
    with pytest.raises(IllegalTransition):
        disputes.dispute_escalate(actor=requester, dispute=dispute, reason="Changed our mind.")
    assert state_of(dispute) == before


def test_settlement_cannot_order_a_suspension(dispute, steward):
    before = state_of(dispute)
    with pytest.raises(ValidationError) as caught:
        decisions.dispute_settle(
            actor=steward, dispute=dispute, reasons="Agreed.", order="suspend_grant"
        )
    assert "order" in caught.value.message_dict
    assert state_of(dispute) == before


def test_when_the_office_is_a_party_escalation_goes_straight_to_the_authority(
    grant, reviewer, requester
):
    dispute = disputes.dispute_raise(
        actor=reviewer,
        kind="grant",
        grant=grant,
        disputed="CIVIL used the data for a second purpose.",
        asked="Revoke the grant.",
    )
    assert (dispute.raised_by_department.code, dispute.respondent_department.code) == (
        "OFFICE",
        "CIVIL",
    )
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="We deny it.")
    dispute.refresh_from_db()
    assert (dispute.state, dispute.level) == (S.AUTHORITY_REVIEW, 3)
    assert dispute.steps.last().action == "refer"


def test_a_refusal_can_be_disputed_but_not_a_pending_request(
    released, requester, steward, departments
):
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(),
        items=REQUEST_ITEMS,
    )
    rs.request_submit(actor=requester, request=request)
    with pytest.raises(ValidationError, match="Only a refusal can be disputed"):
        disputes.dispute_raise(
            actor=requester, kind="refusal", refusal=request, disputed="x", asked="y"
        )
    rs.request_reject(actor=steward, request=request, reason="No statutory duty.")
    dispute = disputes.dispute_raise(
        actor=requester,
        kind="refusal",
        refusal=request,
        disputed="The Education Law art. 12 is a statutory duty.",
        asked="Reconsider.",
    )
    assert (dispute.request_id, dispute.respondent_department.code) == (request.pk, "HEALTH")


def test_a_refusal_by_the_office_is_disputed_with_the_office_and_goes_to_the_authority(
    request_draft, requester, steward, reviewer
):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_reject(actor=reviewer, request=request_draft, reason="Not a statutory duty.")
    dispute = disputes.dispute_raise(
        actor=requester, kind="refusal", refusal=request_draft, disputed="It is.", asked="Approve."
    )
    assert dispute.respondent_department.code == "OFFICE"
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="The office refused.")
    dispute.refresh_from_db()
    assert (dispute.state, dispute.level) == (S.AUTHORITY_REVIEW, 3)


def test_a_quality_report_can_be_disputed_by_its_parties(
    released, requester, steward, police, departments
):
    report = QualityReport.objects.create(
        resource=released,
        reporting_department=departments["CIVIL"],
        reported_by=requester,
        kind=QualityReport.Kind.WRONG_VALUE,
        description="Line 2 has a birth date after the first dose.",
    )
    dispute = disputes.dispute_raise(
        actor=steward,
        kind="quality_report",
        quality_report_id=report.pk,
        disputed="The values reported wrong are right.",
        asked="Withdraw the report.",
    )
    assert (dispute.quality_report_id, dispute.respondent_department.code) == (report.pk, "CIVIL")
    with pytest.raises(PermissionDenied):
        disputes.dispute_raise(
            actor=police,
            kind="quality_report",
            quality_report_id=report.pk,
            disputed="x",
            asked="y",
        )


def test_one_open_dispute_per_subject_and_parties(dispute, grant, steward):
    count = Dispute.objects.count()
    with pytest.raises(ValidationError, match=f"Dispute #{dispute.pk} on this is still open"):
        disputes.dispute_raise(actor=steward, kind="grant", grant=grant, disputed="x", asked="y")
    assert Dispute.objects.count() == count


# --- refused actors and steps change nothing ------------------------------------------------


def test_an_uninvolved_department_cannot_raise_a_dispute_on_a_grant(grant, police):
    with pytest.raises(PermissionDenied):
        disputes.dispute_raise(actor=police, kind="grant", grant=grant, disputed="x", asked="y")
    assert not Dispute.objects.exists()
    response = post(
        police,
        DISPUTES,
        {"subject_kind": "grant", "grant": grant.pk, "disputed": "x", "asked": "y"},
    )
    assert response.status_code == 400  # the grant is not visible to POLICE: "does not exist"
    assert "grant" in response.json()["errors"]
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("statement", {"text": "We were there too."}),
        ("settle", {"reasons": "Agreed."}),
        ("escalate", {"reason": "Up."}),
        ("withdraw", {"reason": "Never mind."}),
        ("decide", {"outcome": "upheld", "reasons": "x", "responsible_department": "CIVIL"}),
    ],
)
def test_outsider_gets_404_for_every_dispute_step_and_nothing_changes(
    dispute, police, action, body
):
    before = state_of(dispute)
    response = post(police, f"{DISPUTES}{dispute.pk}/{action}/", body)
    assert response.status_code == 404
    assert state_of(dispute) == before


def test_outsider_cannot_see_the_dispute_anywhere(dispute, police, client):
    assert api(police).get(f"{DISPUTES}{dispute.pk}/").status_code == 404
    assert api(police).get(DISPUTES).json()["count"] == 0
    client.force_login(police)
    assert client.get(f"/disputes/{dispute.pk}/").status_code == 404
    assert client.post(f"/disputes/{dispute.pk}/statement/", {"text": "x"}).status_code == 404
    assert client.get("/disputes/?page=1").status_code == 200
    assert f"/disputes/{dispute.pk}/" not in client.get("/disputes/").content.decode()
    with pytest.raises(PermissionDenied):
        disputes.dispute_statement(actor=police, dispute=dispute, text="x")


def test_a_party_cannot_decide_and_nothing_changes(dispute, steward, requester):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    before = state_of(dispute)
    body = {"outcome": "upheld", "reasons": "x", "responsible_department": "CIVIL"}
    response = post(steward, f"{DISPUTES}{dispute.pk}/decide/", body)
    assert response.status_code == 403
    assert state_of(dispute) == before


def test_an_office_reviewer_from_a_party_cannot_decide(
    dispute, office_member_from_civil, requester, decider
):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    before = state_of(dispute)
    body = {"outcome": "dismissed", "reasons": "x", "responsible_department": "CIVIL"}
    assert (
        post(office_member_from_civil, f"{DISPUTES}{dispute.pk}/decide/", body).status_code == 403
    )
    assert state_of(dispute) == before
    assert post(decider, f"{DISPUTES}{dispute.pk}/decide/", body).status_code == 200


def test_decide_during_negotiation_is_409_and_changes_nothing(dispute, reviewer):
    before = state_of(dispute)
    body = {"outcome": "upheld", "reasons": "x", "responsible_department": "CIVIL"}
    response = post(reviewer, f"{DISPUTES}{dispute.pk}/decide/", body)
    assert response.status_code == 409
    assert "negotiation" in response.json()["detail"]
    assert state_of(dispute) == before


def test_an_auditor_of_the_office_sees_but_cannot_act(dispute, departments):
    auditor = make_user("auditor", departments["OFFICE"], Membership.Role.AUDITOR)
    assert api(auditor).get(f"{DISPUTES}{dispute.pk}/").status_code == 200
    before = state_of(dispute)
    response = post(auditor, f"{DISPUTES}{dispute.pk}/statement/", {"text": "x"})
    assert response.status_code == 403
    assert state_of(dispute) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "upheld", "reasons": "", "responsible_department": "CIVIL"}, "reasons"),
        ({"outcome": "upheld", "reasons": "x"}, "responsible_department"),
        ({"outcome": "upheld", "reasons": "x", "responsible_department": "POLICE"},
         "responsible_department"),
        ({"outcome": "upheld", "reasons": "x", "responsible_department": "CIVIL",
          "order": "correct_data"}, "order_text"),
    ],
)  # fmt: skip
def test_an_incomplete_decision_is_400_and_changes_nothing(
    dispute, requester, reviewer, body, field
):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    before = state_of(dispute)
    response = post(reviewer, f"{DISPUTES}{dispute.pk}/decide/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert state_of(dispute) == before


def test_a_grant_order_the_grant_service_refuses_refuses_the_whole_decision(
    dispute, requester, reviewer, grant
):
    """The order runs through grant_suspend, whose own rule refuses a revoked grant (409)."""
    from rights import services as grant_services

    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse found.")
    before = state_of(dispute)
    with pytest.raises(IllegalTransition):
        decisions.dispute_decide(
            actor=reviewer,
            dispute=dispute,
            outcome="upheld",
            reasons="x",
            responsible_department=dispute.raised_by_department,
            order="suspend_grant",
        )
    assert state_of(dispute) == before


def test_only_the_raising_department_withdraws(dispute, steward, requester):
    before = state_of(dispute)
    assert post(steward, f"{DISPUTES}{dispute.pk}/withdraw/").status_code == 403
    assert state_of(dispute) == before
    response = post(requester, f"{DISPUTES}{dispute.pk}/withdraw/", {"reason": "Resolved."})
    assert response.json()["state"] == "withdrawn"


def test_evidence_of_the_wrong_type_is_refused(dispute, requester):
    before = state_of(dispute)
    evidence = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = post(
        requester,
        f"{DISPUTES}{dispute.pk}/statement/",
        {"text": "See attached.", "evidence": evidence},
        format="multipart",
    )
    assert response.status_code == 400
    assert state_of(dispute) == before


# --- lists ----------------------------------------------------------------------------------


def raise_disputes(count, released, requester, steward, reviewer, departments):
    for number in range(count):
        grant = make_grant(
            released, requester, steward, reviewer, departments, purpose=f"Purpose {number}."
        )
        disputes.dispute_raise(
            actor=requester, kind="grant", grant=grant, disputed=f"Case {number}", asked="Fix."
        )


def queries_for(user, path, expected_count, json_list=True):
    client = APIClient()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    if json_list:
        assert response.json()["count"] == expected_count
        assert len(response.json()["results"]) == expected_count
    return len(captured)


@pytest.mark.parametrize("user", ["requester", "reviewer"])
def test_dispute_lists_run_a_fixed_number_of_queries(
    released, requester, steward, reviewer, departments, user
):
    viewer = {"requester": requester, "reviewer": reviewer}[user]
    raise_disputes(2, released, requester, steward, reviewer, departments)
    few_api = queries_for(viewer, DISPUTES, 2)
    few_page = queries_for(viewer, "/disputes/", 2, json_list=False)
    raise_disputes(4, released, requester, steward, reviewer, departments)
    assert queries_for(viewer, DISPUTES, 6) == few_api
    assert queries_for(viewer, "/disputes/", 6, json_list=False) == few_page


def test_api_list_is_paginated(released, requester, steward, reviewer, departments):
    raise_disputes(3, released, requester, steward, reviewer, departments)
    body = api(requester).get(f"{DISPUTES}?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["results"][0]["disputed"] == "Case 2"


def test_office_queue_lists_escalated_disputes_for_office_reviewers_only(
    dispute, requester, reviewer, client
):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    client.force_login(reviewer)
    assert f"/disputes/{dispute.pk}/" in client.get("/disputes/office/").content.decode()
    client.force_login(requester)
    assert f"/disputes/{dispute.pk}/" not in client.get("/disputes/office/").content.decode()


# --- pages ----------------------------------------------------------------------------------


def test_grantee_raises_a_dispute_from_the_web_form(grant, requester, client):
    client.force_login(requester)
    page = client.get(f"/disputes/new/?grant={grant.pk}")
    assert page.status_code == 200
    assert "What is disputed" in page.content.decode()
    response = client.post(
        f"/disputes/new/?grant={grant.pk}",
        {"disputed": "The interface is down.", "asked": "Restore it."},
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/disputes/{dispute.pk}/"
    assert (dispute.raised_by_department.code, dispute.respondent_department.code) == (
        "CIVIL",
        "HEALTH",
    )


def test_raise_form_is_404_for_a_grant_the_user_cannot_see(grant, police, client):
    client.force_login(police)
    assert client.get(f"/disputes/new/?grant={grant.pk}").status_code == 404
    assert client.post(f"/disputes/new/?grant={grant.pk}", {"disputed": "x"}).status_code == 404
    assert not Dispute.objects.exists()


def test_raise_form_shows_what_is_missing(grant, requester, client):
    client.force_login(requester)
    response = client.post(f"/disputes/new/?grant={grant.pk}", {"disputed": "", "asked": ""})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not Dispute.objects.exists()


def test_party_posts_a_statement_with_evidence_and_downloads_it(dispute, steward, client):
    client.force_login(steward)
    page = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Add a statement" in page and "Escalate to the data management office" in page
    assert "Decide (management office)" not in page
    evidence = SimpleUploadedFile("limits.pdf", b"%PDF-1.4 limits", content_type="application/pdf")
    response = client.post(
        f"/disputes/{dispute.pk}/statement/", {"text": "See our limits.", "evidence": evidence}
    )
    assert response.status_code == 302
    step = dispute.steps.get(action="statement")
    assert step.department.code == "HEALTH"
    download = client.get(f"/disputes/{dispute.pk}/evidence/{step.pk}/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 limits"
    assert ledger_record(step.ledger_index)["hashes"]["evidence_sha256"] == step.evidence_sha256


def test_office_reviewer_decides_from_the_page(dispute, requester, reviewer, client):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    client.force_login(reviewer)
    page = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Decide (management office)" in page and "Add a statement" not in page
    response = client.post(
        f"/disputes/{dispute.pk}/decide/",
        {
            "outcome": "dismissed",
            "reasons": "The limit was in the grant.",
            "responsible_department": dispute.raised_by_department_id,
            "order": "none",
        },
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == S.DECIDED
    page = client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "The limit was in the grant." in page


def test_a_refused_web_step_shows_why_and_changes_nothing(dispute, requester, reviewer, client):
    before = state_of(dispute)
    client.force_login(reviewer)
    response = client.post(
        f"/disputes/{dispute.pk}/decide/",
        {
            "outcome": "upheld",
            "reasons": "x",
            "responsible_department": dispute.raised_by_department_id,
            "order": "none",
        },
        follow=True,
    )
    assert "cannot be decided" in response.content.decode()
    assert state_of(dispute) == before


# --- admin ----------------------------------------------------------------------------------


def test_office_decides_from_the_admin_queue(dispute, requester, reviewer, client, grant):
    disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    reviewer.is_staff = reviewer.is_superuser = True
    reviewer.save()
    client.force_login(reviewer)
    changelist = client.get("/admin/governance/dispute/")
    assert changelist.status_code == 200
    response = client.post(
        "/admin/governance/dispute/",
        {
            "action": "decide",
            "_selected_action": [dispute.pk],
            "apply": "1",
            "outcome": "upheld",
            "reasons": "The interface must be restored.",
            "responsible": "respondent_department",
            "order": "none",
        },
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    decision = dispute.decisions.get()
    assert (dispute.state, decision.responsible_department.code) == (S.DECIDED, "HEALTH")
