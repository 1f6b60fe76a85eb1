"""The resource lifecycle (draft → published → retired) moves through its transition table.

A step the table does not allow is 409 in the API, a message on the web, and changes nothing:
not the status, not the history, not the ledger.
"""

import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Resource
from core.exceptions import IllegalTransition
from ledger.models import LedgerEntry, LedgerState
from ledger.services import text_sha256


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def state(resource):
    """What a refused step must leave alone: status, timestamps, history and the ledger."""
    resource = Resource.objects.get(pk=resource.pk)
    ledger = LedgerState.objects.filter(pk=1).values_list("size", flat=True).first() or 0
    return (
        resource.status,
        resource.published_at,
        resource.retired_at,
        resource.history.count(),
        LedgerEntry.objects.count(),
        ledger,
    )


def last_entry():
    return json.loads(bytes(LedgerEntry.objects.order_by("-index").first().entry))


@pytest.fixture
def retired(published, steward):
    return services.resource_retire(actor=steward, resource=published, reason="Superseded.")


# --- the table ------------------------------------------------------------------------------


def test_the_table_allows_publish_from_draft_and_retire_from_published(draft, published, steward):
    assert services.RESOURCES.allowed_actions(Resource(status="draft")) == {"publish"}
    assert services.RESOURCES.allowed_actions(Resource(status="published")) == {"retire"}
    assert services.RESOURCES.allowed_actions(Resource(status="retired")) == set()


# --- refused steps through the API: 409 and nothing changed ---------------------------------


@pytest.mark.parametrize("fixture", ["published", "retired"])
def test_api_publish_of_a_published_or_retired_resource_is_409_and_changes_nothing(
    request, steward, fixture
):
    resource = request.getfixturevalue(fixture)
    label = Resource.Status(resource.status).label
    before = state(resource)
    response = api(steward).post(f"/api/v1/resources/{resource.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"Only a draft can be published; this resource is {label}."
    )
    assert state(resource) == before


@pytest.mark.parametrize("fixture", ["draft", "retired"])
def test_api_retire_of_a_draft_or_retired_resource_is_409_and_changes_nothing(
    request, steward, fixture
):
    resource = request.getfixturevalue(fixture)
    label = Resource.Status(resource.status).label
    before = state(resource)
    response = api(steward).post(
        f"/api/v1/resources/{resource.pk}/retire/", {"reason": "Old."}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"Only a published resource can be retired; this one is {label}."
    )
    assert state(resource) == before


def test_retiring_a_draft_names_its_status_as_shown(steward, draft):
    with pytest.raises(IllegalTransition) as caught:
        services.resource_retire(actor=steward, resource=draft, reason="x")
    assert str(caught.value) == "Only a published resource can be retired; this one is Draft."


def test_publishing_a_retired_resource_names_its_status_as_shown(steward, retired):
    with pytest.raises(IllegalTransition) as caught:
        services.resource_publish(actor=steward, resource=retired)
    assert str(caught.value) == "Only a draft can be published; this resource is Retired."


# --- the order of checks ---------------------------------------------------------------------


def test_outsider_publishing_a_published_resource_is_refused_for_permission_first(
    outsider_steward, published
):
    from django.core.exceptions import PermissionDenied

    before = state(published)
    with pytest.raises(PermissionDenied):
        services.resource_publish(actor=outsider_steward, resource=published)
    assert state(published) == before


def test_publishing_a_retired_resource_without_items_is_409_not_a_missing_items_error(
    steward, retired
):
    retired.data_items.all().delete()
    before = state(retired)
    with pytest.raises(IllegalTransition):
        services.resource_publish(actor=steward, resource=retired)
    assert state(retired) == before


def test_retire_without_a_reason_is_refused_before_the_state_is_checked(steward, draft):
    from django.core.exceptions import ValidationError

    before = state(draft)
    with pytest.raises(ValidationError) as caught:
        services.resource_retire(actor=steward, resource=draft, reason=" ")
    assert caught.value.message_dict == {"reason": ["Give the reason for retiring the resource."]}
    assert state(draft) == before


# --- allowed steps: history and ledger as before ---------------------------------------------


def test_publish_records_history_and_one_ledger_entry(steward, draft, departments):
    before = LedgerEntry.objects.count()
    resource = services.resource_publish(actor=steward, resource=draft)
    assert resource.status == Resource.Status.PUBLISHED
    assert resource.published_at is not None
    latest = resource.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("published", steward)
    assert LedgerEntry.objects.count() == before + 1
    entry = last_entry()
    assert entry["type"] == "resource.published"
    assert entry["actor"] == steward.pk
    assert entry["departments"] == ["HEALTH", "OFFICE"]
    assert entry["subject"] == {"resource": resource.pk}
    assert "hashes" not in entry
    assert entry["detail"] == {"identifier": "HEALTH-VACC-001", "version": 1}


def test_retire_records_the_reason_in_history_and_its_hash_in_the_ledger(steward, published):
    resource = services.resource_retire(actor=steward, resource=published, reason=" Superseded. ")
    assert resource.status == Resource.Status.RETIRED
    assert resource.retired_at is not None
    latest = resource.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("retired: Superseded.", steward)
    entry = last_entry()
    assert entry["type"] == "resource.retired"
    assert entry["departments"] == ["HEALTH", "OFFICE"]
    assert entry["subject"] == {"resource": resource.pk}
    assert entry["hashes"] == {"reason_sha256": text_sha256("Superseded.")}
    assert entry["detail"] == {"identifier": "HEALTH-VACC-001", "version": 1}


# --- the web --------------------------------------------------------------------------------


def test_web_retire_of_a_draft_shows_the_refusal_and_changes_nothing(client, steward, draft):
    client.force_login(steward)
    before = state(draft)
    response = client.post(reverse("catalog:resource_retire", args=[draft.pk]), {"reason": "x"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Only a published resource can be retired; this one is Draft."
    ]
    assert state(draft) == before


@pytest.mark.parametrize(
    ("fixture", "actions"),
    [("draft", {"publish"}), ("published", {"retire"}), ("retired", set())],
)
def test_detail_page_offers_the_steps_the_table_allows(request, client, steward, fixture, actions):
    resource = request.getfixturevalue(fixture)
    client.force_login(steward)
    response = client.get(reverse("catalog:resource_detail", args=[resource.pk]))
    assert response.context["actions"] == actions
    publish = reverse("catalog:resource_publish", args=[resource.pk]).encode()
    retire = reverse("catalog:resource_retire", args=[resource.pk]).encode()
    assert (publish in response.content, retire in response.content) == (
        "publish" in actions,
        "retire" in actions,
    )
