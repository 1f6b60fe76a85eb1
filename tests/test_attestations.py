"""End of use: attestations opened for ended grants, attested by the grantee, flagged when late."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.exceptions import IllegalTransition
from departments.models import Membership
from ledger.models import LedgerEntry
from notifications.models import Notification
from rights import attestations, tasks
from rights import services as grant_services
from rights.models import Attestation, Grant
from tests.conftest import make_user
from tests.test_disputes import api, make_grant, queries_for
from workdays.deadlines import add_working_days

ATTESTATIONS = "/api/v1/attestations/"


@pytest.fixture
def police(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


@pytest.fixture
def grant(released, requester, steward, reviewer, departments):
    return make_grant(released, requester, steward, reviewer, departments)


@pytest.fixture
def revoked(grant, reviewer):
    return grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Purpose ended.")


@pytest.fixture
def attestation(revoked):
    attestations.attestations_open_due()
    return Attestation.objects.get(grant=revoked)


def state_of(attestation):
    attestation = Attestation.objects.get(pk=attestation.pk)
    return (
        attestation.state,
        attestation.kind,
        attestation.statement,
        attestation.history.count(),
        LedgerEntry.objects.count(),
    )


# --- opening --------------------------------------------------------------------------------


def test_an_attestation_opens_once_for_every_ended_grant(
    released, requester, steward, reviewer, departments, revoked
):
    active = make_grant(released, requester, steward, reviewer, departments, purpose="Second.")
    ending = make_grant(released, requester, steward, reviewer, departments, purpose="Third.")
    Grant.objects.filter(pk=ending.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    grant_services.grants_expire_due()
    assert tasks.open_attestations() == 2
    assert attestations.attestations_open_due() == 0  # idempotent
    opened = Attestation.objects.order_by("grant_id")
    assert [(a.grant_id, a.state) for a in opened] == [
        (revoked.pk, "pending"),
        (ending.pk, "pending"),
    ]
    assert not Attestation.objects.filter(grant=active).exists()
    due = add_working_days(timezone.localdate(), attestations.DUE_WORKING_DAYS)
    assert {a.due_date for a in opened} == {due}
    record = json.loads(bytes(LedgerEntry.objects.get(index=opened[0].ledger_index).entry))
    assert record["type"] == "attestation.open"
    assert record["subject"]["grant"] == revoked.pk
    assert Notification.objects.filter(recipient=requester, url=f"/attestations/{opened[0].pk}/")


# --- attesting ------------------------------------------------------------------------------


def test_grantee_requester_attests_deletion(attestation, requester):
    response = api(requester).post(
        f"{ATTESTATIONS}{attestation.pk}/attest/",
        {"kind": "deleted", "statement": "All copies wiped from the school server on 4 May."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["kind"], body["attested_by"]) == (
        "attested",
        "deleted",
        "civil_clerk",
    )
    attestation.refresh_from_db()
    raw = bytes(LedgerEntry.objects.get(index=attestation.ledger_index).entry).decode()
    record = json.loads(raw)
    assert record["type"] == "attestation.attest"
    assert "statement_sha256" in record["hashes"] and "wiped" not in raw


def test_a_second_attestation_is_409_and_changes_nothing(attestation, requester):
    attestations.attestation_submit(
        actor=requester, attestation=attestation, kind="returned", statement="Returned the disk."
    )
    before = state_of(attestation)
    response = api(requester).post(
        f"{ATTESTATIONS}{attestation.pk}/attest/",
        {"kind": "deleted", "statement": "Again."},
        format="json",
    )
    assert response.status_code == 409
    assert state_of(attestation) == before


def test_owner_steward_sees_but_cannot_attest_for_the_grantee(attestation, steward):
    before = state_of(attestation)
    assert api(steward).get(f"{ATTESTATIONS}{attestation.pk}/").status_code == 200
    response = api(steward).post(
        f"{ATTESTATIONS}{attestation.pk}/attest/",
        {"kind": "deleted", "statement": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert state_of(attestation) == before
    with pytest.raises(PermissionDenied):
        attestations.attestation_submit(
            actor=steward, attestation=attestation, kind="deleted", statement="x"
        )


def test_outsider_gets_404_for_an_attestation_and_nothing_changes(attestation, police, client):
    before = state_of(attestation)
    assert api(police).get(f"{ATTESTATIONS}{attestation.pk}/").status_code == 404
    assert api(police).get(ATTESTATIONS).json()["count"] == 0
    response = api(police).post(
        f"{ATTESTATIONS}{attestation.pk}/attest/",
        {"kind": "deleted", "statement": "x"},
        format="json",
    )
    assert response.status_code == 404
    client.force_login(police)
    assert client.get(f"/attestations/{attestation.pk}/").status_code == 404
    assert client.post(f"/attestations/{attestation.pk}/attest/", {}).status_code == 404
    assert state_of(attestation) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "burnt", "statement": "x"}, "kind"), ({"kind": "deleted", "statement": " "}, None)],
)
def test_an_incomplete_attestation_is_400_and_changes_nothing(attestation, requester, body, field):
    before = state_of(attestation)
    response = api(requester).post(f"{ATTESTATIONS}{attestation.pk}/attest/", body, format="json")
    assert response.status_code == 400
    assert state_of(attestation) == before
    with pytest.raises(ValidationError):
        attestations.attestation_submit(
            actor=requester, attestation=attestation, kind="deleted", statement=""
        )


# --- late -----------------------------------------------------------------------------------


def test_a_late_attestation_is_flagged_and_the_office_told_once(attestation, reviewer, requester):
    after_due = attestation.due_date + datetime.timedelta(days=1)
    assert attestations.attestations_flag_overdue(today=attestation.due_date) == 0
    assert attestations.attestations_flag_overdue(today=after_due) == 1
    assert attestations.attestations_flag_overdue(today=after_due) == 0
    assert tasks.flag_overdue_attestations() == 0
    attestation.refresh_from_db()
    assert attestation.overdue_since is not None
    told = Notification.objects.filter(key=f"attestation:{attestation.pk}:overdue")
    assert list(told.values_list("recipient__username", flat=True)) == ["office"]
    # Late is still accepted, and the ledger says it was late.
    attestations.attestation_submit(
        actor=requester, attestation=attestation, kind="deleted", statement="Deleted late."
    )
    attestation.refresh_from_db()
    record = json.loads(bytes(LedgerEntry.objects.get(index=attestation.ledger_index).entry))
    assert record["detail"] == {"kind": "deleted", "late": True}


def test_attested_in_time_is_never_flagged(attestation, requester):
    attestations.attestation_submit(
        actor=requester, attestation=attestation, kind="returned", statement="Returned."
    )
    later = attestation.due_date + datetime.timedelta(days=30)
    assert attestations.attestations_flag_overdue(today=later) == 0


# --- pages and lists ------------------------------------------------------------------------


def test_grantee_attests_from_the_page(attestation, requester, client):
    client.force_login(requester)
    page = client.get(f"/attestations/{attestation.pk}/").content.decode()
    assert "Attest the end of use" in page
    refused = client.post(f"/attestations/{attestation.pk}/attest/", {"kind": "deleted"})
    assert refused.status_code == 400
    assert "error-summary" in refused.content.decode()
    response = client.post(
        f"/attestations/{attestation.pk}/attest/",
        {"kind": "deleted", "statement": "Wiped on 4 May."},
    )
    assert response.status_code == 302
    attestation.refresh_from_db()
    assert attestation.state == Attestation.State.ATTESTED
    assert "Wiped on 4 May." in client.get(f"/attestations/{attestation.pk}/").content.decode()


def test_owner_sees_the_attestation_page_without_the_form(attestation, steward, client):
    client.force_login(steward)
    page = client.get(f"/attestations/{attestation.pk}/").content.decode()
    assert "Attest the end of use" not in page


def end_grants(count, released, requester, steward, reviewer, departments):
    for number in range(count):
        grant = make_grant(
            released, requester, steward, reviewer, departments, purpose=f"Purpose {number}."
        )
        grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Ended.")
    attestations.attestations_open_due()


@pytest.mark.parametrize("user", ["requester", "reviewer"])
def test_attestation_lists_run_a_fixed_number_of_queries(
    released, requester, steward, reviewer, departments, user
):
    viewer = {"requester": requester, "reviewer": reviewer}[user]
    end_grants(2, released, requester, steward, reviewer, departments)
    few_api = queries_for(viewer, ATTESTATIONS, 2)
    few_page = queries_for(viewer, "/attestations/", 2, json_list=False)
    end_grants(3, released, requester, steward, reviewer, departments)
    assert queries_for(viewer, ATTESTATIONS, 5) == few_api
    assert queries_for(viewer, "/attestations/", 5, json_list=False) == few_page


def test_admin_queue_shows_overdue_attestations(attestation, reviewer, client):
    attestations.attestations_flag_overdue(today=attestation.due_date + datetime.timedelta(days=1))
    reviewer.is_staff = reviewer.is_superuser = True
    reviewer.save()
    client.force_login(reviewer)
    response = client.get("/admin/rights/attestation/?overdue=yes")
    assert response.status_code == 200
    assert f"/admin/rights/attestation/{attestation.pk}/change/" in response.content.decode()
    on_time = client.get("/admin/rights/attestation/?overdue=no").content.decode()
    assert f"/admin/rights/attestation/{attestation.pk}/change/" not in on_time


def test_an_illegal_transition_is_the_domain_error(attestation, requester):
    attestations.attestation_submit(
        actor=requester, attestation=attestation, kind="deleted", statement="Done."
    )
    with pytest.raises(IllegalTransition):
        attestations.attestation_submit(
            actor=requester, attestation=attestation, kind="deleted", statement="Done."
        )
