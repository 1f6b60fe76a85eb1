"""The office's admin: review queue, actions with a reason form, grant actions, the calendar."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from access_requests import services as rs
from access_requests.models import Request
from departments import services as department_services
from departments.models import Membership
from rights.models import Grant

ADMIN = "/admin/access_requests/request/"


@pytest.fixture
def office_staff(reviewer):
    reviewer.is_staff = True
    reviewer.save()
    reviewer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return reviewer


@pytest.fixture
def in_office_review(request_draft, requester, steward):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    return request_draft


def test_admin_action_asks_for_a_reason_then_rejects(client, office_staff, in_office_review):
    client.force_login(office_staff)
    form = client.post(ADMIN, {"action": "reject", "_selected_action": [in_office_review.pk]})
    assert form.status_code == 200
    assert b"Reason" in form.content
    assert Request.objects.get(pk=in_office_review.pk).state == "office_review"
    missing = client.post(
        ADMIN,
        {"action": "reject", "_selected_action": [in_office_review.pk], "apply": "1", "reason": ""},
    )
    assert missing.status_code == 200
    assert Request.objects.get(pk=in_office_review.pk).state == "office_review"
    done = client.post(
        ADMIN,
        {
            "action": "reject",
            "_selected_action": [in_office_review.pk],
            "apply": "1",
            "reason": "Purpose too broad.",
        },
    )
    assert done.status_code == 302
    request = Request.objects.get(pk=in_office_review.pk)
    assert request.state == "rejected"
    assert request.steps.last().reason == "Purpose too broad."


def test_admin_partial_approval_creates_the_grant(client, office_staff, in_office_review):
    client.force_login(office_staff)
    response = client.post(
        ADMIN,
        {
            "action": "approve",
            "_selected_action": [in_office_review.pk],
            "apply": "1",
            "reason": "",
            "fields_to_approve": ["resident_id"],
            "max_calls_per_day": "50",
        },
    )
    assert response.status_code == 302
    grant = Grant.objects.get(request=in_office_review)
    assert grant.fields == ["resident_id"]
    assert grant.max_calls_per_day == 50


def test_admin_action_by_a_reviewer_of_the_requesting_department_changes_nothing(
    client, office_staff, in_office_review, departments
):

    department_services.membership_grant(
        user=office_staff, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    client.force_login(office_staff)
    steps = in_office_review.steps.count()
    response = client.post(
        ADMIN,
        {"action": "approve", "_selected_action": [in_office_review.pk], "apply": "1"},
        follow=True,
    )
    assert b"nobody decides on a request from their own department" in response.content
    request = Request.objects.get(pk=in_office_review.pk)
    assert (request.state, request.steps.count()) == ("office_review", steps)
    assert not Grant.objects.exists()


def test_admin_suspends_and_resumes_a_grant(client, office_staff, in_office_review, requester):
    rs.request_approve(actor=office_staff, request=in_office_review)
    grant = Grant.objects.get()
    client.force_login(office_staff)
    client.post(
        "/admin/rights/grant/",
        {"action": "suspend", "_selected_action": [grant.pk], "apply": "1", "reason": "Audit."},
    )
    grant.refresh_from_db()
    assert grant.status == "suspended"
    client.post(
        "/admin/rights/grant/",
        {"action": "resume", "_selected_action": [grant.pk], "apply": "1", "reason": "Done."},
    )
    grant.refresh_from_db()
    assert grant.status == "active"
    history = client.get(f"/admin/rights/grant/{grant.pk}/history/")
    assert history.status_code == 200
    assert b"suspend: Audit." in history.content


def test_queue_lists_overdue_first_and_filters(
    client, office_staff, in_office_review, released, requester, departments
):
    from tests.conftest import REQUEST_ITEMS, request_data

    other = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(),
        items=REQUEST_ITEMS,
    )
    rs.request_submit(actor=requester, request=other)
    long_ago = datetime.date.today() - datetime.timedelta(days=30)
    Request.objects.filter(pk=other.pk).update(due_date=long_ago)
    assert rs.requests_mark_overdue() == 1
    client.force_login(office_staff)
    page = client.get(ADMIN)
    assert page.status_code == 200
    assert [obj.pk for obj in page.context["cl"].result_list] == [other.pk, in_office_review.pk]
    overdue = client.get(ADMIN, {"overdue": "yes"})
    assert [obj.pk for obj in overdue.context["cl"].result_list] == [other.pk]
    for path in (
        "/admin/workdays/holiday/",
        "/admin/workdays/reviewpolicy/",
        "/admin/notifications/notification/",
        "/admin/rights/grant/",
    ):
        assert client.get(path).status_code == 200


def test_seed_demo_has_a_request_in_each_state_and_an_active_grant(db):
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115
    states = set(Request.objects.values_list("state", flat=True))
    assert states == {"approved", "owner_review", "office_review", "returned", "rejected", "draft"}
    grants = {g.method: g for g in Grant.objects.filter(status="active")}
    assert set(grants) == {"realtime", "periodic_copy", "result_only"}
    # The end-of-use demo: a grant revoked once its purpose was fulfilled.
    assert Grant.objects.get(status="revoked").attestation.state == "pending"
    assert grants["realtime"].fields == ["resident_id", "vaccine_code", "dose_number"]
    delivery = grants["periodic_copy"].deliveries.get()
    assert (delivery.status, delivery.row_count) == ("succeeded", 30)
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Request.objects.count() == 9
    assert grants["periodic_copy"].deliveries.count() == 1
