"""Every refusal names its real reason: the grant's state or period, the department, the
first decider of an appeal, the requester's own department. Each refusal also changes nothing."""

import datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from guardian.shortcuts import remove_perm

from access_requests import services as rs
from access_requests.models import Request
from audit.models import AccessLog
from departments import services as department_services
from departments.models import Membership
from rights import services as grant_services
from rights.models import Grant
from sharing.deliveries import deliveries_dispatch, delivery_build
from tests.conftest import make_user
from tests.test_sharing import all_methods, api, grant_for  # noqa: F401 - fixtures

TODAY = timezone.localdate()


@pytest.fixture
def delivered(grant_for):  # noqa: F811
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    return grant, delivery_build(delivery.pk)


def _download(user, delivery):
    return api(user).get(f"/api/v1/deliveries/{delivery.pk}/download/")


def test_suspended_grant_download_says_it_is_suspended(delivered, requester, reviewer):
    grant, delivery = delivered
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    response = _download(requester, delivery)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This grant is suspended: its data cannot be used until the holder of the "
        "shared-management right resumes it."
    )
    refusal = AccessLog.objects.get(action="download")
    assert (refusal.outcome, refusal.detail["reason"]) == ("refused", response.json()["detail"])


def test_revoked_grant_download_says_it_was_revoked(delivered, requester, reviewer):
    grant, delivery = delivered
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")
    response = _download(requester, delivery)
    assert response.status_code == 403
    assert response.json()["detail"] == "This grant was revoked: its data can no longer be used."


def test_expired_grant_download_says_it_expired(delivered, requester):
    grant, delivery = delivered
    Grant.objects.filter(pk=grant.pk).update(status=Grant.Status.EXPIRED)
    response = _download(requester, delivery)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This grant has expired: file a renewal request to use the data again."
    )


def test_grant_not_yet_started_says_when_it_starts(grant_for, requester):  # noqa: F811
    grant = grant_for("realtime")
    start = TODAY + datetime.timedelta(days=3)
    Grant.objects.filter(pk=grant.pk).update(valid_from=start)
    response = api(requester).get(f"/api/v1/grants/{grant.pk}/records/?resident_id=R001")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"This grant starts on {date_format(start)}: its data cannot be used before then."
    )


def test_grant_past_its_end_says_when_it_ended(grant_for, requester):  # noqa: F811
    grant = grant_for("realtime")
    end = TODAY - datetime.timedelta(days=1)
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=end - datetime.timedelta(days=9), valid_until=end
    )
    response = api(requester).get(f"/api/v1/grants/{grant.pk}/records/?resident_id=R001")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"This grant ended on {date_format(end)}: file a renewal request to use the data again."
    )


def test_another_department_is_told_whose_grant_it_is(delivered, steward):
    _grant, delivery = delivered
    response = _download(steward, delivery)  # the owner sees the grant but does not hold it
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only members of CIVIL, the grantee department, can use this grant."
    )


def test_member_whose_department_lost_the_permission_is_told_so(delivered, requester):
    grant, delivery = delivered
    remove_perm("rights.use_grant", grant.grantee_department.group, grant)
    response = _download(requester, delivery)
    assert response.status_code == 403
    assert response.json()["detail"].startswith(
        "Your department does not hold the use right on this grant"
    )


def test_active_grant_download_still_works(delivered, requester):
    _grant, delivery = delivered
    assert _download(requester, delivery).status_code == 200


# --- who decides -----------------------------------------------------------------------------


@pytest.fixture
def in_office_review(request_draft, requester, steward):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    return request_draft


@pytest.fixture
def appealed(in_office_review, requester, reviewer):
    rs.request_reject(actor=reviewer, request=in_office_review, reason="No legal basis.")
    rs.request_appeal(actor=requester, request=in_office_review, reason="The law requires it.")
    return in_office_review


def _refused(user, access_request, action, data=None):
    """POST the step; return (status, detail) and check that the request did not change."""
    access_request.refresh_from_db()
    before = (access_request.state, access_request.steps.count())
    response = api(user).post(
        f"/api/v1/requests/{access_request.pk}/{action}/", data or {"reason": "x"}, format="json"
    )
    after = Request.objects.get(pk=access_request.pk)
    assert (after.state, after.steps.count()) == before
    assert not Grant.objects.filter(request=access_request).exists()
    return response.status_code, response.json()["detail"]


def test_first_decider_cannot_hear_the_appeal(appealed, reviewer):
    assert _refused(reviewer, appealed, "approve") == (
        403,
        "You cannot hear this appeal: you rejected the request, and an appeal is heard by "
        "another reviewer of the data management office.",
    )
    assert _refused(reviewer, appealed, "reject")[1].startswith("You cannot hear this appeal")


def test_another_office_reviewer_hears_the_appeal(appealed, departments):
    second = make_user("office_two", departments["OFFICE"], Membership.Role.REVIEWER)
    response = api(second).post(f"/api/v1/requests/{appealed.pk}/approve/", {}, format="json")
    assert response.status_code == 200
    assert Request.objects.get(pk=appealed.pk).state == "approved"


def test_appeal_is_heard_only_by_the_office(appealed, steward):
    # The owner's steward sees the request, but an appeal goes to the office.
    assert _refused(steward, appealed, "approve") == (
        403,
        "An appeal is heard by a reviewer of the data management office.",
    )


def test_own_department_cannot_decide(in_office_review, office_member_from_civil):
    assert _refused(office_member_from_civil, in_office_review, "approve") == (
        403,
        "You cannot decide on this request: your own department filed it, and nobody decides "
        "on a request from their own department.",
    )
    assert _refused(office_member_from_civil, in_office_review, "reject")[1].startswith(
        "You cannot decide on this request: your own department filed it"
    )


def test_someone_without_the_management_right_cannot_decide(in_office_review, steward):
    # The owner's steward sees the request; the office holds the management right.
    assert _refused(steward, in_office_review, "approve") == (
        403,
        "Only the holder of the shared-management right on this resource (OFFICE) can decide "
        "on this request.",
    )


@pytest.fixture
def in_owner_review(request_draft, requester):
    rs.request_submit(actor=requester, request=request_draft)
    return request_draft


def test_owner_steward_from_the_requesting_department_cannot_review(
    in_owner_review, steward, departments
):
    department_services.membership_grant(
        user=steward, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    assert _refused(steward, in_owner_review, "endorse") == (
        403,
        "You cannot give the owner's opinion on this request: your own department filed it, "
        "and nobody reviews a request from their own department.",
    )


def test_only_an_owner_steward_gives_the_owner_opinion(in_owner_review, reviewer):
    # The office sees every request, but the owner's opinion is the owner's.
    assert _refused(reviewer, in_owner_review, "endorse") == (
        403,
        "Only a data steward of the owning department can give the owner's opinion.",
    )
