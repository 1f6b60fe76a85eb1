"""The request workflow, grants and notifications through the web pages (Django test client)."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access_requests import services as rs
from access_requests.models import Request
from catalog import services as catalog_services
from departments import services as department_services
from departments.models import Membership
from notifications.models import Notification
from notifications.services import notify
from rights.models import Grant
from tests.conftest import ITEMS, REQUEST_ITEMS, make_user, request_data, resource_data

S = Request.State


# --- helpers --------------------------------------------------------------------------------


def form_payload(items=REQUEST_ITEMS, **overrides):
    """What a browser sends from the request form: a checkbox and a reason per chosen item."""
    today = timezone.localdate()
    data = {
        "purpose": "Check vaccination status for school enrolment.",
        "legal_basis_kind": "statute",
        "legal_basis_citation": "Education Law",
        "legal_basis_article": "art. 12",
        "legal_basis_text": "Schools verify immunisation before enrolment.",
        "method": "realtime",
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=180)).isoformat(),
    }
    for item in items:
        data[f"item_{item['name']}"] = "on"
        data[f"reason_{item['name']}"] = item["reason"]
    data.update(overrides)
    return data


def state_of(access_request):
    """Everything a refused step must leave unchanged."""
    access_request = Request.objects.get(pk=access_request.pk)
    return (
        access_request.state,
        access_request.steps.count(),
        access_request.history.count(),
        access_request.appealed,
        list(access_request.items.values_list("name", "reason", "approved")),
        Grant.objects.filter(request=access_request).count(),
    )


def grant_state(grant):
    grant = Grant.objects.get(pk=grant.pk)
    return grant.status, grant.history.count(), Request.objects.count()


def detail_url(access_request):
    return reverse("access_requests:request_detail", args=[access_request.pk])


def action_url(access_request, action):
    return reverse("access_requests:request_action", args=[access_request.pk, action])


def post_step(client, access_request, action, data=None):
    return client.post(action_url(access_request, action), data or {}, follow=True)


def text(response):
    return response.content.decode()


def not_shareable_resource(steward, departments):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-PSY-001",
            title="Psychiatric clinical notes",
            sharing_type="not_shareable",
            sharing_conditions="",
            not_shareable_reason="Clinical notes are confidential.",
            not_shareable_law="Mental Health Law art. 4",
        ),
        methods=[],
        items=ITEMS,
    )
    return catalog_services.resource_publish(actor=steward, resource=resource)


@pytest.fixture
def police_requester(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


@pytest.fixture
def in_owner_review(request_draft, requester):
    return rs.request_submit(actor=requester, request=request_draft)


@pytest.fixture
def in_office_review(in_owner_review, steward):
    return rs.request_endorse(actor=steward, request=in_owner_review, reason="Lawful.")


@pytest.fixture
def grant(in_office_review, reviewer):
    rs.request_approve(actor=reviewer, request=in_office_review, reason="Necessary.")
    return Grant.objects.get(request=in_office_review)


# --- the flow -------------------------------------------------------------------------------


def test_file_submit_endorse_approve_and_the_grant_page_shows(
    client, released, requester, steward, reviewer
):
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    page = client.get(new_url)
    assert page.status_code == 200
    assert 'name="item_resident_id"' in text(page)
    assert 'for="id_reason_resident_id">Why resident_id is needed</label>' in text(page)
    created = client.post(new_url, form_payload())
    access_request = Request.objects.get()
    assert created.status_code == 302
    assert created.url == detail_url(access_request)
    assert access_request.state == S.DRAFT
    assert access_request.requesting_department.code == "CIVIL"
    assert dict(access_request.items.values_list("name", "reason")) == {
        i["name"]: i["reason"] for i in REQUEST_ITEMS
    }
    assert "Submit for review" in text(client.get(detail_url(access_request)))

    response = post_step(client, access_request, "submit")
    assert "The request is submitted for review." in text(response)
    assert Request.objects.get().state == S.OWNER_REVIEW

    client.force_login(steward)
    page = text(client.get(detail_url(access_request)))
    assert "Endorse" in page and "Approve and grant" not in page
    post_step(client, access_request, "endorse", {"reason": "The Education Law applies."})
    assert Request.objects.get().state == S.OFFICE_REVIEW

    client.force_login(reviewer)
    assert "Approve and grant" in text(client.get(detail_url(access_request)))
    items = [i["name"] for i in REQUEST_ITEMS]
    response = post_step(client, access_request, "approve", {"items": items, "reason": "Fine."})
    assert "The request is approved." in text(response)
    grant = Grant.objects.get(request=access_request)
    assert grant.fields == ["resident_id", "birth_date", "dose_number"]  # catalog order

    client.force_login(requester)
    page = text(client.get(detail_url(access_request)))
    assert reverse("grants:grant_detail", args=[grant.pk]) in page
    for action in ("Submitted", "Sent to the owner for review", "Endorsed by the owner"):
        assert action in page
    assert "The Education Law applies." in page  # the endorsement reason is on the timeline
    grant_page = client.get(reverse("grants:grant_detail", args=[grant.pk]))
    assert grant_page.status_code == 200
    for expected in ("resident_id", "Education Law", "Real-time interface", "Active", "Granted"):
        assert expected in text(grant_page)
    listing = text(client.get(reverse("grants:grant_list")))
    assert released.title in listing


def test_returned_request_is_changed_and_resubmitted(client, in_owner_review, requester, steward):
    access_request = in_owner_review
    client.force_login(steward)
    post_step(client, access_request, "return", {"reason": "Drop birth_date."})
    assert Request.objects.get().state == S.RETURNED

    client.force_login(requester)
    page = text(client.get(detail_url(access_request)))
    assert "Drop birth_date." in page and "Returned for changes" in page
    edit_url = reverse("access_requests:request_edit", args=[access_request.pk])
    form = client.get(edit_url)
    assert form.status_code == 200
    assert 'name="item_birth_date" id="id_item_birth_date" checked' in text(form)
    saved = client.post(edit_url, form_payload(items=REQUEST_ITEMS[:2]))
    assert saved.status_code == 302
    assert list(Request.objects.get().items.values_list("name", flat=True)) == [
        "resident_id",
        "dose_number",
    ]
    post_step(client, access_request, "submit")
    assert Request.objects.get().state == S.OWNER_REVIEW


def test_a_submitted_request_cannot_be_edited(client, in_owner_review, requester):
    client.force_login(requester)
    before = state_of(in_owner_review)
    edit_url = reverse("access_requests:request_edit", args=[in_owner_review.pk])
    response = client.post(edit_url, form_payload(purpose="Changed."), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(in_owner_review)
    assert "Only a draft or a returned request can be changed." in text(response)
    assert state_of(in_owner_review) == before


def test_return_without_a_reason_is_refused_and_changes_nothing(client, in_owner_review, steward):
    client.force_login(steward)
    before = state_of(in_owner_review)
    response = post_step(client, in_owner_review, "return", {"reason": "  "})
    assert "Give the reason for returning the request." in text(response)
    assert state_of(in_owner_review) == before


def test_reject_then_appeal_once(client, in_owner_review, requester, steward, reviewer):
    access_request = in_owner_review
    client.force_login(steward)
    post_step(client, access_request, "reject", {"reason": "No statutory duty."})
    assert Request.objects.get().state == S.REJECTED

    client.force_login(requester)
    assert "Appeal to the data management office" in text(client.get(detail_url(access_request)))
    post_step(client, access_request, "appeal", {"reason": "Education Law art. 12 requires it."})
    access_request.refresh_from_db()
    assert (access_request.state, access_request.appealed) == (S.OFFICE_REVIEW, True)

    client.force_login(reviewer)
    post_step(client, access_request, "reject", {"reason": "Upheld."})
    client.force_login(requester)
    page = text(client.get(detail_url(access_request)))
    assert "Appeal to the data management office" not in page  # once only
    before = state_of(access_request)
    response = post_step(client, access_request, "appeal", {"reason": "Again."})
    assert "already been appealed once" in text(response)
    assert state_of(access_request) == before


def test_requester_withdraws_before_a_decision(client, in_owner_review, requester):
    client.force_login(requester)
    response = post_step(client, in_owner_review, "withdraw", {"reason": "No longer needed."})
    assert "The request is withdrawn." in text(response)
    assert Request.objects.get().state == S.WITHDRAWN
    page = text(client.get(detail_url(in_owner_review)))
    assert action_url(in_owner_review, "withdraw") not in page
    assert action_url(in_owner_review, "submit") not in page


def test_refused_transition_is_a_message_and_changes_nothing(client, grant, requester):
    access_request = grant.request
    client.force_login(requester)
    before = state_of(access_request)
    response = post_step(client, access_request, "withdraw")
    assert response.redirect_chain[-1][0] == detail_url(access_request)
    assert "A request that is approved cannot be withdrawn." in text(response)
    response = post_step(client, access_request, "submit")
    assert "cannot be submitted" in text(response)
    assert state_of(access_request) == before


def test_not_shareable_resource_is_refused_with_its_reason(client, steward, requester, departments):
    resource = not_shareable_resource(steward, departments)
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={resource.pk}"
    response = client.post(new_url, form_payload(method=""))
    assert response.status_code == 400
    assert (
        "Psychiatric clinical notes is not shareable: Clinical notes are confidential. "
        "(Mental Health Law art. 4)." in text(response)
    )
    assert not Request.objects.exists()


def test_partial_approval_through_the_form(client, in_office_review, reviewer, requester):
    client.force_login(reviewer)
    post_step(
        client,
        in_office_review,
        "approve",
        {
            "items": ["resident_id", "dose_number"],
            "max_records_per_day": "500",
            "max_calls_per_day": "100",
            "reason": "birth_date is not necessary.",
        },
    )
    grant = Grant.objects.get(request=in_office_review)
    assert grant.fields == ["resident_id", "dose_number"]
    assert (grant.max_records_per_day, grant.max_calls_per_day) == (500, 100)
    assert dict(in_office_review.items.values_list("name", "approved")) == {
        "resident_id": True,
        "dose_number": True,
        "birth_date": False,
    }
    client.force_login(requester)
    page = text(client.get(detail_url(in_office_review)))
    assert "<td><code>birth_date</code></td><td>To confirm identity.</td><td><strong>no" in page


def test_approving_nothing_is_refused_with_a_message(client, in_office_review, reviewer):
    client.force_login(reviewer)
    before = state_of(in_office_review)
    response = post_step(client, in_office_review, "approve", {"reason": "x"})
    assert "Approve at least one item, or reject the request." in text(response)
    assert state_of(in_office_review) == before


def test_form_shows_service_errors_and_creates_nothing(client, released, requester):
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    payload = form_payload(items=[{"name": "resident_id", "reason": ""}], method="periodic_copy")
    response = client.post(new_url, payload)
    assert response.status_code == 400
    page = text(response)
    assert "Say why resident_id is needed (minimal necessary)." in page
    assert "A periodic copy needs a frequency" in page
    assert not Request.objects.exists()


def test_every_problem_of_the_form_shows_in_one_pass(client, released, requester):
    """An empty purpose (a form error) no longer hides the period's rule until the next submit."""
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    today = timezone.localdate()
    payload = form_payload(
        purpose="",
        valid_from=today.isoformat(),
        valid_until=(today - datetime.timedelta(days=3)).isoformat(),
        items=[{"name": "resident_id", "reason": ""}],
    )
    response = client.post(new_url, payload)
    assert response.status_code == 400
    page = text(response)
    assert "This field is required." in page
    assert "The period ends before it starts." in page
    assert "Say why resident_id is needed (minimal necessary)." in page
    # The purpose has one message, not the form's and the service's.
    assert "State the purpose the data will be used for." not in page
    assert not Request.objects.exists()


