"""Who may create, edit, publish, retire and see catalog entries (web and API)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Resource
from core.exceptions import IllegalTransition
from tests.conftest import ITEMS, resource_data


def snapshot(resource):
    resource = Resource.objects.get(pk=resource.pk)
    return (
        resource.title,
        resource.status,
        resource.version,
        resource.history.count(),
        list(resource.data_items.values_list("name", flat=True)),
        resource.releases.count(),
    )


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- services -------------------------------------------------------------------------------


def test_steward_creates_a_draft_and_the_department_gets_object_permissions(
    steward, departments, draft
):
    assert draft.status == Resource.Status.DRAFT
    assert draft.version == 1
    assert draft.owner_department == departments["HEALTH"]
    assert draft.management_right_holder == departments["OFFICE"]
    assert list(draft.data_items.values_list("name", flat=True)) == [i["name"] for i in ITEMS]
    for perm in ("change_resource", "publish_resource", "upload_release"):
        assert steward.has_perm(f"catalog.{perm}", draft)
    assert draft.history.first().history_user == steward


def test_requester_of_the_owning_department_cannot_edit(owner_requester, draft):
    before = snapshot(draft)
    with pytest.raises(PermissionDenied):
        services.resource_update(actor=owner_requester, resource=draft, data={"title": "X"})
    assert snapshot(draft) == before


def test_outsider_steward_cannot_create_for_another_department(outsider_steward, departments):
    with pytest.raises(PermissionDenied):
        services.resource_create(
            actor=outsider_steward,
            owner_department=departments["HEALTH"],
            data=resource_data(),
            methods=["realtime"],
            items=ITEMS,
        )
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    "action",
    [
        lambda actor, r: services.resource_update(actor=actor, resource=r, data={"title": "X"}),
        lambda actor, r: services.resource_publish(actor=actor, resource=r),
        lambda actor, r: services.resource_retire(actor=actor, resource=r, reason="no"),
    ],
    ids=["edit", "publish", "retire"],
)
def test_outsider_steward_cannot_change_another_departments_resource(
    outsider_steward, draft, action
):
    before = snapshot(draft)
    with pytest.raises(PermissionDenied):
        action(outsider_steward, draft)
    assert snapshot(draft) == before


def test_publish_then_edit_raises_the_version_and_records_history(steward, published):
    assert published.status == Resource.Status.PUBLISHED
    assert published.published_at is not None
    updated = services.resource_update(
        actor=steward, resource=published, data={"title": "Vaccination records (all clinics)"}
    )
    assert updated.version == 2
    assert updated.history.count() == 3  # created, published, changed
    assert updated.history.first().title == "Vaccination records (all clinics)"


def test_saving_without_changes_keeps_the_version(steward, published):
    same = services.resource_update(actor=steward, resource=published, data={})
    assert same.version == 1
    assert same.history.count() == 2


def test_changing_items_of_a_published_resource_raises_the_version(steward, published):
    items = [*ITEMS, {"name": "clinic_code", "type": "string", "sensitivity": "public"}]
    updated = services.resource_update(actor=steward, resource=published, data={}, items=items)
    assert updated.version == 2
    assert updated.data_items.last().name == "clinic_code"
    assert "clinic" in updated.search_text


def test_retire_needs_a_reason_and_is_final(steward, published):
    with pytest.raises(Exception, match="reason"):
        services.resource_retire(actor=steward, resource=published, reason="  ")
    retired = services.resource_retire(actor=steward, resource=published, reason="Superseded.")
    assert retired.status == Resource.Status.RETIRED
    before = snapshot(retired)
    with pytest.raises(IllegalTransition):
        services.resource_update(actor=steward, resource=retired, data={"title": "Again"})
    with pytest.raises(IllegalTransition):
        services.resource_publish(actor=steward, resource=retired)
    assert snapshot(retired) == before


def test_publishing_twice_is_an_illegal_transition(steward, published):
    before = snapshot(published)
    with pytest.raises(IllegalTransition):
        services.resource_publish(actor=steward, resource=published)
    assert snapshot(published) == before


@pytest.mark.parametrize(
    ("overrides", "methods", "field"),
    [
        (
            {"sharing_type": "conditional", "sharing_conditions": ""},
            ["realtime"],
            "sharing_conditions",
        ),
        ({"sharing_type": "not_shareable"}, [], "not_shareable_reason"),
        (
            {
                "sharing_type": "not_shareable",
                "not_shareable_reason": "r",
                "not_shareable_law": "l",
            },
            ["realtime"],
            "methods",
        ),
        ({"sharing_type": "unconditional"}, [], "methods"),
        ({"identifier": "bad id!"}, ["realtime"], "identifier"),
    ],
)
def test_incomplete_sharing_metadata_is_refused(steward, departments, overrides, methods, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.resource_create(
            actor=steward,
            owner_department=departments["HEALTH"],
            data=resource_data(**overrides),
            methods=methods,
            items=ITEMS,
        )
    assert field in caught.value.message_dict
    assert not Resource.objects.exists()


def test_bad_item_names_and_duplicates_are_refused(steward, departments):
    from django.core.exceptions import ValidationError

    items = [
        {"name": "Bad Name", "type": "string", "sensitivity": "public"},
        {"name": "dup", "type": "string", "sensitivity": "public"},
        {"name": "dup", "type": "integer", "sensitivity": "public"},
    ]
    with pytest.raises(ValidationError) as caught:
        services.resource_create(
            actor=steward,
            owner_department=departments["HEALTH"],
            data=resource_data(),
            methods=["realtime"],
            items=items,
        )
    messages = " ".join(caught.value.message_dict["data_items"])
    assert "Item 1 (name)" in messages
    assert "dup is used twice" in messages


# --- visibility -----------------------------------------------------------------------------


def test_drafts_are_visible_only_to_the_owners_stewards(client, steward, requester, draft):
    url = reverse("catalog:resource_detail", args=[draft.pk])
    client.force_login(requester)
    assert client.get(url).status_code == 404
    assert draft.title.encode() not in client.get(reverse("catalog:resource_list")).content
    client.force_login(steward)
    assert client.get(url).status_code == 200


def test_published_entries_are_visible_to_everyone_signed_in(client, requester, published):
    client.force_login(requester)
    response = client.get(reverse("catalog:resource_detail", args=[published.pk]))
    assert response.status_code == 200
    assert b"resident_id" in response.content
    assert b"Steward actions" not in response.content


# --- web pages ------------------------------------------------------------------------------


def test_steward_creates_a_resource_through_the_web_form(client, steward, departments):
    client.force_login(steward)
    form = {
        **resource_data(identifier="HEALTH-WEB-001", title="Clinic list"),
        "owner_department": departments["HEALTH"].pk,
        "methods": ["realtime", "upload"],
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-name": "clinic_code",
        "items-0-type": "string",
        "items-0-sensitivity": "public",
        "items-0-required": "on",
        "items-1-name": "",
        "items-1-type": "",
        "items-1-sensitivity": "",
    }
    response = client.post(reverse("catalog:resource_create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(identifier="HEALTH-WEB-001")
    assert resource.methods == ["upload", "realtime"]
    assert list(resource.data_items.values_list("name", "required")) == [("clinic_code", True)]


def test_web_form_shows_service_errors_next_to_the_field(client, steward, departments):
    client.force_login(steward)
    form = {
        **resource_data(sharing_conditions=""),
        "owner_department": departments["HEALTH"].pk,
        "methods": ["realtime"],
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("catalog:resource_create"), form)
    assert response.status_code == 400
    assert b"A conditional resource must state its conditions." in response.content
    assert not Resource.objects.exists()


@pytest.mark.parametrize("name", ["resource_edit", "release_upload"])
def test_outsider_steward_gets_403_on_steward_pages(client, outsider_steward, published, name):
    client.force_login(outsider_steward)
    assert client.get(reverse(f"catalog:{name}", args=[published.pk])).status_code == 403


@pytest.mark.parametrize("name", ["resource_publish", "resource_retire"])
def test_outsider_steward_cannot_publish_or_retire_on_the_web(
    client, outsider_steward, draft, steward, name
):
    services.resource_publish(actor=steward, resource=draft) if name.endswith("retire") else None
    before = snapshot(draft)
    client.force_login(outsider_steward)
    response = client.post(reverse(f"catalog:{name}", args=[draft.pk]), {"reason": "x"})
    assert response.status_code in (403, 404)
    assert snapshot(draft) == before


def test_requester_cannot_open_the_create_page(client, requester):
    client.force_login(requester)
    assert client.get(reverse("catalog:resource_create")).status_code == 403


def test_steward_publishes_and_retires_on_the_web(client, steward, draft):
    client.force_login(steward)
    client.post(reverse("catalog:resource_publish", args=[draft.pk]))
    assert Resource.objects.get(pk=draft.pk).status == "published"
    response = client.post(reverse("catalog:resource_retire", args=[draft.pk]), {"reason": ""})
    assert Resource.objects.get(pk=draft.pk).status == "published"
    assert response.status_code == 302
    client.post(reverse("catalog:resource_retire", args=[draft.pk]), {"reason": "Replaced."})
    assert Resource.objects.get(pk=draft.pk).status == "retired"


# --- API ------------------------------------------------------------------------------------


def api_payload(**overrides):
    return {
        **resource_data(identifier="HEALTH-API-001"),
        "owner_department": "HEALTH",
        "methods": ["realtime"],
        "data_items": [
            {"name": "clinic_code", "type": "string", "sensitivity": "public", "required": True}
        ],
        **overrides,
    }


def test_api_create_edit_publish_retire(steward):
    client = api(steward)
    created = client.post("/api/v1/resources/", api_payload(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner_department"] == "HEALTH"
    assert body["methods"] == ["realtime"]
    assert body["data_items"][0] == {
        "name": "clinic_code",
        "type": "string",
        "description": "",
        "sensitivity": "public",
        "required": True,
        "lookup_key": False,
    }
    rid = body["id"]
    patched = client.patch(f"/api/v1/resources/{rid}/", {"title": "Renamed"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["title"] == "Renamed"
    assert patched.json()["methods"] == ["realtime"]
    assert client.post(f"/api/v1/resources/{rid}/publish/").json()["status"] == "published"
    again = client.post(f"/api/v1/resources/{rid}/publish/")
    assert again.status_code == 409
    assert "draft" in again.json()["detail"]
    no_reason = client.post(f"/api/v1/resources/{rid}/retire/", {}, format="json")
    assert no_reason.status_code == 400
    retired = client.post(f"/api/v1/resources/{rid}/retire/", {"reason": "Old"}, format="json")
    assert retired.json()["status"] == "retired"
    assert client.get(f"/api/v1/resources/{rid}/").status_code == 200


def test_api_invalid_input_is_400_json_and_creates_nothing(steward):
    response = api(steward).post(
        "/api/v1/resources/", api_payload(sharing_type="sometimes"), format="json"
    )
    assert response.status_code == 400
    assert "sharing_type" in response.json()["errors"]
    response = api(steward).post(
        "/api/v1/resources/", api_payload(sharing_conditions=""), format="json"
    )
    assert response.status_code == 400
    assert "sharing_conditions" in response.json()["errors"]
    assert not Resource.objects.exists()


def test_api_duplicate_identifier_is_400(steward, draft):
    response = api(steward).post(
        "/api/v1/resources/", api_payload(identifier=draft.identifier), format="json"
    )
    assert response.status_code == 400
    assert "identifier" in response.json()["errors"]
    assert Resource.objects.count() == 1


def test_api_outsider_steward_is_refused_and_nothing_changes(outsider_steward, published, draft):
    client = api(outsider_steward)
    before = snapshot(published)
    assert (
        client.patch(
            f"/api/v1/resources/{published.pk}/", {"title": "X"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/resources/{published.pk}/retire/", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )
    assert snapshot(published) == before
    created = client.post("/api/v1/resources/", api_payload(), format="json")
    assert created.status_code == 403
    assert Resource.objects.count() == 1


def test_api_draft_of_another_department_is_404(outsider_steward, draft):
    response = api(outsider_steward).get(f"/api/v1/resources/{draft.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_api_token_authentication(steward, published):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=steward)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/resources/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/v1/resources/").status_code == 401
