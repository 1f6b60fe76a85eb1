"""The home page (#15 point 1): each person's task list, what they wait on, and the count in the
navigation. One test per kind of task: the item appears for the person who must act and for
nobody else, and goes once it is done."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_requests import services as rs
from access_requests.models import Request
from departments import services as department_services
from departments.models import Membership
from departments.permissions import forget_roles
from governance.models import Demand, QualityReport
from governance.services import demands as demand_services
from governance.services import disputes as dispute_services
from governance.services import quality as quality_services
from govshare.context_processors import home_tasks
from govshare.home import awaited_by, task_count, tasks_for
from rights import services as grant_services
from rights.attestations import attestations_open_due
from rights.models import Attestation, Grant
from sharing.models import Delivery
from standards.agreements import agreement_sign
from tests.conftest import REQUEST_ITEMS, make_user, request_data, sign_agreement
from workdays.models import Holiday

MONDAY = datetime.date(2026, 12, 7)


def titles(user, **kwargs):
    return [task.title for task in tasks_for(user, **kwargs)]


def awaited(user):
    return [(task.title, task.detail) for task in awaited_by(user)]


def file_request(requester, departments, resource, **overrides):
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=request_data(**overrides),
        items=REQUEST_ITEMS,
    )
    return rs.request_submit(actor=requester, request=request)


@pytest.fixture
def police(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


@pytest.fixture
def grant(released, requester, steward, reviewer, departments):
    """CIVIL's grant on HEALTH's vaccination records, its agreement not yet signed."""
    request = file_request(requester, departments, released)
    rs.request_endorse(actor=steward, request=request)
    rs.request_approve(actor=reviewer, request=request)
    return Grant.objects.get(request=request)


# --- reviews ---------------------------------------------------------------------------------


def test_owner_review_waits_for_the_owners_steward_only(
    released, requester, steward, outsider_steward, reviewer, departments
):
    request = file_request(requester, departments, released)
    assert titles(steward) == [
        f"Give the owner's opinion on request #{request.pk} (Vaccination records) from CIVIL"
    ]
    assert titles(outsider_steward) == []
    assert titles(reviewer) == []
    assert titles(requester) == []
    # The filer waits on the owner, with the deadline.
    assert awaited(requester) == [
        (f"Request #{request.pk} (Vaccination records)", "Owner review, held by HEALTH")
    ]


def test_decision_waits_for_the_office_and_goes_once_taken(
    released, requester, steward, reviewer, departments
):
    request = file_request(requester, departments, released)
    rs.request_endorse(actor=steward, request=request)
    assert titles(reviewer) == [f"Decide on request #{request.pk} (Vaccination records) from CIVIL"]
    assert titles(steward) == []
    assert awaited(requester) == [
        (f"Request #{request.pk} (Vaccination records)", "Management review, held by OFFICE")
    ]
    rs.request_approve(actor=reviewer, request=request)
    assert f"Decide on request #{request.pk} (Vaccination records) from CIVIL" not in titles(
        reviewer
    )


def test_office_member_of_the_filing_department_is_not_asked_to_decide(
    released, requester, steward, office_member_from_civil, departments
):
    request = file_request(requester, departments, released)
    rs.request_endorse(actor=steward, request=request)
    forget_roles(office_member_from_civil)
    assert titles(office_member_from_civil) == []


def test_overdue_reviews_come_first_then_the_earliest_due(
    released, requester, steward, departments
):
    later, overdue, sooner = (file_request(requester, departments, released) for _ in range(3))
    Request.objects.filter(pk=later.pk).update(due_date=MONDAY + datetime.timedelta(days=4))
    Request.objects.filter(pk=sooner.pk).update(due_date=MONDAY + datetime.timedelta(days=1))
    Request.objects.filter(pk=overdue.pk).update(
        due_date=MONDAY - datetime.timedelta(days=3), overdue_since=timezone.now()
    )
    tasks = tasks_for(steward, today=MONDAY)
    assert [(t.url, t.overdue, t.days_left) for t in tasks] == [
        (f"/requests/{overdue.pk}/", True, -1),  # due Friday: one working day late on Monday
        (f"/requests/{sooner.pk}/", False, 1),
        (f"/requests/{later.pk}/", False, 4),
    ]


def test_working_days_left_skip_weekends_and_the_office_holidays(
    released, requester, steward, departments
):
    request = file_request(requester, departments, released)
    friday = MONDAY + datetime.timedelta(days=4)
    Request.objects.filter(pk=request.pk).update(due_date=friday)
    assert [t.days_left for t in tasks_for(steward, today=MONDAY)] == [4]
    Holiday.objects.create(date=MONDAY + datetime.timedelta(days=2), name="Mid-week holiday")
    assert [t.days_left for t in tasks_for(steward, today=MONDAY)] == [3]
    # Past the date: the weekend does not count against the person either.
    next_monday = MONDAY + datetime.timedelta(days=7)
    assert [t.days_left for t in tasks_for(steward, today=next_monday)] == [-1]


def test_returned_request_waits_for_the_filing_departments_requesters(
    released, requester, steward, owner_requester, departments
):
    request = file_request(requester, departments, released)
    rs.request_return(actor=steward, request=request, reason="Name the statute's article.")
    assert titles(requester) == [
        f"Change and resubmit request #{request.pk} (Vaccination records), returned for changes"
    ]
    assert titles(owner_requester) == []
    assert titles(steward) == []
    rs.request_submit(actor=requester, request=request)
    assert titles(requester) == []


# --- agreements, attestations, deliveries ----------------------------------------------------


def test_each_side_is_asked_to_sign_until_it_has(grant, requester, steward, reviewer, police):
    sign = f"Sign the data-sharing agreement of grant #{grant.pk} (Vaccination records)"
    assert titles(steward) == [sign]
    assert titles(requester) == [sign]
    assert titles(reviewer) == [] and titles(police) == []
    sign_agreement(grant, steward)
    assert titles(steward) == []
    assert titles(requester) == [sign]
    assert awaited(steward) == [
        (
            f"Data-sharing agreement of grant #{grant.pk} (Vaccination records)",
            "waiting for the signature of CIVIL",
        )
    ]
    sign_agreement(grant, requester)
    assert (titles(steward), titles(requester), awaited(steward)) == ([], [], [])


def test_a_person_who_signed_one_side_is_not_asked_to_sign_the_other(grant, steward, departments):
    # The steward is also a requester of CIVIL, the grantee: they may sign once, not twice.
    department_services.membership_grant(
        user=steward, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    forget_roles(steward)
    sign = f"Sign the data-sharing agreement of grant #{grant.pk} (Vaccination records)"
    assert titles(steward) == [sign]
    agreement_sign(actor=steward, agreement=grant.agreement, department=departments["HEALTH"])
    assert titles(steward) == []


def test_an_ended_grants_attestation_waits_for_the_grantees_requesters(
    grant, requester, steward, reviewer, police
):
    sign_agreement(grant, steward, requester)
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Done.")
    attestations_open_due()
    attestation = Attestation.objects.get(grant=grant)
    tasks = tasks_for(requester)
    assert [(t.title, t.url, t.due) for t in tasks] == [
        (
            f"Attest the deletion or return of the data of grant #{grant.pk} (Vaccination records)",
            f"/attestations/{attestation.pk}/",
            attestation.due_date,
        )
    ]
    assert titles(steward) == [] and titles(police) == []


def test_a_failed_delivery_is_the_grantees_and_the_office_staffs_to_retry(
    grant, requester, steward, reviewer
):
    delivery = Delivery.objects.create(grant=grant, period_key="2026-12-01")
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error="disk full")
    sign_agreement(grant, steward, requester)
    assert [(t.title, t.url, t.detail) for t in tasks_for(requester)] == [
        (
            f"Delivery 2026-12-01 of grant #{grant.pk} (Vaccination records) failed",
            f"/grants/{grant.pk}/",
            "disk full",
        )
    ]
    assert titles(steward) == []
    # The office retries in admin: only its staff are asked to.
    assert titles(reviewer) == []
    reviewer.is_staff = True
    assert [(t.title, t.url) for t in tasks_for(reviewer)] == [
        (
            f"Retry delivery 2026-12-01 of grant #{grant.pk} (Vaccination records, CIVIL), "
            "which failed",
            f"/admin/sharing/delivery/{delivery.pk}/change/",
        )
    ]
    # Once the grant has ended, its refused deliveries are nobody's task.
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Done.")
    assert (titles(requester), titles(reviewer)) == ([], [])


# --- disputes, quality reports, demands ------------------------------------------------------


def test_a_dispute_waits_for_the_side_that_did_not_speak_last(
    grant, requester, steward, reviewer, police
):
    sign_agreement(grant, steward, requester)
    dispute = dispute_services.dispute_raise(
        actor=requester, kind="grant", grant=grant, disputed="Stale data.", asked="Correct it."
    )
    answer = f"Answer dispute #{dispute.pk} (CIVIL against HEALTH, on Vaccination records)"
    assert (titles(steward), titles(requester), titles(police)) == ([answer], [], [])
    dispute_services.dispute_statement(actor=steward, dispute=dispute, text="It is current.")
    assert (titles(steward), titles(requester)) == ([], [answer])
    assert titles(reviewer) == []  # the office decides only once it is escalated


def test_an_escalated_dispute_waits_for_an_office_reviewer_outside_the_parties(
    grant, requester, steward, reviewer, departments
):
    sign_agreement(grant, steward, requester)
    dispute = dispute_services.dispute_raise(
        actor=requester, kind="grant", grant=grant, disputed="Stale data.", asked="Correct it."
    )
    dispute_services.dispute_escalate(actor=requester, dispute=dispute, reason="No answer.")
    decide = f"Decide dispute #{dispute.pk} (CIVIL against HEALTH, on Vaccination records)"
    assert titles(reviewer) == [decide]
    assert titles(steward) == [] and titles(requester) == []
    assert awaited(requester) == [
        (
            f"Dispute #{dispute.pk} (CIVIL against HEALTH, on Vaccination records)",
            "escalated, with the data management office",
        )
    ]
    # An office reviewer who is also a member of a party may not decide it.
    department_services.membership_grant(
        user=reviewer, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    forget_roles(reviewer)
    assert decide not in titles(reviewer)


def test_a_quality_report_waits_for_the_owners_steward(
    grant, released, requester, steward, police, departments
):
    sign_agreement(grant, steward, requester)
    report = quality_services.quality_report_file(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        kind="wrong_value",
        item="dose_number",
        lines=[2],
        description="Dose 3 recorded as 1.",
    )
    assert titles(steward) == [
        f"Answer quality report #{report.pk} on Vaccination records from CIVIL"
    ]
    assert titles(requester) == [] and titles(police) == []
    assert awaited(requester) == [
        (
            f"Quality report #{report.pk} on Vaccination records",
            "Open, waiting for the answer of HEALTH",
        )
    ]
    quality_services.quality_report_answer(actor=steward, report=report, reason="Fixed upstream.")
    assert titles(steward) == []
    assert QualityReport.objects.get(pk=report.pk).state == QualityReport.State.ANSWERED


def test_a_demand_waits_for_routing_then_for_the_department_it_was_routed_to(
    requester, steward, reviewer, outsider_steward, departments
):
    demand = demand_services.demand_file(
        actor=requester,
        department=departments["CIVIL"],
        data={
            "title": "Marriage registrations",
            "description": "Marriages registered since 2020.",
            "purpose": "Housing benefit.",
            "legal_basis": "Housing Benefit Regulation, art. 7.",
        },
        items=["resident_id"],
    )
    route = f"Route demand #{demand.pk} from CIVIL to a likely owner: Marriage registrations"
    assert (titles(reviewer), titles(steward)) == ([route], [])
    demand_services.demand_route(
        actor=reviewer, demand=demand, department=departments["HEALTH"], reason="They hold it."
    )
    assert titles(reviewer) == []
    assert titles(steward) == [f"Answer demand #{demand.pk} from CIVIL: Marriage registrations"]
    assert titles(outsider_steward) == []
    assert Demand.objects.get(pk=demand.pk).state == Demand.State.ROUTED


# --- the count in the navigation -------------------------------------------------------------


@pytest.fixture
def demo(db):
    call_command("seed_demo", rows=30, stdout=open("/dev/null", "w"))  # noqa: SIM115


def persona(username):
    return get_user_model().objects.get(username=username)


# What seed_demo leaves waiting for each persona (govshare/management/commands/seed_demo.py).
DEMO_TASKS = {
    "office": ["Review", "Dispute"],
    "auditor": [],
    "health_steward": ["Review", "Quality report", "Demand"],
    "civil_clerk": ["End of use"],
    "police_clerk": ["Returned", "Signature"],
    "admin": [],
}


@pytest.mark.parametrize("username", list(DEMO_TASKS))
def test_the_count_is_the_number_of_tasks_in_a_bounded_number_of_queries(
    demo, username, django_assert_num_queries
):
    user = persona(username)
    assert [t.kind for t in tasks_for(user)] == DEMO_TASKS[username]
    forget_roles(user)
    # One for the roles, one UNION ALL of every kind's keys, counted, whatever the data; a user
    # with no role in any department (the superuser) holds no kind, so no count runs.
    with django_assert_num_queries(1 if username == "admin" else 2):
        assert task_count(user) == len(DEMO_TASKS[username])


def test_the_count_costs_the_same_queries_however_many_tasks_wait(
    released, requester, steward, departments
):
    def queries():
        forget_roles(steward)
        with CaptureQueriesContext(connection) as captured:
            count = task_count(steward)
        return count, len(captured.captured_queries)

    file_request(requester, departments, released)
    one = queries()
    for _ in range(3):
        file_request(requester, departments, released)
    assert (one[0], queries()) == (1, (4, one[1]))


def test_the_count_is_not_computed_until_a_template_asks(steward, django_assert_num_queries):
    """The context processor hands over a callable: a page without the navigation (an API
    answer, a file) runs none of the counts."""
    request = RequestFactory().get("/")
    request.user = steward
    with django_assert_num_queries(0):
        context = home_tasks(request)
    assert context["nav_task_count"]() == 0


def test_anonymous_visitor_gets_no_count(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert home_tasks(request) == {}