def test_an_unparsed_start_date_gives_one_message_not_two(client, released, requester):
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    response = client.post(new_url, form_payload(purpose="", valid_from="31/02/2027"))
    assert response.status_code == 400
    page = text(response)
    assert "Enter a valid date." in page
    assert "Give the start and end dates of the period." not in page
    assert not Request.objects.exists()


def test_supporting_document_is_stored_and_size_is_enforced(client, released, requester, settings):
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    settings.REQUEST_DOCUMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("order.pdf", b"%PDF" + b"0" * (1024 * 1024), "application/pdf")
    response = client.post(new_url, {**form_payload(), "supporting_document": big})
    # Stopped while the body was read (core/uploads.py), before the form saw it.
    assert response.status_code == 413
    assert "The file is larger than 1.0\xa0MB" in text(response)
    exe = SimpleUploadedFile("order.exe", b"MZ", "application/octet-stream")
    response = client.post(new_url, {**form_payload(), "supporting_document": exe})
    assert response.status_code == 400
    assert not Request.objects.exists()
    small = SimpleUploadedFile("order.pdf", b"%PDF-1.4 small", "application/pdf")
    client.post(new_url, {**form_payload(), "supporting_document": small})
    assert Request.objects.get().supporting_document.name.endswith(".pdf")


