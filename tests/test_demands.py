"""The demand list: file, route, answer or decline, withdraw, join; every refused actor (nothing
changes), search and similar demands, the pages, the admin queue and deadlines."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog import services as catalog_services
from departments import services as department_services
from departments.models import Membership
from governance import tasks
from governance.models import Demand, DemandSupporter
from governance.services import demands as demand_services
from ledger.models import LedgerEntry
from notifications.models import Notification
from tests.conftest import ITEMS, make_user, resource_data
from workdays.deadlines import add_working_days

# Remove once catalog.governance_urls and the API routes are wired into the project's URLs.

DEMANDS = "/api/v1/demands/"
D = Demand.State


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
def personas(requester, steward, reviewer, police_requester, outsider_steward, civil_reviewer):
    return {
        "requester": requester,  # CIVIL files the demand
        "steward": steward,  # HEALTH, where the office routes it
        "reviewer": reviewer,  # OFFICE routes
        "police_requester": police_requester,  # may join
        "outsider_steward": outsider_steward,  # POLICE steward: not the likely owner
        "civil_reviewer": civil_reviewer,  # a reviewer, but not of the office
    }


def demand_payload(**overrides):
    data = {
        "title": "Marriage registrations",
        "description": "Marriages registered in the city since 2020, by date.",
        "purpose": "Check marital status for housing benefit.",
        "legal_basis": "Housing Benefit Regulation, art. 7.",
        "items": ["resident_id", "marriage date", "spouse resident_id"],
    }
    data.update(overrides)
    return data


def file_demand(requester, departments, **overrides):
    data = demand_payload(**overrides)
    items = data.pop("items")
    return demand_services.demand_file(
        actor=requester, department=departments["CIVIL"], data=data, items=items
    )


@pytest.fixture
def demand(requester, departments):
    return file_demand(requester, departments)


@pytest.fixture
def routed(demand, reviewer, departments):
    return demand_services.demand_route(
        actor=reviewer, demand=demand, department=departments["HEALTH"]
    )


@pytest.fixture
def health_resource(published):
    return published


def snapshot(demand):
    demand = Demand.objects.get(pk=demand.pk)
    return (
        demand.state,
        demand.routed_to_id,
        demand.resource_id,
        demand.answer,
        demand.due_date,
        demand.steps.count(),
        demand.history.count(),
        DemandSupporter.objects.count(),
        LedgerEntry.objects.count(),
        Demand.objects.count(),
    )


def told(user, words):
    return Notification.objects.filter(recipient=user, subject__contains=words).count()


# --- the flow -------------------------------------------------------------------------------


def test_file_route_and_answer_with_a_resource(
    requester, reviewer, steward, police_requester, health_resource
):
    ledger = LedgerEntry.objects.count()
    filed = post(requester, DEMANDS, demand_payload(items=["marriage date", " marriage date "]))
    assert filed.status_code == 201, filed.json()
    body = filed.json()
    assert (body["state"], body["requesting_department"], body["routed_to"]) == (
        "submitted",
        "CIVIL",
        None,
    )
    assert body["items"] == ["marriage date"]
    assert [s["action"] for s in body["steps"]] == ["file"]
    assert LedgerEntry.objects.count() == ledger + 1
    entry = LedgerEntry.objects.get(index=ledger)
    assert entry.entry_type == "demand.file"
    assert b"housing benefit" not in bytes(entry.entry).lower()
    assert told(reviewer, "waits for routing") == 1
    did = body["id"]

    joined = post(police_requester, f"{DEMANDS}{did}/join/", {"purpose": "Fraud checks."})
    assert joined.status_code == 200, joined.json()
    assert joined.json()["supporters"][0]["department"] == "POLICE"
    assert told(requester, "POLICE joined") == 1

    routed = post(reviewer, f"{DEMANDS}{did}/route/", {"department": "HEALTH"})
    assert routed.status_code == 200, routed.json()
    body = routed.json()
    assert (body["state"], body["routed_to"]) == ("routed", "HEALTH")
    assert body["due_date"] == add_working_days(timezone.localdate(), 10).isoformat()
    assert told(steward, "routed to your department") == 1
    assert told(requester, "routed to HEALTH") == 1

    answered = post(
        steward,
        f"{DEMANDS}{did}/answer/",
        {"resource": health_resource.pk, "reason": "Our register covers it."},
    )
    assert answered.status_code == 200, answered.json()
    body = answered.json()
    assert (body["state"], body["resource"], body["resource_identifier"], body["due_date"]) == (
        "answered",
        health_resource.pk,
        health_resource.identifier,
        None,
    )
    assert [s["action"] for s in body["steps"]] == ["file", "join", "route", "answer"]
    assert LedgerEntry.objects.count() == ledger + 4  # one entry per step
    assert all(s["ledger_index"] is not None for s in body["steps"])
    # The filer and the department that joined are both told.
    assert told(requester, "is answered") == 1
    assert told(police_requester, "is answered") == 1
    answer_entry = LedgerEntry.objects.get(index=body["steps"][-1]["ledger_index"])
    assert answer_entry.departments.split() == ["CIVIL", "HEALTH", "POLICE"]


def test_decline_needs_reasons_and_tells_the_requester(routed, requester, steward):
    before = snapshot(routed)
    assert post(steward, f"{DEMANDS}{routed.pk}/decline/", {"reason": " "}).status_code == 400
    assert snapshot(routed) == before
    response = post(
        steward, f"{DEMANDS}{routed.pk}/decline/", {"reason": "We do not hold marriage data."}
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["answer"]) == (
        "declined",
        "We do not hold marriage data.",
    )
    assert told(requester, "was declined") == 1


def test_the_office_may_route_again_to_another_department(
    routed, reviewer, outsider_steward, steward
):
    again = post(reviewer, f"{DEMANDS}{routed.pk}/route/", {"department": "POLICE"})
    assert again.status_code == 200
    assert again.json()["routed_to"] == "POLICE"
    # The previous department no longer answers it; the new one does.
    assert post(steward, f"{DEMANDS}{routed.pk}/decline/", {"reason": "x"}).status_code == 403
    response = post(outsider_steward, f"{DEMANDS}{routed.pk}/decline/", {"reason": "Not ours."})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("department", "message"),
    [("CIVIL", "department that filed it"), ("HEALTH", "already routed to HEALTH")],
)
def test_routing_to_the_filer_or_the_same_department_is_refused(
    routed, reviewer, department, message
):
    before = snapshot(routed)
    response = post(reviewer, f"{DEMANDS}{routed.pk}/route/", {"department": department})
    assert response.status_code == 400
    assert message in response.json()["errors"]["department"][0]
    assert snapshot(routed) == before


def test_answer_must_be_a_published_resource_of_the_routed_department(
    routed, steward, outsider_steward, departments
):
    draft = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier="HEALTH-MARRIAGE"),
        methods=["realtime"],
        items=ITEMS,
    )
    police = catalog_services.resource_create(
        actor=outsider_steward,
        owner_department=departments["POLICE"],
        data=resource_data(identifier="POLICE-REG"),
        methods=["realtime"],
        items=ITEMS,
    )
    catalog_services.resource_publish(actor=outsider_steward, resource=police)
    for resource, message in ((draft, "Publish"), (police, "your department HEALTH owns")):
        before = snapshot(routed)
        response = post(steward, f"{DEMANDS}{routed.pk}/answer/", {"resource": resource.pk})
        assert response.status_code == 400, response.json()
        assert message in response.json()["errors"]["resource"][0]
        assert snapshot(routed) == before


def test_withdraw_then_nothing_more(routed, requester, steward, reviewer, departments):
    response = post(requester, f"{DEMANDS}{routed.pk}/withdraw/")
    assert response.json()["state"] == "withdrawn"
    assert told(steward, "was withdrawn") == 1
    for user, action, body in (
        (steward, "decline", {"reason": "x"}),
        (reviewer, "route", {"department": "POLICE"}),
        (requester, "withdraw", {}),
    ):
        before = snapshot(routed)
        assert post(user, f"{DEMANDS}{routed.pk}/{action}/", body).status_code == 409, action
        assert snapshot(routed) == before


# action, state it is taken in, who may, and a valid body
CASES = [
    ("route", "submitted", "reviewer", {"department": "HEALTH"}),
    ("answer", "routed", "steward", "resource"),
    ("decline", "routed", "steward", {"reason": "Not ours."}),
    ("withdraw", "routed", "requester", {}),
]


@pytest.mark.parametrize(("action", "state", "allowed", "body"), CASES)
def test_every_step_refuses_everyone_but_its_actor_and_changes_nothing(
    demand, personas, departments, health_resource, action, state, allowed, body
):
    if state == "routed":
        demand_services.demand_route(
            actor=personas["reviewer"], demand=demand, department=departments["HEALTH"]
        )
    if body == "resource":
        body = {"resource": health_resource.pk}
    path = f"{DEMANDS}{demand.pk}/{action}/"
    for name, user in personas.items():
        if name == allowed:
            continue
        before = snapshot(demand)
        response = post(user, path, body)
        assert response.status_code == 403, (name, response.json())
        assert snapshot(demand) == before, name
    assert post(None, path, body).status_code == 401
    assert post(personas[allowed], path, body).status_code == 200


def test_an_office_reviewer_never_routes_their_own_departments_demand(
    demand, reviewer, departments
):
    department_services.membership_grant(
        user=reviewer, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    reviewer = get_user_model().objects.get(pk=reviewer.pk)  # no cached roles
    before = snapshot(demand)
    assert (
        post(reviewer, f"{DEMANDS}{demand.pk}/route/", {"department": "HEALTH"}).status_code == 403
    )
    assert snapshot(demand) == before


# --- joining instead of filing twice --------------------------------------------------------


def test_join_refuses_the_filer_twice_the_routed_owner_and_a_closed_demand(
    routed, requester, police_requester, steward, departments
):
    owner_requester = make_user("health_clerk", departments["HEALTH"], Membership.Role.REQUESTER)
    demand_services.demand_join(
        actor=police_requester, demand=routed, department=departments["POLICE"]
    )
    for user, message in (
        (requester, "Your department filed this demand"),
        (police_requester, "POLICE has already joined"),
        (owner_requester, "routed to your department"),
    ):
        before = snapshot(routed)
        response = post(user, f"{DEMANDS}{routed.pk}/join/")
        assert response.status_code == 400, response.json()
        assert message in response.json()["errors"]["department"][0]
        assert snapshot(routed) == before
    # Only requesters act for their department.
    assert post(steward, f"{DEMANDS}{routed.pk}/join/", {"department": "HEALTH"}).status_code == 403
    demand_services.demand_decline(actor=steward, demand=routed, reason="Not ours.")
    late = make_user("late_clerk", departments["OFFICE"], Membership.Role.REQUESTER)
    before = snapshot(routed)
    assert post(late, f"{DEMANDS}{routed.pk}/join/").status_code == 409
    assert snapshot(routed) == before


def test_search_finds_demands_by_every_word(requester, departments, police_requester):
    file_demand(requester, departments)
    file_demand(
        requester,
        departments,
        title="Vehicle registrations",
        description="Cars by owner.",
        items=["plate number"],
    )
    client = api(police_requester)
    assert client.get(DEMANDS, {"search": "marriage"}).json()["count"] == 1
    assert client.get(DEMANDS, {"search": "REGISTRATIONS"}).json()["count"] == 2
    assert client.get(DEMANDS, {"search": "plate registrations"}).json()["count"] == 1
    assert client.get(DEMANDS, {"search": "plate marriage"}).json()["count"] == 0
    assert client.get(DEMANDS, {"state": "submitted"}).json()["count"] == 2
    assert client.get(DEMANDS, {"department": "CIVIL"}).json()["count"] == 2
    assert client.get(DEMANDS, {"department": "POLICE"}).json()["count"] == 0


def test_demands_are_listed_for_every_department_but_withdrawn_ones_only_for_the_filer(
    demand, requester, police_requester, reviewer
):
    assert api(police_requester).get(f"{DEMANDS}{demand.pk}/").status_code == 200
    demand_services.demand_withdraw(actor=requester, demand=demand)
    assert api(police_requester).get(f"{DEMANDS}{demand.pk}/").status_code == 404
    assert api(police_requester).get(DEMANDS).json()["count"] == 0
    assert api(police_requester).post(f"{DEMANDS}{demand.pk}/join/").status_code == 404
    for user in (requester, reviewer):
        assert api(user).get(f"{DEMANDS}{demand.pk}/").status_code == 200
    assert api().get(DEMANDS).status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": " "}, "title", "short title"),
        ({"purpose": ""}, "purpose", "purpose"),
        ({"legal_basis": ""}, "legal_basis", "legal basis"),
        ({"items": []}, "items", "at least one data item"),
        ({"items": [""]}, "items", "Name each data item"),
    ],
)
def test_invalid_demands_are_400_and_file_nothing(requester, body, field, message):
    ledger = LedgerEntry.objects.count()
    response = post(requester, DEMANDS, demand_payload(**body))
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["errors"][field])
    assert not Demand.objects.exists()
    assert LedgerEntry.objects.count() == ledger


def test_only_requesters_file_demands(steward, reviewer):
    for user in (steward, reviewer):
        assert post(user, DEMANDS, demand_payload()).status_code == 403
    assert not Demand.objects.exists()


def test_list_runs_a_fixed_number_of_queries(requester, police_requester, departments):
    def count(expected):
        client = APIClient()
        client.force_login(requester)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(DEMANDS)
        assert response.json()["count"] == expected
        return len(captured)

    for _number in range(2):
        file_demand(requester, departments)
    few = count(2)
    for _number in range(10):
        demand = file_demand(requester, departments)
        demand_services.demand_join(
            actor=police_requester, demand=demand, department=departments["POLICE"]
        )
    many = count(12)
    # session, user, roles (with the user's office departments), count, page, supporters
    assert few == many == 6


# --- deadlines ------------------------------------------------------------------------------


def test_overdue_demands_are_flagged_once(routed, steward, reviewer):
    late = routed.due_date + datetime.timedelta(days=1)
    assert demand_services.demands_mark_overdue(today=routed.due_date) == 0
    assert demand_services.demands_mark_overdue(today=late) == 1
    assert demand_services.demands_mark_overdue(today=late) == 0
    for user in (steward, reviewer):
        assert told(user, "is overdue") == 1
    assert tasks.mark_overdue_demands() == 0


# --- pages ----------------------------------------------------------------------------------


def text(response):
    return response.content.decode()


def test_file_on_the_web_after_seeing_similar_demands(client, demand, police_requester):
    client.force_login(police_requester)
    page = client.get(reverse("governance:demand_create"), {"q": "marriage"})
    assert page.status_code == 200
    assert f"#{demand.pk} Marriage registrations" in text(page)
    bad = client.post(reverse("governance:demand_create"), {"title": "Marriages"})
    assert bad.status_code == 400
    assert f"#{demand.pk} Marriage registrations" in text(bad)  # similar to what was typed
    done = client.post(
        reverse("governance:demand_create"),
        {
            "title": "Divorce records",
            "description": "Divorces since 2020.",
            "items": "resident_id\n\ndivorce date\n",
            "purpose": "Fraud checks.",
            "legal_basis": "Police Law, art. 3.",
        },
    )
    created = Demand.objects.get(title="Divorce records")
    assert done.url == reverse("governance:demand_detail", args=[created.pk])
    assert created.items == ["resident_id", "divorce date"]


def test_route_join_and_answer_on_the_pages(
    client, demand, reviewer, police_requester, steward, health_resource, departments
):
    url = reverse("governance:demand_detail", args=[demand.pk])
    client.force_login(police_requester)
    page = text(client.get(url))
    assert "Join this demand" in page and "Route" not in page
    client.post(
        reverse("governance:demand_action", args=[demand.pk, "join"]), {"purpose": "Us too."}
    )
    assert demand.supporters.get().department.code == "POLICE"
    assert "Join this demand" not in text(client.get(url))

    client.force_login(reviewer)
    page = text(client.get(url))
    assert "Route to a likely owner" in page
    client.post(
        reverse("governance:demand_action", args=[demand.pk, "route"]),
        {"department": departments["HEALTH"].pk},
    )
    demand.refresh_from_db()
    assert demand.routed_to == departments["HEALTH"]

    client.force_login(steward)
    page = text(client.get(url))
    assert "Answer with a resource" in page and health_resource.title in page
    client.post(
        reverse("governance:demand_action", args=[demand.pk, "answer"]),
        {"resource": health_resource.pk, "reason": "Covered."},
    )
    demand.refresh_from_db()
    assert demand.state == D.ANSWERED
    assert health_resource.title in text(client.get(url))


def test_a_refused_step_on_the_web_is_403_or_a_message_and_changes_nothing(
    client, routed, police_requester, requester
):
    before = snapshot(routed)
    client.force_login(police_requester)
    url = reverse("governance:demand_action", args=[routed.pk, "decline"])
    assert client.post(url, {"reason": "No."}).status_code == 403
    client.force_login(requester)
    response = client.post(
        reverse("governance:demand_action", args=[routed.pk, "join"]), follow=True
    )
    assert "Your department filed this demand" in text(response)
    assert snapshot(routed) == before


def test_demand_list_page_searches_and_runs_a_fixed_number_of_queries(
    client, requester, police_requester, departments
):
    client.force_login(police_requester)

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("governance:demand_list"))
        assert response.status_code == 200
        return len(captured), text(response)

    file_demand(requester, departments)
    few, _page = count()
    for _number in range(6):
        demand = file_demand(requester, departments, title="Vehicle registrations")
        demand_services.demand_join(
            actor=police_requester, demand=demand, department=departments["POLICE"]
        )
    many, page = count()
    assert few == many
    assert "7 demands" in page
    found = text(client.get(reverse("governance:demand_list"), {"q": "vehicle"}))
    assert "6 demands" in found


def test_anonymous_is_sent_to_sign_in(client, demand):
    for url in (
        reverse("governance:demand_list"),
        reverse("governance:demand_detail", args=[demand.pk]),
        reverse("governance:demand_create"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_only_requesters_open_the_new_demand_page(client, steward):
    client.force_login(steward)
    assert client.get(reverse("governance:demand_create")).status_code == 403


def test_the_office_routes_from_the_admin_queue(client, demand, departments):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-2026-x")
    office = make_user("office_admin", departments["OFFICE"], Membership.Role.REVIEWER)
    office.is_staff = office.is_superuser = True
    office.save()
    changelist = reverse("admin:governance_demand_changelist")
    client.force_login(admin)
    assert client.get(changelist).status_code == 200
    # A superuser who is no office reviewer is refused by the service, per row.
    client.post(
        changelist,
        {
            "action": "route",
            "_selected_action": [demand.pk],
            "apply": "1",
            "department": departments["HEALTH"].pk,
            "reason": "",
        },
    )
    assert Demand.objects.get(pk=demand.pk).state == D.SUBMITTED
    client.force_login(office)
    form = client.post(changelist, {"action": "route", "_selected_action": [demand.pk]})
    assert form.status_code == 200 and "Route to (likely owner)" in text(form)
    client.post(
        changelist,
        {
            "action": "route",
            "_selected_action": [demand.pk],
            "apply": "1",
            "department": departments["HEALTH"].pk,
            "reason": "Health keeps civil-status extracts.",
        },
    )
    demand.refresh_from_db()
    assert (demand.state, demand.routed_to) == (D.ROUTED, departments["HEALTH"])
    assert demand.steps.last().reason == "Health keeps civil-status extracts."
    assert (
        client.get(reverse("admin:governance_demand_change", args=[demand.pk])).status_code == 200
    )
