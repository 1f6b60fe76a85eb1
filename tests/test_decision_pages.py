"""Decision pages (#15.7): the request first, the decision after it; every error of a decision
form in one pass, at its field, with nothing changed."""

import pytest
from django.urls import reverse

from access_requests import services as rs
from access_requests.models import Request
from rights.models import Grant

S = Request.State


@pytest.fixture
def in_owner_review(request_draft, requester):
    return rs.request_submit(actor=requester, request=request_draft)


@pytest.fixture
def in_office_review(in_owner_review, steward):
    return rs.request_endorse(actor=steward, request=in_owner_review, reason="Lawful.")


def detail_url(access_request):
    return reverse("access_requests:request_detail", args=[access_request.pk])


def action_url(access_request, action):
    return reverse("access_requests:request_action", args=[access_request.pk, action])


def state_of(access_request):
    row = Request.objects.get(pk=access_request.pk)
    return row.state, row.history.count(), row.steps.count(), Grant.objects.count()


def test_decider_reads_the_request_before_the_decision(client, in_office_review, reviewer):
    client.force_login(reviewer)
    page = client.get(detail_url(in_office_review)).content.decode()
    request_heading = page.index('<h2 id="summary">Request</h2>')
    items = page.index('<h2 id="items">Requested data items</h2>')
    decision = page.index('<h2 id="actions">What you can do</h2>')
    approve = page.index(f'action="{action_url(in_office_review, "approve")}"')
    reject = page.index(f'action="{action_url(in_office_review, "reject")}"')
    assert request_heading < items < decision < approve
    assert decision < reject


def test_owner_reads_the_request_before_endorsing(client, in_owner_review, steward):
    client.force_login(steward)
    page = client.get(detail_url(in_owner_review)).content.decode()
    assert page.index('<h2 id="legal-basis">') < page.index(
        f'action="{action_url(in_owner_review, "endorse")}"'
    )