def test_department_is_a_choice_for_a_requester_of_several(
    client, released, requester, departments
):

    department_services.membership_grant(
        user=requester, department=departments["POLICE"], role=Membership.Role.REQUESTER
    )
    client.force_login(requester)
    new_url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    assert 'name="department"' in text(client.get(new_url))
    client.post(new_url, form_payload(department=departments["POLICE"].pk))
    assert Request.objects.get().requesting_department.code == "POLICE"


def test_resource_page_offers_the_request_link_to_requesters_only(
    client, released, requester, steward, departments
):
    url = reverse("catalog:resource_detail", args=[released.pk])
    link = reverse("access_requests:request_create") + f"?resource={released.pk}"
    client.force_login(requester)
    assert text(client.get(url)).count(link) == 1
    client.force_login(steward)
    assert link not in text(client.get(url))
    closed = not_shareable_resource(steward, departments)
    client.force_login(requester)
    assert "Request this data" not in text(
        client.get(reverse("catalog:resource_detail", args=[closed.pk]))
    )


# --- grants ---------------------------------------------------------------------------------


def test_holder_suspends_resumes_and_revokes_on_the_web(client, grant, reviewer):
    client.force_login(reviewer)
    url = reverse("grants:grant_detail", args=[grant.pk])
    assert "Suspend the grant" in text(client.get(url))
    before = grant_state(grant)
    response = client.post(
        reverse("grants:grant_action", args=[grant.pk, "suspend"]), {"reason": ""}, follow=True
    )
    assert "Give the reason" in text(response)
    assert grant_state(grant) == before
    for action, status in (
        ("suspend", "suspended"),
        ("resume", "active"),
        ("revoke", "revoked"),
    ):
        client.post(
            reverse("grants:grant_action", args=[grant.pk, action]), {"reason": f"{action} now"}
        )
        assert Grant.objects.get(pk=grant.pk).status == status
    page = text(client.get(url))
    assert "suspend now" in page and "Revoked" in page
    assert "Suspend the grant" not in page
    response = client.post(
        reverse("grants:grant_action", args=[grant.pk, "resume"]), {"reason": "x"}, follow=True
    )
    assert "This grant is revoked; it cannot be resumed." in text(response)


