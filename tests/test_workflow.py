"""The three-rights workflow through the services: every transition, actor and refusal."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from access_requests import services as rs
from access_requests.models import Request
from catalog import services as catalog_services
from core.exceptions import IllegalTransition
from rights import services as grant_services
from rights.models import Grant
from tests.conftest import ITEMS, REQUEST_ITEMS, request_data, resource_data
from workdays.deadlines import add_working_days, working_days_between
from workdays.models import Holiday, ReviewPolicy

S = Request.State


def state_of(request):
    request = Request.objects.get(pk=request.pk)
    return (
        request.state,
        request.steps.count(),
        request.history.count(),
        Grant.objects.filter(request=request).count(),
        request.appealed,
    )


def submitted(request_draft, requester):
    return rs.request_submit(actor=requester, request=request_draft)


def endorsed(request_draft, requester, steward):
    rs.request_submit(actor=requester, request=request_draft)
    return rs.request_endorse(actor=steward, request=request_draft, reason="Legal basis holds.")


# --- filing ---------------------------------------------------------------------------------


def test_requester_files_a_draft_with_items_and_reasons(request_draft, requester):
    assert request_draft.state == S.DRAFT
    assert request_draft.requested_by == requester
    assert list(request_draft.items.values_list("name", "reason", "approved")) == [
        (i["name"], i["reason"], None) for i in REQUEST_ITEMS
    ]
    assert request_draft.legal_basis["citation"] == "Education Law"


@pytest.mark.parametrize(
    ("overrides", "items", "field", "message"),
    [
        ({}, [{"name": "shoe_size", "reason": "x"}], "fields", "has no data item shoe_size"),
        ({"method": "upload"}, None, "method", "does not allow this method"),
        ({"purpose": "  "}, None, "purpose", "State the purpose"),
        (
            {"valid_until": datetime.date(2020, 1, 1), "valid_from": datetime.date(2020, 2, 1)},
            None,
            "valid_until",
            "ends before it starts",
        ),
        ({"legal_basis_citation": ""}, None, "legal_basis_citation", "Cite the legal basis"),
        ({"legal_basis_kind": "hunch"}, None, "legal_basis_kind", "kind of legal basis"),
        ({}, [{"name": "resident_id", "reason": ""}], "fields", "Say why resident_id"),
        ({}, [], "fields", "at least one data item"),
        ({"method": "result_only"}, None, "method", "does not allow"),
    ],
)
def test_invalid_requests_are_refused_with_a_clear_message(
    released, requester, departments, overrides, items, field, message
):
    with pytest.raises(ValidationError) as caught:
        rs.request_create(
            actor=requester,
            department=departments["CIVIL"],
            resource=released,
            data=request_data(**overrides),
            items=REQUEST_ITEMS if items is None else items,
        )
    assert message in " ".join(caught.value.message_dict[field])
    assert not Request.objects.exists()


def test_period_longer_than_the_office_maximum_is_refused(released, requester, departments):
    policy = ReviewPolicy.current()
    policy.max_validity_days = 30
    policy.save()
    today = datetime.date.today()
    with pytest.raises(ValidationError, match="at most 30 days"):
        rs.request_create(
            actor=requester,
            department=departments["CIVIL"],
            resource=released,
            data=request_data(valid_from=today, valid_until=today + datetime.timedelta(days=30)),
            items=REQUEST_ITEMS,
        )


def test_periodic_copy_needs_a_frequency(steward, released, requester, departments):
    with pytest.raises(ValidationError) as caught:
        rs.request_create(
            actor=requester,
            department=departments["CIVIL"],
            resource=released,
            data=request_data(method="periodic_copy", frequency=""),
            items=REQUEST_ITEMS,
        )
    assert "frequency" in caught.value.message_dict


def test_not_shareable_resource_refuses_with_its_reason(steward, requester, departments):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-PSY-001",
            sharing_type="not_shareable",
            sharing_conditions="",
            not_shareable_reason="Clinical notes are confidential.",
            not_shareable_law="Mental Health Law art. 4",
        ),
        methods=[],
        items=ITEMS,
    )
    resource = catalog_services.resource_publish(actor=steward, resource=resource)
    with pytest.raises(ValidationError) as caught:
        rs.request_create(
            actor=requester,
            department=departments["CIVIL"],
            resource=resource,
            data=request_data(),
            items=REQUEST_ITEMS,
        )
    message = " ".join(caught.value.message_dict["resource"])
    assert "not shareable: Clinical notes are confidential. (Mental Health Law art. 4)" in message


def test_only_a_requester_of_the_department_files(released, steward, departments):
    with pytest.raises(PermissionDenied):
        rs.request_create(
            actor=steward,
            department=departments["CIVIL"],
            resource=released,
            data=request_data(),
            items=REQUEST_ITEMS,
        )


# --- the flow -------------------------------------------------------------------------------


def test_conditional_request_goes_to_the_owner_first_then_the_office(
    request_draft, requester, steward, reviewer
):
    rs.request_submit(actor=requester, request=request_draft)
    request_draft.refresh_from_db()
    assert request_draft.state == S.OWNER_REVIEW
    assert request_draft.due_date == add_working_days(datetime.date.today(), 5)
    assert list(request_draft.steps.values_list("action", flat=True)) == [
        "create",
        "submit",
        "route_to_owner",
    ]
    rs.request_endorse(actor=steward, request=request_draft, reason="Fine.")
    request_draft.refresh_from_db()
    assert request_draft.state == S.OFFICE_REVIEW
    rs.request_approve(actor=reviewer, request=request_draft, reason="Lawful and necessary.")
    request_draft.refresh_from_db()
    assert request_draft.state == S.APPROVED
    grant = request_draft.grant
    assert grant.status == Grant.Status.ACTIVE
    assert grant.fields == ["resident_id", "dose_number", "birth_date"]
    assert grant.purpose == request_draft.purpose
    assert grant.legal_basis["citation"] == "Education Law"
    assert requester.has_perm("rights.use_grant", grant)
    last = request_draft.steps.last()
    assert (last.action, last.actor, last.department.code, last.reason) == (
        "approve",
        reviewer,
        "OFFICE",
        "Lawful and necessary.",
    )


def test_unconditional_request_skips_the_owner(steward, requester, reviewer, departments):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier="HEALTH-OPEN", sharing_type="unconditional"),
        methods=["realtime"],
        items=ITEMS,
    )
    resource = catalog_services.resource_publish(actor=steward, resource=resource)
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=request_data(),
        items=REQUEST_ITEMS[:1],
    )
    rs.request_submit(actor=requester, request=request)
    request.refresh_from_db()
    assert request.state == S.OFFICE_REVIEW
    assert "route_to_owner" not in request.steps.values_list("action", flat=True)


def test_partial_approval_keeps_both_sets(request_draft, requester, steward, reviewer):
    endorsed(request_draft, requester, steward)
    rs.request_approve(
        actor=reviewer,
        request=request_draft,
        fields=["resident_id", "dose_number"],
        max_calls_per_day=100,
    )
    grant = Grant.objects.get(request=request_draft)
    assert grant.fields == ["resident_id", "dose_number"]
    assert grant.max_calls_per_day == 100
    assert dict(request_draft.items.values_list("name", "approved")) == {
        "resident_id": True,
        "dose_number": True,
        "birth_date": False,
    }


def test_approving_an_item_not_requested_is_refused(request_draft, requester, steward, reviewer):
    endorsed(request_draft, requester, steward)
    before = state_of(request_draft)
    with pytest.raises(ValidationError, match="fee"):
        rs.request_approve(actor=reviewer, request=request_draft, fields=["fee"])
    assert state_of(request_draft) == before


def test_return_and_resubmit(request_draft, requester, steward):
    submitted(request_draft, requester)
    with pytest.raises(ValidationError):
        rs.request_return(actor=steward, request=request_draft, reason="")
    rs.request_return(actor=steward, request=request_draft, reason="Narrow the items.")
    rs.request_update(actor=requester, request=request_draft, data={}, items=REQUEST_ITEMS[:2])
    rs.request_submit(actor=requester, request=request_draft)
    request_draft.refresh_from_db()
    assert request_draft.state == S.OWNER_REVIEW
    assert request_draft.items.count() == 2


def test_reject_and_appeal_once(request_draft, requester, steward, reviewer, departments):
    endorsed(request_draft, requester, steward)
    rs.request_reject(actor=reviewer, request=request_draft, reason="Purpose too broad.")
    second = make_second_reviewer(departments)
    rs.request_appeal(actor=requester, request=request_draft, reason="The law requires it.")
    request_draft.refresh_from_db()
    assert (request_draft.state, request_draft.appealed) == (S.OFFICE_REVIEW, True)
    # The reviewer who rejected does not decide the appeal.
    with pytest.raises(PermissionDenied):
        rs.request_approve(actor=reviewer, request=request_draft)
    rs.request_reject(actor=second, request=request_draft, reason="Upheld.")
    before = state_of(request_draft)
    with pytest.raises(IllegalTransition, match="already been appealed"):
        rs.request_appeal(actor=requester, request=request_draft, reason="Again.")
    assert state_of(request_draft) == before


def make_second_reviewer(departments):
    from departments.models import Membership
    from tests.conftest import make_user

    return make_user("office2", departments["OFFICE"], Membership.Role.REVIEWER)


def test_withdraw_before_a_decision_only(request_draft, requester, steward, reviewer):
    submitted(request_draft, requester)
    rs.request_withdraw(actor=requester, request=request_draft)
    assert Request.objects.get(pk=request_draft.pk).state == S.WITHDRAWN
    before = state_of(request_draft)
    with pytest.raises(IllegalTransition):
        rs.request_submit(actor=requester, request=request_draft)
    assert state_of(request_draft) == before


def test_reject_after_approve_is_illegal_and_changes_nothing(
    request_draft, requester, steward, reviewer
):
    endorsed(request_draft, requester, steward)
    rs.request_approve(actor=reviewer, request=request_draft)
    before = state_of(request_draft)
    with pytest.raises(IllegalTransition):
        rs.request_reject(actor=reviewer, request=request_draft, reason="Changed my mind.")
    with pytest.raises(IllegalTransition):
        rs.request_approve(actor=reviewer, request=request_draft)
    assert state_of(request_draft) == before


# --- refused actors -------------------------------------------------------------------------


@pytest.fixture
def personas(departments, requester, steward, reviewer, outsider_steward, civil_reviewer):
    from departments.models import Membership
    from tests.conftest import make_user

    return {
        "requester": requester,
        "steward": steward,
        "reviewer": reviewer,
        "outsider_steward": outsider_steward,
        "police_requester": make_user(
            "police_clerk", departments["POLICE"], Membership.Role.REQUESTER
        ),
        "civil_reviewer": civil_reviewer,
    }


ACTIONS = {
    "submit": lambda a, r: rs.request_submit(actor=a, request=r),
    "withdraw": lambda a, r: rs.request_withdraw(actor=a, request=r),
    "endorse": lambda a, r: rs.request_endorse(actor=a, request=r),
    "return": lambda a, r: rs.request_return(actor=a, request=r, reason="r"),
    "reject": lambda a, r: rs.request_reject(actor=a, request=r, reason="r"),
    "approve": lambda a, r: rs.request_approve(actor=a, request=r),
    "appeal": lambda a, r: rs.request_appeal(actor=a, request=r, reason="r"),
}
# (action, state to reach first, the persona allowed)
CASES = [
    ("submit", "draft", "requester"),
    ("withdraw", "owner_review", "requester"),
    ("endorse", "owner_review", "steward"),
    ("return", "owner_review", "steward"),
    ("reject", "owner_review", "steward"),
    ("return", "office_review", "reviewer"),
    ("reject", "office_review", "reviewer"),
    ("approve", "office_review", "reviewer"),
    ("appeal", "rejected", "requester"),
]


def reach(request, state, p):
    if state in ("owner_review", "office_review", "rejected"):
        rs.request_submit(actor=p["requester"], request=request)
    if state in ("office_review", "rejected"):
        rs.request_endorse(actor=p["steward"], request=request)
    if state == "rejected":
        rs.request_reject(actor=p["reviewer"], request=request, reason="No.")


@pytest.mark.parametrize(("action", "state", "allowed"), CASES)
def test_every_transition_refuses_everyone_but_its_actor(
    request_draft, personas, action, state, allowed
):
    reach(request_draft, state, personas)
    for name, persona in personas.items():
        if name == allowed:
            continue
        before = state_of(request_draft)
        with pytest.raises((PermissionDenied, IllegalTransition)):
            ACTIONS[action](persona, request_draft)
        assert state_of(request_draft) == before, name
    ACTIONS[action](personas[allowed], request_draft)
    assert state_of(request_draft)[0] != state or action == "withdraw"


def test_office_member_of_the_requesting_department_cannot_decide(
    request_draft, requester, steward, office_member_from_civil
):
    endorsed(request_draft, requester, steward)
    before = state_of(request_draft)
    for action in ("approve", "reject", "return"):
        with pytest.raises(PermissionDenied):
            ACTIONS[action](office_member_from_civil, request_draft)
    assert state_of(request_draft) == before


def test_owner_as_management_right_holder_decides(steward, requester, departments, reviewer):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier="HEALTH-SELF", management_right_holder=departments["HEALTH"]),
        methods=["realtime"],
        items=ITEMS,
    )
    resource = catalog_services.resource_publish(actor=steward, resource=resource)
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=request_data(),
        items=REQUEST_ITEMS[:1],
    )
    rs.request_submit(actor=requester, request=request)
    rs.request_endorse(actor=steward, request=request)
    with pytest.raises(PermissionDenied):
        rs.request_approve(actor=reviewer, request=request)
    rs.request_approve(actor=steward, request=request)
    assert Request.objects.get(pk=request.pk).state == S.APPROVED


# --- grants ---------------------------------------------------------------------------------


@pytest.fixture
def grant(request_draft, requester, steward, reviewer):
    endorsed(request_draft, requester, steward)
    rs.request_approve(actor=reviewer, request=request_draft)
    return Grant.objects.get(request=request_draft)


def test_suspend_resume_revoke_move_the_permission(grant, reviewer, requester):
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit in progress.")
    requester = type(requester).objects.get(pk=requester.pk)  # fresh permission cache
    assert not requester.has_perm("rights.use_grant", grant)
    grant_services.grant_resume(actor=reviewer, grant=grant, reason="Audit closed.")
    requester = type(requester).objects.get(pk=requester.pk)
    assert requester.has_perm("rights.use_grant", grant)
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")
    requester = type(requester).objects.get(pk=requester.pk)
    assert not requester.has_perm("rights.use_grant", grant)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVOKED
    with pytest.raises(IllegalTransition):
        grant_services.grant_resume(actor=reviewer, grant=grant, reason="Oops.")
    assert [h.history_change_reason for h in grant.history.order_by("history_id")] == [
        "granted",
        "suspend: Audit in progress.",
        "resume: Audit closed.",
        "revoke: Misuse.",
    ]


@pytest.mark.parametrize("persona", ["requester", "steward", "outsider_steward", "civil_reviewer"])
def test_only_the_holder_suspends(grant, personas, persona):
    with pytest.raises(PermissionDenied):
        grant_services.grant_suspend(actor=personas[persona], grant=grant, reason="x")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE
    assert personas["requester"].has_perm("rights.use_grant", grant)


def test_expiry_removes_the_permission(grant, requester):
    today = grant.valid_until + datetime.timedelta(days=1)
    assert grant_services.grants_expire_due(today=grant.valid_until) == 0
    assert grant_services.grants_expire_due(today=today) == 1
    assert grant_services.grants_expire_due(today=today) == 0
    grant.refresh_from_db()
    assert grant.status == Grant.Status.EXPIRED
    requester = type(requester).objects.get(pk=requester.pk)
    assert not requester.has_perm("rights.use_grant", grant)


def test_expiry_warnings_go_once_14_and_3_days_before(grant, requester):
    from notifications.models import Notification

    day14 = grant.valid_until - datetime.timedelta(days=14)
    assert grant_services.grants_warn_expiry(today=day14) == 1
    assert grant_services.grants_warn_expiry(today=day14) == 0
    assert grant_services.grants_warn_expiry(today=day14 + datetime.timedelta(days=1)) == 0
    assert grant_services.grants_warn_expiry(today=grant.valid_until - datetime.timedelta(3)) == 1
    subjects = list(
        Notification.objects.filter(recipient=requester, key__startswith="grant:")
        .order_by("id")
        .values_list("subject", flat=True)
    )
    assert subjects == [f"Grant #{grant.pk} ends in 14 days", f"Grant #{grant.pk} ends in 3 days"]


def test_renew_files_a_prefilled_draft(grant, requester):
    renewal = rs.request_renew(actor=requester, grant=grant)
    assert renewal.state == S.DRAFT
    assert renewal.valid_from == grant.valid_until + datetime.timedelta(days=1)
    assert list(renewal.items.values_list("name", flat=True)) == grant.fields
    assert renewal.purpose == grant.purpose


# --- deadlines ------------------------------------------------------------------------------


def test_working_days_skip_weekends_and_holidays(db):
    friday = datetime.date(2026, 10, 2)
    assert add_working_days(friday, 1) == datetime.date(2026, 10, 5)  # Monday
    assert add_working_days(friday, 5) == datetime.date(2026, 10, 9)
    Holiday.objects.create(date=datetime.date(2026, 10, 5), name="Holiday")
    Holiday.objects.create(date=datetime.date(2026, 10, 6), name="Holiday")
    assert add_working_days(friday, 1) == datetime.date(2026, 10, 7)
    assert add_working_days(friday, 5) == datetime.date(2026, 10, 13)
    assert working_days_between(friday, datetime.date(2026, 10, 13)) == 5


def test_overdue_reviews_are_flagged_once_and_the_office_is_told(
    request_draft, requester, reviewer
):
    from notifications.models import Notification

    submitted(request_draft, requester)
    request_draft.refresh_from_db()
    assert rs.requests_mark_overdue(today=request_draft.due_date) == 0
    late = request_draft.due_date + datetime.timedelta(days=1)
    assert rs.requests_mark_overdue(today=late) == 1
    assert rs.requests_mark_overdue(today=late) == 0
    request_draft.refresh_from_db()
    assert request_draft.overdue_since is not None
    assert Notification.objects.filter(recipient=reviewer, subject__contains="overdue").count() == 1


def test_notifications_and_email_for_each_step(
    request_draft, requester, steward, reviewer, mailoutbox
):
    from notifications.models import Notification

    steward.email = "steward@health.example"
    steward.save()
    rs.request_submit(actor=requester, request=request_draft)
    assert Notification.objects.filter(recipient=steward).count() == 1
    assert Notification.objects.filter(recipient=reviewer).count() == 0
    rs.request_endorse(actor=steward, request=request_draft)
    assert Notification.objects.filter(recipient=reviewer).count() == 1
    rs.request_approve(actor=reviewer, request=request_draft)
    assert Notification.objects.filter(recipient=requester, subject__contains="approved").exists()


def test_overdue_marking_with_a_frozen_clock(request_draft, requester, reviewer, monkeypatch):
    """The periodic task runs with no date given: it reads the clock, frozen here."""
    from django.utils import timezone

    from access_requests.tasks import mark_overdue_requests

    submitted(request_draft, requester)
    request_draft.refresh_from_db()
    frozen = request_draft.due_date
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: frozen)
    assert mark_overdue_requests() == 0  # due today: not late yet
    frozen = request_draft.due_date + datetime.timedelta(days=1)
    assert mark_overdue_requests() == 1
    request_draft.refresh_from_db()
    assert request_draft.overdue_since is not None
