"""The request workflow and grants through the REST API: the flow, every refusal, query counts."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests import services as rs
from access_requests.models import Request
from catalog import services as catalog_services
from departments import services as department_services
from departments.models import Membership
from rights import services as grant_services
from rights.models import Grant
from tests.conftest import ITEMS, REQUEST_ITEMS, make_user, request_data, resource_data

REQUESTS = "/api/v1/requests/"
GRANTS = "/api/v1/grants/"
S = Request.State


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def payload(resource, **overrides):
    today = timezone.localdate()
    data = {
        "resource": resource.pk,
        "fields": REQUEST_ITEMS,
        "purpose": "Check vaccination status for school enrolment.",
        "legal_basis": {
            "kind": "statute",
            "citation": "Education Law",
            "article": "art. 12",
            "text": "Schools verify immunisation before enrolment.",
        },
        "method": "realtime",
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=180)).isoformat(),
    }
    data.update(overrides)
    return data


def post(user, path, body=None):
    return api(user).post(path, body or {}, format="json")


def state_of(request_pk):
    request = Request.objects.get(pk=request_pk)
    return (
        request.state,
        request.appealed,
        request.steps.count(),
        request.history.count(),
        list(request.items.values_list("name", "reason", "approved")),
        Grant.objects.count(),
        Request.objects.count(),
    )


def grant_state(grant):
    grant = Grant.objects.get(pk=grant.pk)
    grantee = grant.grantee_department.group.user_set.first()
    grantee = get_user_model().objects.get(pk=grantee.pk)  # no cached permissions
    return (
        grant.status,
        grant.history.count(),
        grantee.has_perm("rights.use_grant", grant),
        Request.objects.count(),
    )


def may_use(user, grant):
    return get_user_model().objects.get(pk=user.pk).has_perm("rights.use_grant", grant)


def publish(steward, departments, identifier, **overrides):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier=identifier, **overrides),
        methods=["realtime"] if overrides.get("sharing_type") != "not_shareable" else [],
        items=ITEMS,
    )
    return catalog_services.resource_publish(actor=steward, resource=resource)


@pytest.fixture
def decider(departments):
    """A second office reviewer with no tie to CIVIL (the ``reviewer`` may be made one)."""
    return make_user("office_decider", departments["OFFICE"], Membership.Role.REVIEWER)


@pytest.fixture
def police_requester(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


# --- the flow -------------------------------------------------------------------------------


def test_file_submit_endorse_approve_gives_the_grantee_its_grant(
    released, requester, steward, reviewer, outsider_steward
):
    filed = post(requester, REQUESTS, payload(released))
    assert filed.status_code == 201, filed.json()
    body = filed.json()
    rid = body["id"]
    assert body["state"] == "draft"
    assert body["resource"] == released.pk
    assert body["fields"] == ["resident_id", "dose_number", "birth_date"]
    assert body["items"][0] == {
        "name": "resident_id",
        "reason": "To match the pupil.",
        "approved": None,
    }
    assert body["requesting_department"] == "CIVIL"
    assert body["legal_basis"] == payload(released)["legal_basis"]
    assert (body["method"], body["frequency"], body["grant"]) == ("realtime", "", None)
    assert [step["action"] for step in body["steps"]] == ["create"]

    submitted = post(requester, f"{REQUESTS}{rid}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "owner_review"
    assert submitted.json()["due_date"]
    assert submitted.json()["overdue"] is False

    endorsed = post(steward, f"{REQUESTS}{rid}/endorse/", {"reason": "Basis holds."})
    assert endorsed.json()["state"] == "office_review"
    approved = post(reviewer, f"{REQUESTS}{rid}/approve/", {"reason": "Lawful and necessary."})
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["state"] == "approved"
    assert [(s["action"], s["actor"], s["department"]) for s in body["steps"]] == [
        ("create", "civil_clerk", "CIVIL"),
        ("submit", "civil_clerk", "CIVIL"),
        ("route_to_owner", None, None),
        ("endorse", "health_steward", "HEALTH"),
        ("approve", "office", "OFFICE"),
    ]
    assert body["steps"][-1]["reason"] == "Lawful and necessary."

    grant = Grant.objects.get(pk=body["grant"])
    shown = api(requester).get(f"{GRANTS}{grant.pk}/")
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in ("id", "request", "resource", "grantee_department")} == {
        "id": grant.pk,
        "request": rid,
        "resource": released.pk,
        "grantee_department": "CIVIL",
    }
    assert shown.json()["fields"] == ["resident_id", "dose_number", "birth_date"]
    assert (shown.json()["method"], shown.json()["status"]) == ("realtime", "active")
    assert shown.json()["legal_basis"]["citation"] == "Education Law"
    assert may_use(requester, grant)
    assert not may_use(outsider_steward, grant)
    for party in (requester, steward, reviewer):
        assert api(party).get(GRANTS).json()["count"] == 1
    assert api(outsider_steward).get(GRANTS).json()["count"] == 0
    assert api(outsider_steward).get(f"{GRANTS}{grant.pk}/").status_code == 404


def test_return_edit_and_resubmit(released, requester, steward):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    post(requester, f"{REQUESTS}{rid}/submit/")
    no_reason = post(steward, f"{REQUESTS}{rid}/return/", {"reason": " "})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    assert post(steward, f"{REQUESTS}{rid}/return/", {}).status_code == 400
    returned = post(steward, f"{REQUESTS}{rid}/return/", {"reason": "Narrow the items."})
    assert returned.json()["state"] == "returned"
    assert returned.json()["steps"][-1]["reason"] == "Narrow the items."

    edit = api(requester).patch(
        f"{REQUESTS}{rid}/",
        {"fields": REQUEST_ITEMS[:2], "legal_basis": {"article": "art. 13"}},
        format="json",
    )
    assert edit.status_code == 200, edit.json()
    assert edit.json()["fields"] == ["resident_id", "dose_number"]
    assert edit.json()["legal_basis"]["article"] == "art. 13"
    assert edit.json()["legal_basis"]["citation"] == "Education Law"  # not sent, kept
    assert edit.json()["purpose"] == payload(released)["purpose"]

    assert post(requester, f"{REQUESTS}{rid}/submit/").json()["state"] == "owner_review"
    before = state_of(rid)
    late = api(requester).patch(f"{REQUESTS}{rid}/", {"purpose": "Other."}, format="json")
    assert late.status_code == 409
    assert state_of(rid) == before


def test_patch_refuses_other_people_and_a_new_resource(released, requester, steward, departments):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    before = state_of(rid)
    other = publish(steward, departments, "HEALTH-OTHER")
    moved = api(requester).patch(f"{REQUESTS}{rid}/", {"resource": other.pk}, format="json")
    assert moved.status_code == 400
    assert "resource" in moved.json()["errors"]
    bad = api(requester).patch(f"{REQUESTS}{rid}/", {"method": "upload"}, format="json")
    assert bad.status_code == 400
    assert "does not allow this method" in " ".join(bad.json()["errors"]["method"])
    post(requester, f"{REQUESTS}{rid}/submit/")
    post(requester, f"{REQUESTS}{rid}/withdraw/")
    before = state_of(rid)
    refused = api(steward).patch(f"{REQUESTS}{rid}/", {"purpose": "X"}, format="json")
    assert refused.status_code == 403
    assert state_of(rid) == before


def test_reject_then_appeal_is_heard_by_another_reviewer(
    released, requester, steward, reviewer, decider
):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    post(requester, f"{REQUESTS}{rid}/submit/")
    post(steward, f"{REQUESTS}{rid}/endorse/")
    rejected = post(reviewer, f"{REQUESTS}{rid}/reject/", {"reason": "Purpose too broad."})
    assert rejected.json()["state"] == "rejected"
    assert post(requester, f"{REQUESTS}{rid}/appeal/", {"reason": ""}).status_code == 400
    appealed = post(requester, f"{REQUESTS}{rid}/appeal/", {"reason": "The law requires it."})
    assert appealed.status_code == 200
    assert (appealed.json()["state"], appealed.json()["appealed"]) == ("office_review", True)
    before = state_of(rid)
    assert post(reviewer, f"{REQUESTS}{rid}/approve/").status_code == 403
    assert state_of(rid) == before
    post(decider, f"{REQUESTS}{rid}/reject/", {"reason": "Upheld."})
    before = state_of(rid)
    again = post(requester, f"{REQUESTS}{rid}/appeal/", {"reason": "Again."})
    assert again.status_code == 409
    assert "already been appealed" in again.json()["detail"]
    assert state_of(rid) == before


def test_owner_rejects_in_owner_review(released, requester, steward):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    post(requester, f"{REQUESTS}{rid}/submit/")
    rejected = post(steward, f"{REQUESTS}{rid}/reject/", {"reason": "Not necessary."})
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["steps"][-1]["department"] == "HEALTH"


def test_withdraw_then_nothing_more(released, requester):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    post(requester, f"{REQUESTS}{rid}/submit/")
    withdrawn = post(requester, f"{REQUESTS}{rid}/withdraw/", {"reason": "No longer needed."})
    assert withdrawn.json()["state"] == "withdrawn"
    before = state_of(rid)
    assert post(requester, f"{REQUESTS}{rid}/withdraw/").status_code == 409
    assert post(requester, f"{REQUESTS}{rid}/submit/").status_code == 409
    assert state_of(rid) == before


def test_unconditional_request_skips_the_owner(steward, requester, departments):
    resource = publish(steward, departments, "HEALTH-OPEN", sharing_type="unconditional")
    rid = post(requester, REQUESTS, payload(resource)).json()["id"]
    submitted = post(requester, f"{REQUESTS}{rid}/submit/").json()
    assert submitted["state"] == "office_review"
    assert "route_to_owner" not in [step["action"] for step in submitted["steps"]]


def test_not_shareable_resource_is_refused_with_its_reason(steward, requester, departments):
    resource = publish(
        steward,
        departments,
        "HEALTH-PSY",
        sharing_type="not_shareable",
        sharing_conditions="",
        not_shareable_reason="Clinical notes are confidential.",
        not_shareable_law="Mental Health Law art. 4",
    )
    refused = post(requester, REQUESTS, payload(resource))
    assert refused.status_code == 400
    message = " ".join(refused.json()["errors"]["resource"])
    assert "not shareable: Clinical notes are confidential. (Mental Health Law art. 4)" in message
    assert not Request.objects.exists()


def test_plain_item_names_are_accepted_but_need_a_reason(released, requester):
    refused = post(requester, REQUESTS, payload(released, fields=["resident_id"]))
    assert refused.status_code == 400
    assert "Say why resident_id is needed" in " ".join(refused.json()["errors"]["fields"])
    shapeless = post(requester, REQUESTS, payload(released, fields=[42]))
    assert shapeless.status_code == 400
    assert "fields" in shapeless.json()["errors"]
    long_reason = [{"name": "resident_id", "reason": "x" * 501}]
    too_long = post(requester, REQUESTS, payload(released, fields=long_reason))
    assert too_long.status_code == 400
    assert "longer than 500" in str(too_long.json()["errors"]["fields"])
    unknown = post(requester, REQUESTS, payload(released, fields=[{"name": "shoe_size"}]))
    assert "has no data item shoe_size" in " ".join(unknown.json()["errors"]["fields"])
    assert not Request.objects.exists()


def test_invalid_input_is_400_and_files_nothing(released, requester, steward, departments):
    draft = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier="HEALTH-DRAFT"),
        methods=["realtime"],
        items=ITEMS,
    )
    cases = [
        (payload(released, valid_from="31/02/2026"), "valid_from"),
        (payload(released, method="carrier_pigeon"), "method"),
        (payload(released, purpose=" "), "purpose"),
        (
            payload(released, legal_basis={"kind": "statute", "citation": ""}),
            "legal_basis_citation",
        ),
        (payload(draft), "resource"),  # another department's draft
        ({"resource": released.pk}, "fields"),
    ]
    for body, field in cases:
        response = post(requester, REQUESTS, body)
        assert response.status_code == 400, body
        assert field in response.json()["errors"], response.json()
        assert response.json()["detail"]
    assert not Request.objects.exists()


def test_filing_department_defaults_to_the_only_one(released, requester, steward, departments):
    rights_of_two = make_user("two_hats", departments["CIVIL"], Membership.Role.REQUESTER)
    department_services.membership_grant(
        user=rights_of_two, department=departments["POLICE"], role=Membership.Role.REQUESTER
    )
    ambiguous = post(rights_of_two, REQUESTS, payload(released))
    assert ambiguous.status_code == 400
    assert "CIVIL, POLICE" in " ".join(ambiguous.json()["errors"]["department"])
    chosen = post(rights_of_two, REQUESTS, payload(released, department="POLICE"))
    assert chosen.status_code == 201
    assert chosen.json()["requesting_department"] == "POLICE"
    assert post(steward, REQUESTS, payload(released)).status_code == 403
    assert api().post(REQUESTS, payload(released), format="json").status_code == 401
    assert post(requester, REQUESTS, payload(released, department="POLICE")).status_code == 403
    assert Request.objects.count() == 1


def test_partial_approval_keeps_both_sets(released, requester, steward, reviewer):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    post(requester, f"{REQUESTS}{rid}/submit/")
    post(steward, f"{REQUESTS}{rid}/endorse/")
    before = state_of(rid)
    wider = post(reviewer, f"{REQUESTS}{rid}/approve/", {"fields": ["fee"]})
    assert wider.status_code == 400
    assert "not requested: fee" in " ".join(wider.json()["errors"]["fields"])
    assert post(reviewer, f"{REQUESTS}{rid}/approve/", {"fields": []}).status_code == 400
    assert post(reviewer, f"{REQUESTS}{rid}/approve/", {"max_calls_per_day": 0}).status_code == 400
    assert state_of(rid) == before
    approved = post(
        reviewer,
        f"{REQUESTS}{rid}/approve/",
        {"reason": "Birth date is not needed.", "fields": ["resident_id", "dose_number"]}
        | {"max_calls_per_day": 100, "max_records_per_day": 5000},
    ).json()
    assert approved["fields"] == ["resident_id", "dose_number", "birth_date"]
    assert [(i["name"], i["approved"]) for i in approved["items"]] == [
        ("resident_id", True),
        ("dose_number", True),
        ("birth_date", False),
    ]
    grant = api(requester).get(f"{GRANTS}{approved['grant']}/").json()
    assert grant["fields"] == ["resident_id", "dose_number"]
    assert (grant["max_calls_per_day"], grant["max_records_per_day"]) == (100, 5000)


def test_illegal_transitions_are_409_and_change_nothing(released, requester, steward, reviewer):
    rid = post(requester, REQUESTS, payload(released)).json()["id"]
    before = state_of(rid)
    early = post(reviewer, f"{REQUESTS}{rid}/approve/")
    assert early.status_code == 404  # a draft is the filing department's alone
    assert post(requester, f"{REQUESTS}{rid}/appeal/", {"reason": "x"}).status_code == 409
    assert state_of(rid) == before
    post(requester, f"{REQUESTS}{rid}/submit/")
    before = state_of(rid)
    assert post(reviewer, f"{REQUESTS}{rid}/approve/").status_code == 409  # owner review first
    assert state_of(rid) == before
    post(steward, f"{REQUESTS}{rid}/endorse/")
    assert post(reviewer, f"{REQUESTS}{rid}/approve/").status_code == 200
    before = state_of(rid)
    late = post(reviewer, f"{REQUESTS}{rid}/reject/", {"reason": "Changed my mind."})
    assert late.status_code == 409
    assert "approved" in late.json()["detail"]
    twice = post(reviewer, f"{REQUESTS}{rid}/approve/")
    assert twice.status_code == 409
    assert post(steward, f"{REQUESTS}{rid}/endorse/").status_code == 409
    assert post(requester, f"{REQUESTS}{rid}/withdraw/").status_code == 409
    assert state_of(rid) == before
    assert Grant.objects.count() == 1


# --- who may do what, per transition --------------------------------------------------------


@pytest.fixture
def personas(
    requester,
    steward,
    decider,
    police_requester,
    outsider_steward,
    civil_reviewer,
    office_member_from_civil,
):
    return {
        "requester": requester,
        "steward": steward,
        "decider": decider,
        "police_requester": police_requester,
        "outsider_steward": outsider_steward,
        "civil_reviewer": civil_reviewer,
        "office_member_from_civil": office_member_from_civil,
        "anonymous": None,
    }


def reach(request, state, p):
    if state in ("owner_review", "office_review", "rejected"):
        rs.request_submit(actor=p["requester"], request=request)
    if state in ("office_review", "rejected"):
        rs.request_endorse(actor=p["steward"], request=request)
    if state == "rejected":
        rs.request_reject(actor=p["decider"], request=request, reason="No.")


NEVER_SEE = {"police_requester": 404, "outsider_steward": 404, "anonymous": 401}
FOR_REQUESTER = {"steward": 403, "decider": 403, "civil_reviewer": 403}
FOR_OWNER = {
    "requester": 403,
    "decider": 403,
    "office_member_from_civil": 403,
    "civil_reviewer": 403,
}
FOR_HOLDER = {
    "requester": 403,
    "steward": 403,
    "office_member_from_civil": 403,
    "civil_reviewer": 403,
}
# (action, state to reach, the persona allowed, the refused personas and what they get). The
# office member from CIVIL is also a CIVIL requester, so the requester's own steps are theirs too.
CASES = [
    ("submit", "draft", "requester", {"steward": 404, "decider": 404, "civil_reviewer": 403}),
    ("withdraw", "owner_review", "requester", FOR_REQUESTER),
    ("appeal", "rejected", "requester", FOR_REQUESTER),
    ("endorse", "owner_review", "steward", FOR_OWNER),
    ("return", "owner_review", "steward", FOR_OWNER),
    ("reject", "owner_review", "steward", FOR_OWNER),
    ("return", "office_review", "decider", FOR_HOLDER),
    ("reject", "office_review", "decider", FOR_HOLDER),
    ("approve", "office_review", "decider", FOR_HOLDER),
]


@pytest.mark.parametrize(("action", "state", "allowed", "refused"), CASES)
def test_every_transition_refuses_everyone_but_its_actor(
    request_draft, personas, action, state, allowed, refused
):
    reach(request_draft, state, personas)
    path = f"{REQUESTS}{request_draft.pk}/{action}/"
    body = {"reason": "Because."}
    for name, expected in (refused | NEVER_SEE).items():
        before = state_of(request_draft.pk)
        response = post(personas[name], path, body)
        assert response.status_code == expected, (name, response.json())
        assert response.json()["detail"]
        assert state_of(request_draft.pk) == before, name
    done = post(personas[allowed], path, body)
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == TRANSITION_TARGET[(action, state)]


TRANSITION_TARGET = {
    ("submit", "draft"): "owner_review",
    ("withdraw", "owner_review"): "withdrawn",
    ("appeal", "rejected"): "office_review",
    ("endorse", "owner_review"): "office_review",
    ("return", "owner_review"): "returned",
    ("reject", "owner_review"): "rejected",
    ("return", "office_review"): "returned",
    ("reject", "office_review"): "rejected",
    ("approve", "office_review"): "approved",
}


def test_reading_a_request_needs_to_be_a_party(request_draft, personas):
    path = f"{REQUESTS}{request_draft.pk}/"
    assert api(personas["requester"]).get(path).status_code == 200
    for name in ("steward", "decider", "police_requester", "outsider_steward"):
        assert api(personas[name]).get(path).status_code == 404, name  # a draft is private
    assert api().get(path).status_code == 401
    assert api().get(REQUESTS).status_code == 401
    rs.request_submit(actor=personas["requester"], request=request_draft)
    for name in ("steward", "decider", "civil_reviewer", "office_member_from_civil"):
        assert api(personas[name]).get(path).status_code == 200, name
    for name in ("police_requester", "outsider_steward"):
        assert api(personas[name]).get(path).status_code == 404, name
        assert api(personas[name]).get(REQUESTS).json()["count"] == 0
    assert api(personas["requester"]).get(REQUESTS).json()["count"] == 1


# --- grants ---------------------------------------------------------------------------------


@pytest.fixture
def grant(request_draft, requester, steward, decider):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=decider, request=request_draft)
    return Grant.objects.get(request=request_draft)


def test_suspend_resume_revoke_move_the_permission(grant, requester, decider):
    path = f"{GRANTS}{grant.pk}"
    before = grant_state(grant)
    no_reason = post(decider, f"{path}/suspend/", {"reason": ""})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    assert grant_state(grant) == before
    suspended = post(decider, f"{path}/suspend/", {"reason": "Audit in progress."})
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert not may_use(requester, grant)
    assert post(decider, f"{path}/suspend/", {"reason": "Again."}).status_code == 409
    resumed = post(decider, f"{path}/resume/", {"reason": "Audit closed."})
    assert resumed.json()["status"] == "active"
    assert may_use(requester, grant)
    revoked = post(decider, f"{path}/revoke/", {"reason": "Misuse."})
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["ended_at"]
    assert not may_use(requester, grant)
    before = grant_state(grant)
    assert post(decider, f"{path}/resume/", {"reason": "Oops."}).status_code == 409
    assert post(decider, f"{path}/revoke/", {"reason": "Twice."}).status_code == 409
    assert grant_state(grant) == before


def test_renew_files_a_prefilled_draft(grant, requester):
    renewed = post(requester, f"{GRANTS}{grant.pk}/renew/")
    assert renewed.status_code == 201, renewed.json()
    body = renewed.json()
    assert body["state"] == "draft"
    assert body["id"] != grant.request_id
    assert body["fields"] == grant.fields
    assert body["purpose"] == grant.purpose
    assert body["valid_from"] == (grant.valid_until + datetime.timedelta(days=1)).isoformat()
    assert body["requesting_department"] == "CIVIL"


GRANT_CASES = [
    ("suspend", "active", "decider", FOR_HOLDER),
    ("resume", "suspended", "decider", FOR_HOLDER),
    ("revoke", "active", "decider", FOR_HOLDER),
    ("renew", "active", "requester", {"steward": 403, "decider": 403, "civil_reviewer": 403}),
]


@pytest.mark.parametrize(("action", "status", "allowed", "refused"), GRANT_CASES)
def test_every_grant_action_refuses_everyone_but_its_actor(
    grant, personas, action, status, allowed, refused
):
    if status == "suspended":
        grant_services.grant_suspend(actor=personas["decider"], grant=grant, reason="Audit.")
    path = f"{GRANTS}{grant.pk}/{action}/"
    for name, expected in (refused | NEVER_SEE).items():
        before = grant_state(grant)
        response = post(personas[name], path, {"reason": "Because."})
        assert response.status_code == expected, (name, response.json())
        assert grant_state(grant) == before, name
    done = post(personas[allowed], path, {"reason": "Because."})
    assert done.status_code == (201 if action == "renew" else 200), done.json()


def test_grants_are_seen_by_grantee_owner_and_office_only(grant, personas):
    path = f"{GRANTS}{grant.pk}/"
    for name in ("requester", "steward", "decider", "civil_reviewer", "office_member_from_civil"):
        assert api(personas[name]).get(path).status_code == 200, name
        assert api(personas[name]).get(GRANTS).json()["count"] == 1, name
    for name in ("police_requester", "outsider_steward"):
        assert api(personas[name]).get(path).status_code == 404, name
        assert api(personas[name]).get(GRANTS).json()["count"] == 0, name
    assert api().get(path).status_code == 401
    assert api().get(GRANTS).status_code == 401


def test_browsable_api_renders_the_request_and_grant_pages(grant, requester):
    client = APIClient()
    client.force_login(requester)
    for path in (REQUESTS, f"{REQUESTS}{grant.request_id}/", GRANTS, f"{GRANTS}{grant.pk}/"):
        page = client.get(path, HTTP_ACCEPT="text/html")
        assert page.status_code == 200, path
        assert page["Content-Type"].startswith("text/html")


def test_a_form_body_is_refused_with_415(released, requester):
    client = api(requester)
    response = client.post(REQUESTS, {"resource": released.pk, "purpose": "x"})
    assert response.status_code == 415
    assert not Request.objects.exists()


# --- query counts ---------------------------------------------------------------------------


def file_requests(count, resource, requester, steward, reviewer, departments):
    """``count`` requests for CIVIL; every other one approved (so half carry a grant)."""
    for number in range(count):
        request = rs.request_create(
            actor=requester,
            department=departments["CIVIL"],
            resource=resource,
            data=request_data(purpose=f"Purpose {number}."),
            items=REQUEST_ITEMS,
        )
        if number % 2:
            rs.request_submit(actor=requester, request=request)
            rs.request_endorse(actor=steward, request=request)
            rs.request_approve(actor=reviewer, request=request)


def queries_for(user, path, expected_count):
    client = APIClient()
    client.force_login(user)  # session auth: a fresh user (and role cache) per call, as in life
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    assert response.json()["count"] == expected_count
    assert len(response.json()["results"]) == expected_count
    return len(captured)


# session, user, roles (with the user's office departments), count, page, and the request
# list's prefetched items
@pytest.mark.parametrize(
    ("user", "path", "queries"), [("requester", REQUESTS, 6), ("reviewer", GRANTS, 5)]
)
def test_lists_run_a_fixed_number_of_queries(
    released, requester, steward, reviewer, departments, user, path, queries
):
    viewer = {"requester": requester, "reviewer": reviewer}[user]
    per_request = 1 if path == REQUESTS else 2  # the grant list shows approved requests only
    file_requests(2 * per_request, released, requester, steward, reviewer, departments)
    few = queries_for(viewer, path, 2)
    file_requests(10 * per_request, released, requester, steward, reviewer, departments)
    many = queries_for(viewer, path, 12)
    assert few == many == queries