def test_renew_opens_a_prefilled_draft(client, grant, requester):
    client.force_login(requester)
    assert "Renew" in text(client.get(reverse("grants:grant_detail", args=[grant.pk])))
    response = client.post(reverse("grants:grant_renew", args=[grant.pk]))
    draft = Request.objects.exclude(pk=grant.request_id).get()
    assert response.url == reverse("access_requests:request_edit", args=[draft.pk])
    assert draft.state == S.DRAFT
    assert list(draft.items.values_list("name", flat=True)) == grant.fields
    assert client.get(response.url).status_code == 200


# --- outsiders ------------------------------------------------------------------------------

REQUEST_STEPS = ["submit", "withdraw", "appeal", "endorse", "return", "reject", "approve"]
STEP_DATA = {"reason": "because", "items": ["resident_id"]}


@pytest.mark.parametrize("persona", ["police_requester", "outsider_steward"])
def test_other_departments_get_404_for_every_request_page_and_step(
    client, in_owner_review, persona, request
):
    client.force_login(request.getfixturevalue(persona))
    before = state_of(in_owner_review)
    pk = in_owner_review.pk
    for url in (
        detail_url(in_owner_review),
        reverse("access_requests:request_edit", args=[pk]),
    ):
        assert client.get(url).status_code == 404
    for action in REQUEST_STEPS:
        assert client.post(action_url(in_owner_review, action), STEP_DATA).status_code == 404
    assert state_of(in_owner_review) == before


def test_a_draft_is_invisible_to_the_owner(client, request_draft, steward):
    client.force_login(steward)
    assert client.get(detail_url(request_draft)).status_code == 404