def test_approve_with_two_wrong_fields_shows_both_errors_at_once(
    client, in_office_review, reviewer
):
    client.force_login(reviewer)
    before = state_of(in_office_review)
    response = client.post(
        action_url(in_office_review, "approve"),
        {"max_records_per_day": "0", "max_calls_per_day": "many", "reason": "x"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert '<div class="error-summary" role="alert">' in page
    assert (
        '<a href="#id_approve_items">Approved data items</a>: '
        "Approve at least one item, or reject the request."
    ) in page
    assert (
        '<a href="#id_approve_max_records_per_day">Records per day (limit)</a>: '
        "Ensure this value is greater than or equal to 1."
    ) in page
    assert (
        '<a href="#id_approve_max_calls_per_day">Calls per day (limit)</a>: Enter a whole number.'
    ) in page
    # the form keeps what was typed
    assert 'name="max_calls_per_day" value="many"' in page
    assert state_of(in_office_review) == before


def test_approve_with_an_item_not_requested_and_a_bad_limit(client, in_office_review, reviewer):
    client.force_login(reviewer)
    before = state_of(in_office_review)
    response = client.post(
        action_url(in_office_review, "approve"),
        {"items": ["resident_id", "fee"], "max_records_per_day": "-3"},
    )
    assert response.status_code == 400
    form = response.context["refused_form"]
    assert form.errors == {
        "items": ["Select a valid choice. fee is not one of the available choices."],
        "max_records_per_day": ["Ensure this value is greater than or equal to 1."],
    }
    assert state_of(in_office_review) == before


def test_reject_without_a_reason_is_shown_at_the_reason(client, in_office_review, reviewer):
    client.force_login(reviewer)
    before = state_of(in_office_review)
    response = client.post(action_url(in_office_review, "reject"), {"reason": " "})
    assert response.status_code == 400
    assert response.context["refused_form"].errors == {
        "reason": ["Give the reason for rejecting the request."]
    }
    page = response.content.decode()
    assert '<a href="#id_reject_reason">Reason</a>: Give the reason for rejecting the request.' in (
        page
    )
    assert '<p class="error" id="id_reject_reason_error_1">' in page
    assert state_of(in_office_review) == before


def test_the_owner_returning_without_a_reason_is_told_at_the_field(
    client, in_owner_review, steward
):
    client.force_login(steward)
    before = state_of(in_owner_review)
    response = client.post(action_url(in_owner_review, "return"), {"reason": "  "})
    assert response.status_code == 400
    assert response.context["refused_form"].errors == {
        "reason": ["Give the reason for returning the request."]
    }
    assert "<h3>Return for changes</h3>" in response.content.decode()
    assert state_of(in_owner_review) == before


def test_a_step_the_user_cannot_take_is_403_even_with_bad_input(
    client, in_office_review, requester
):
    client.force_login(requester)
    before = state_of(in_office_review)
    response = client.post(action_url(in_office_review, "approve"), {"max_records_per_day": "0"})
    assert response.status_code == 403
    assert state_of(in_office_review) == before


def test_a_valid_approval_still_goes_through(client, in_office_review, reviewer):
    client.force_login(reviewer)
    response = client.post(
        action_url(in_office_review, "approve"),
        {"items": ["resident_id"], "max_records_per_day": "100"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail_url(in_office_review)
    grant = Grant.objects.get(request=in_office_review)
    assert (grant.fields, grant.max_records_per_day) == (["resident_id"], 100)


# --- disputes, quality reports, attestations, catalog entries -------------------------------


@pytest.fixture
def grant(in_office_review, reviewer):
    rs.request_approve(actor=reviewer, request=in_office_review)
    return Grant.objects.get(request=in_office_review)


@pytest.fixture
def escalated(grant, requester):
    from governance.services import disputes

    dispute = disputes.dispute_raise(
        actor=requester,
        kind="grant",
        grant=grant,
        disputed="Deliveries stopped on 3 March without notice.",
        asked="Restore the real-time interface.",
    )
    return disputes.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")


def dispute_state(dispute):
    from governance.models import Dispute, DisputeDecision

    row = Dispute.objects.get(pk=dispute.pk)
    return row.state, row.steps.count(), DisputeDecision.objects.count()


def test_dispute_page_shows_the_dispute_before_the_decision(client, escalated, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("disputes:dispute_detail", args=[escalated.pk])).content.decode()
    decide = reverse("disputes:dispute_action", args=[escalated.pk, "decide"])
    assert page.index('<h2 id="summary">The dispute</h2>') < page.index(f'action="{decide}"')
    assert page.index('<h2 id="actions">') < page.index('<h2 id="timeline">')
    assert "<td>Between the departments</td>" in page  # the level in words


def test_dispute_decision_with_two_wrong_fields_shows_both(client, escalated, reviewer):
    client.force_login(reviewer)
    before = dispute_state(escalated)
    response = client.post(
        reverse("disputes:dispute_action", args=[escalated.pk, "decide"]),
        {"outcome": "", "reasons": "", "responsible_department": "", "order": "none"},
    )
    assert response.status_code == 400
    assert response.context["refused_form"].errors == {
        "outcome": ["This field is required."],
        "reasons": ["This field is required."],
        "responsible_department": ["This field is required."],
    }
    page = response.content.decode()
    assert '<a href="#id_decide_outcome">Outcome</a>: This field is required.' in page
    assert '<a href="#id_decide_reasons">Reasons</a>: This field is required.' in page
    assert dispute_state(escalated) == before


def test_dispute_decision_the_service_refuses_shows_its_error_at_the_field(
    client, escalated, reviewer
):
    client.force_login(reviewer)
    before = dispute_state(escalated)
    response = client.post(
        reverse("disputes:dispute_action", args=[escalated.pk, "decide"]),
        {
            "outcome": "upheld",
            "reasons": "HEALTH stopped without notice.",
            "responsible_department": escalated.respondent_department_id,
            "order": "correct_data",
        },
    )
    assert response.status_code == 400
    assert response.context["refused_form"].errors == {
        "order_text": ["Say which data is to be corrected, and how."],
    }
    assert '<p class="error" id="id_decide_order_text_error_1">' in response.content.decode()
    assert dispute_state(escalated) == before


def test_quality_report_form_with_two_wrong_fields_shows_both(client, grant, requester):
    from governance.models import QualityReport

    client.force_login(requester)
    url = reverse("governance:quality_create") + f"?resource={grant.resource_id}"
    response = client.post(
        url,
        {
            "department": grant.grantee_department_id,
            "kind": "wrong_value",
            "item": "",
            "lines": "two, three",
            "description": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Use line numbers separated by commas, e.g. 2, 15, 27." in page
    assert set(response.context["form"].errors) == {"lines", "description"}
    assert not QualityReport.objects.exists()


def test_resolving_with_a_wrong_release_and_no_reason_shows_both(client, grant, requester, steward):
    from governance.services import quality

    report = quality.quality_report_file(
        actor=requester,
        department=grant.grantee_department,
        resource=grant.resource,
        kind="wrong_value",
        item="birth_date",
        lines=[2],
        description="Line 2 has a birth date in the future.",
    )
    client.force_login(steward)
    response = client.post(
        reverse("governance:quality_action", args=[report.pk, "resolve"]),
        {"reason": "", "release": "999"},
    )
    assert response.status_code == 400
    assert set(response.context["refused_form"].errors) == {"reason", "release"}
    page = response.content.decode()
    assert page.index('<h2 id="summary">Report</h2>') < page.index("<h3>Resolve</h3>")
    report.refresh_from_db()
    assert report.state == "open"


def test_attestation_with_two_wrong_fields_shows_both(client, grant, requester, reviewer):
    from rights import attestations
    from rights import services as grant_services
    from rights.models import Attestation

    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Purpose ended.")
    attestations.attestations_open_due()
    attestation = Attestation.objects.get(grant=grant)
    client.force_login(requester)
    response = client.post(
        reverse("attestations:attestation_attest", args=[attestation.pk]),
        {"kind": "burnt", "statement": ""},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"kind", "statement"}
    assert Attestation.objects.get(pk=attestation.pk).state == "pending"


def test_resource_form_shows_a_field_error_and_the_services_rule_at_once(
    client, steward, departments
):
    from catalog.models import Resource
    from tests.conftest import resource_data

    client.force_login(steward)
    form = {
        **resource_data(sharing_conditions="", title=""),
        "owner_department": departments["HEALTH"].pk,
        "methods": [],
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("catalog:resource_create"), form)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["title"] == ["This field is required."]
    assert errors["sharing_conditions"] == ["A conditional resource must state its conditions."]
    assert errors["methods"] == ["Choose at least one sharing method."]
    assert not Resource.objects.exists()