@pytest.mark.parametrize(
    ("persona", "state", "actions"),
    [
        # A reviewer who sits in CIVIL sees CIVIL's request but is neither requester nor decider.
        ("civil_reviewer", "draft", ["submit", "withdraw"]),
        ("civil_reviewer", "office_review", ["approve", "return", "reject", "withdraw"]),
        # The owner's steward gives an opinion but does not file, withdraw or decide.
        ("steward", "owner_review", ["submit", "withdraw", "approve"]),
        ("steward", "office_review", ["approve", "withdraw"]),
        # The requester does not review their own request.
        ("requester", "owner_review", ["endorse", "return", "reject"]),
        ("requester", "office_review", ["approve", "return", "reject"]),
    ],
)
def test_visible_but_not_allowed_is_403_and_changes_nothing(
    client, request_draft, requester, steward, persona, state, actions, request
):
    if state != "draft":
        rs.request_submit(actor=requester, request=request_draft)
    if state == "office_review":
        rs.request_endorse(actor=steward, request=request_draft)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(detail_url(request_draft)).status_code == 200
    before = state_of(request_draft)
    for action in actions:
        response = client.post(action_url(request_draft, action), STEP_DATA)
        assert response.status_code == 403, action
    assert state_of(request_draft) == before


def test_only_the_filing_department_opens_the_edit_page(client, request_draft, civil_reviewer):
    client.force_login(civil_reviewer)
    assert (
        client.get(reverse("access_requests:request_edit", args=[request_draft.pk])).status_code
        == 403
    )


def test_a_user_without_a_requester_role_cannot_open_the_new_request_page(
    client, released, steward
):
    client.force_login(steward)
    url = reverse("access_requests:request_create") + f"?resource={released.pk}"
    assert client.get(url).status_code == 403
    assert client.post(url, form_payload()).status_code == 403
    assert not Request.objects.exists()


def test_an_invisible_resource_cannot_be_requested(client, draft, requester):
    client.force_login(requester)
    base = reverse("access_requests:request_create")
    assert client.get(f"{base}?resource={draft.pk}").status_code == 404
    assert client.get(f"{base}?resource=abc").status_code == 404
    assert client.post(f"{base}?resource={draft.pk}", form_payload()).status_code == 404
    assert not Request.objects.exists()


@pytest.mark.parametrize("persona", ["police_requester", "outsider_steward"])
def test_other_departments_get_404_for_grant_pages(client, grant, persona, request):
    client.force_login(request.getfixturevalue(persona))
    before = grant_state(grant)
    assert client.get(reverse("grants:grant_detail", args=[grant.pk])).status_code == 404
    for action in ("suspend", "resume", "revoke"):
        url = reverse("grants:grant_action", args=[grant.pk, action])
        assert client.post(url, {"reason": "x"}).status_code == 404
    assert client.post(reverse("grants:grant_renew", args=[grant.pk])).status_code == 404
    assert grant_state(grant) == before


@pytest.mark.parametrize("persona", ["requester", "steward"])
def test_grantee_and_owner_cannot_suspend_or_revoke(client, grant, persona, request):
    client.force_login(request.getfixturevalue(persona))
    page = text(client.get(reverse("grants:grant_detail", args=[grant.pk])))
    assert "Suspend the grant" not in page
    before = grant_state(grant)
    for action in ("suspend", "revoke"):
        url = reverse("grants:grant_action", args=[grant.pk, action])
        assert client.post(url, {"reason": "x"}).status_code == 403
    assert grant_state(grant) == before


def test_only_requesters_of_the_grantee_renew(client, grant, steward, reviewer):
    for user in (steward, reviewer):
        client.force_login(user)
        assert "Renew" not in text(client.get(reverse("grants:grant_detail", args=[grant.pk])))
        before = grant_state(grant)
        assert client.post(reverse("grants:grant_renew", args=[grant.pk])).status_code == 403
        assert grant_state(grant) == before


def test_steps_are_post_only_and_unknown_steps_are_404(client, in_owner_review, requester, grant):
    client.force_login(requester)
    assert client.get(action_url(in_owner_review, "withdraw")).status_code == 405
    assert client.post(action_url(in_owner_review, "delete")).status_code == 404
    assert client.post(reverse("grants:grant_action", args=[grant.pk, "expire"])).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/requests/",
        "/requests/review/",
        "/requests/new/?resource=1",
        "/requests/1/",
        "/requests/1/edit/",
        "/grants/",
        "/grants/1/",
        "/notifications/",
    ],
)
def test_anonymous_is_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    "url", ["/requests/1/submit/", "/grants/1/revoke/", "/grants/1/renew/", "/notifications/read/"]
)
def test_anonymous_posts_are_sent_to_sign_in(client, db, url):
    response = client.post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- lists ----------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


def file_requests(requester, department, resource, n):
    return [
        rs.request_create(
            actor=requester,
            department=department,
            resource=resource,
            data=request_data(purpose=f"Purpose {i}"),
            items=REQUEST_ITEMS,
        )
        for i in range(n)
    ]


def test_list_pages_run_a_fixed_number_of_queries(
    client, released, requester, steward, reviewer, departments
):
    def grow(n):
        for access_request in file_requests(requester, departments["CIVIL"], released, n):
            rs.request_submit(actor=requester, request=access_request)
            if access_request.pk % 2:  # half wait for the owner, half become grants
                continue
            rs.request_endorse(actor=steward, request=access_request)
            rs.request_approve(actor=reviewer, request=access_request)
        for user in (requester, steward):
            notify(recipients=[user], subject="Hello", body="World", url="/requests/")

    pages = [
        (requester, reverse("access_requests:request_list")),
        (steward, reverse("access_requests:request_queue")),
        (requester, reverse("grants:grant_list")),
        (requester, reverse("notifications:notification_list")),
    ]
    grow(2)
    few = {}
    for user, url in pages:
        client.force_login(user)
        few[url] = count_queries(client, url)[0]
    grow(10)
    for user, url in pages:
        client.force_login(user)
        many, response = count_queries(client, url)
        assert many == few[url], url
    assert "12 requests" in text(client.get(reverse("access_requests:request_list")))


def test_request_list_is_paginated_by_25(client, released, requester, departments):
    file_requests(requester, departments["CIVIL"], released, 26)
    client.force_login(requester)
    first = text(client.get(reverse("access_requests:request_list")))
    assert "Page 1 of 2" in first
    assert len(re.findall(r'href="/requests/\d+/"', first)) == 25


def test_my_departments_requests_hide_other_departments(
    client, request_draft, police_requester, released, departments
):
    file_requests(police_requester, departments["POLICE"], released, 1)
    client.force_login(police_requester)
    page = text(client.get(reverse("access_requests:request_list")))
    assert "1 request" in page
    assert detail_url(request_draft) not in page


def test_review_queue_shows_overdue_first(
    client, released, requester, steward, reviewer, departments
):
    early, late = file_requests(requester, departments["CIVIL"], released, 2)
    for access_request in (early, late):
        rs.request_submit(actor=requester, request=access_request)
    # ``late`` is due later but overdue; the queue puts it first and marks it.
    Request.objects.filter(pk=late.pk).update(
        due_date=timezone.localdate() + datetime.timedelta(days=3), overdue_since=timezone.now()
    )
    client.force_login(steward)
    page = text(client.get(reverse("access_requests:request_queue")))
    assert page.index(detail_url(late)) < page.index(detail_url(early))
    assert page.count('<strong class="error">Overdue</strong>') == 1
    client.force_login(requester)  # the filing department reviews nothing
    assert "0 requests waiting" in text(client.get(reverse("access_requests:request_queue")))


# --- notifications --------------------------------------------------------------------------


def test_notifications_are_listed_highlighted_and_marked_read(
    client, in_owner_review, steward, requester
):
    client.force_login(steward)
    page = text(client.get(reverse("notifications:notification_list")))
    assert "awaits the owner&#x27;s opinion" in page
    assert "Unread" in page
    assert "1 unread" in page  # the navigation count
    assert Notification.objects.filter(recipient=requester).count() == 0
    response = client.post(reverse("notifications:notification_mark_all_read"), follow=True)
    assert "1 notification marked as read." in text(response)
    assert not Notification.objects.filter(recipient=steward, read_at__isnull=True).exists()
    assert "1 unread" not in text(response)


def test_notifications_are_private(client, in_owner_review, steward, police_requester):
    client.force_login(police_requester)
    assert "awaits" not in text(client.get(reverse("notifications:notification_list")))
    client.post(reverse("notifications:notification_mark_all_read"))
    assert Notification.objects.filter(recipient=steward, read_at__isnull=True).count() == 1
