"""The four sharing methods: periodic copy, upload, real-time interface, result-only feedback."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from access_requests import services as rs
from audit.models import AccessLog
from catalog import services as catalog_services
from departments.models import Membership
from ledger.models import LedgerEntry
from rights import services as grant_services
from rights.models import Grant
from sharing.deliveries import deliveries_dispatch, delivery_build
from sharing.models import Delivery
from tests.conftest import GOOD_CSV, csv_upload, make_user, request_data

ITEMS = [
    {"name": "resident_id", "reason": "To match the pupil."},
    {"name": "dose_number", "reason": "To check the schedule."},
]


@pytest.fixture
def all_methods(released, steward):
    return catalog_services.resource_update(
        actor=steward,
        resource=released,
        data={},
        methods=["periodic_copy", "upload", "realtime", "result_only"],
    )


def make_grant(resource, requester, steward, reviewer, departments, method, **limits):
    data = request_data(method=method, frequency="daily" if method == "periodic_copy" else "")
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=resource,
        data=data,
        items=ITEMS,
    )
    rs.request_submit(actor=requester, request=request)
    rs.request_endorse(actor=steward, request=request)
    rs.request_approve(actor=reviewer, request=request, **limits)
    return Grant.objects.get(request=request)


@pytest.fixture
def grant_for(all_methods, requester, steward, reviewer, departments):
    def build(method, **limits):
        return make_grant(all_methods, requester, steward, reviewer, departments, method, **limits)

    return build


@pytest.fixture
def police(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def read_zip(delivery):
    with delivery.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    return archive.read("data.csv"), json.loads(archive.read("manifest.json"))


# --- periodic copy --------------------------------------------------------------------------


def test_periodic_copy_delivers_exactly_the_approved_items(grant_for):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    assert delivery.status == Delivery.Status.SUCCEEDED
    data, manifest = read_zip(delivery)
    assert data.decode() == "resident_id,dose_number\nR001,1\nR002,2\nR003,1\n"
    assert delivery.row_count == 3
    assert delivery.sha256 == hashlib.sha256(data).hexdigest() == manifest["data_sha256"]
    assert manifest["items"] == ["resident_id", "dose_number"]
    assert manifest["purpose"] == grant.purpose
    assert manifest["legal_basis"]["citation"] == "Education Law"
    assert manifest["valid_until"] == grant.valid_until.isoformat()
    assert manifest["release"]["sha256"] == grant.resource.releases.get().sha256
    entry = json.loads(bytes(LedgerEntry.objects.get(index=delivery.ledger_index).entry))
    assert entry["type"] == "delivery.succeeded"
    assert entry["hashes"]["sha256"] == delivery.sha256


def test_a_period_is_delivered_once_however_often_it_runs(grant_for):
    grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    first = delivery_build(delivery.pk)
    again = delivery_build(delivery.pk)
    assert deliveries_dispatch() == []
    assert (again.sha256, again.file.name, again.ledger_index) == (
        first.sha256,
        first.file.name,
        first.ledger_index,
    )
    assert LedgerEntry.objects.filter(entry_type="delivery.succeeded").count() == 1


def test_missed_periods_are_caught_up_and_shown_as_such(grant_for):
    grant = grant_for("periodic_copy")
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=datetime.date.today() - datetime.timedelta(days=3)
    )
    created = deliveries_dispatch()
    assert [d.caught_up for d in created] == [True, True, True, False]
    assert len({d.period_key for d in created}) == 4


def test_suspended_grant_gets_no_delivery_and_no_download(grant_for, reviewer, requester):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert deliveries_dispatch(today=tomorrow) == []
    response = api(requester).get(f"/api/v1/deliveries/{delivery.pk}/download/")
    assert response.status_code == 403
    assert AccessLog.objects.filter(action="download", outcome="refused").count() == 1


def test_a_delivery_for_a_revoked_grant_fails_without_a_file(grant_for, reviewer):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")
    delivery = delivery_build(delivery.pk)
    assert delivery.status == Delivery.Status.FAILED
    assert "revoked" in delivery.error
    assert not delivery.file


def test_grantee_downloads_and_others_are_refused_and_logged(grant_for, requester, steward, police):
    grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    response = api(requester).get(f"/api/v1/deliveries/{delivery.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == delivery.file_sha256
    assert api(steward).get(f"/api/v1/deliveries/{delivery.pk}/download/").status_code == 403
    assert api(police).get(f"/api/v1/deliveries/{delivery.pk}/download/").status_code == 404
    outcomes = list(AccessLog.objects.order_by("id").values_list("user__username", "outcome"))
    assert outcomes == [
        ("civil_clerk", "allowed"),
        ("health_steward", "refused"),
        ("police_clerk", "refused"),
    ]
    listed = api(requester).get(f"/api/v1/grants/{delivery.grant_id}/deliveries/").json()
    assert listed["results"][0]["status"] == "succeeded"
    assert listed["results"][0]["sha256"] == delivery.sha256


def test_upload_grant_gets_each_new_release(grant_for, steward, all_methods):
    grant = grant_for("upload")
    catalog_services.release_ingest(
        actor=steward,
        resource=all_methods,
        upload=csv_upload(GOOD_CSV.replace("R001", "R100")),
    )
    delivery = Delivery.objects.get(grant=grant)
    assert delivery.period_key == "release-2"
    delivery = delivery_build(delivery.pk)
    data, _manifest = read_zip(delivery)
    assert data.decode().splitlines()[1] == "R100,1"


# --- real-time interface --------------------------------------------------------------------


def test_records_returns_matching_rows_with_the_grants_items_only(grant_for, requester):
    grant = grant_for("realtime")
    response = api(requester).get(f"/api/v1/grants/{grant.pk}/records/", {"resident_id": "R002"})
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"resident_id": "R002", "dose_number": 2}],
    }
    log = AccessLog.objects.get()
    assert (log.action, log.outcome, log.records, log.detail["filters"]) == (
        "records",
        "allowed",
        1,
        {"resident_id": "R002"},
    )


def test_records_refuses_items_outside_the_grant_and_bad_values(grant_for, requester):
    grant = grant_for("realtime")
    outside = api(requester).get(
        f"/api/v1/grants/{grant.pk}/records/", {"birth_date": "1980-02-29"}
    )
    assert outside.status_code == 400
    assert "birth_date" in json.dumps(outside.json())
    bad = api(requester).get(f"/api/v1/grants/{grant.pk}/records/", {"dose_number": "two"})
    assert bad.status_code == 400
    assert api(requester).get(f"/api/v1/grants/{grant.pk}/records/").status_code == 400


def test_records_limits_answer_429_with_retry_after(grant_for, requester):
    grant = grant_for("realtime", max_calls_per_day=2)
    client = api(requester)
    url = f"/api/v1/grants/{grant.pk}/records/"
    assert client.get(url, {"dose_number": "1"}).status_code == 200
    assert client.get(url, {"dose_number": "1"}).status_code == 200
    third = client.get(url, {"dose_number": "1"})
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert "2 calls a day" in third.json()["detail"]


def test_records_per_day_cap_the_page_and_then_refuse(grant_for, requester):
    grant = grant_for("realtime", max_records_per_day=3)
    client = api(requester)
    url = f"/api/v1/grants/{grant.pk}/records/"
    first = client.get(url, {"dose_number": "1"}).json()
    assert len(first["results"]) == 2
    second = client.get(url, {"dose_number": "2"}).json()
    assert len(second["results"]) == 1
    assert client.get(url, {"dose_number": "1"}).status_code == 429


def test_records_refused_for_owner_outsider_and_other_methods(
    grant_for, steward, police, requester
):
    grant = grant_for("realtime")
    url = f"/api/v1/grants/{grant.pk}/records/"
    assert api(steward).get(url, {"resident_id": "R001"}).status_code == 403
    assert api(police).get(url, {"resident_id": "R001"}).status_code == 404
    copy_grant = grant_for("periodic_copy")
    other = api(requester).get(f"/api/v1/grants/{copy_grant.pk}/records/", {"resident_id": "R001"})
    assert other.status_code == 403
    assert AccessLog.objects.filter(outcome="refused").count() == 3


# --- result-only feedback -------------------------------------------------------------------


def test_verify_answers_only_true_or_false(grant_for, requester):
    grant = grant_for("result_only")
    url = f"/api/v1/grants/{grant.pk}/verify/"
    client = api(requester)
    yes = client.post(
        url, {"match": {"resident_id": "R002"}, "check": {"dose_number": "2"}}, format="json"
    )
    assert yes.status_code == 200
    assert yes.content == b'{"result":true}'
    no = client.post(
        url, {"match": {"resident_id": "R002"}, "check": {"dose_number": "3"}}, format="json"
    )
    assert no.content == b'{"result":false}'
    exists = client.post(url, {"match": {"resident_id": "R999"}}, format="json")
    assert exists.content == b'{"result":false}'
    assert AccessLog.objects.filter(action="verify", outcome="allowed").count() == 3


def test_verify_refuses_items_outside_the_grant_and_limits(grant_for, requester, police):
    grant = grant_for("result_only", max_calls_per_day=1)
    url = f"/api/v1/grants/{grant.pk}/verify/"
    client = api(requester)
    outside = client.post(url, {"match": {"birth_date": "1980-02-29"}}, format="json")
    assert outside.status_code == 400
    assert "1980" not in outside.content.decode().replace("birth_date", "")
    assert client.post(url, {"match": {"resident_id": "R001"}}, format="json").status_code == 200
    limited = client.post(url, {"match": {"resident_id": "R001"}}, format="json")
    assert limited.status_code == 429
    assert "Retry-After" in limited
    assert (
        api(police).post(url, {"match": {"resident_id": "R001"}}, format="json").status_code == 404
    )


# --- web and admin --------------------------------------------------------------------------


def test_grant_page_lists_deliveries_and_the_grantee_downloads(
    client, grant_for, requester, police
):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    client.force_login(requester)
    page = client.get(f"/grants/{grant.pk}/")
    assert delivery.sha256.encode() in page.content
    url = f"/grants/deliveries/{delivery.pk}/download/"
    assert url.encode() in page.content
    response = client.get(url)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == (
        delivery.file_sha256
    )
    client.force_login(police)
    assert client.get(url).status_code == 404
    assert list(AccessLog.objects.order_by("id").values_list("outcome", flat=True)) == [
        "allowed",
        "refused",
    ]


def test_office_retries_a_failed_delivery_in_admin(client, grant_for, reviewer):
    from django.contrib.auth.models import Permission

    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", error="disk full")
    reviewer.is_staff = True
    reviewer.save()
    reviewer.user_permissions.add(*Permission.objects.filter(codename="view_delivery"))
    client.force_login(reviewer)
    listing = client.get("/admin/sharing/delivery/", {"status__exact": "failed"})
    assert listing.status_code == 200
    assert b"sharing.tasks.dispatch_deliveries" in listing.content
    client.post(
        "/admin/sharing/delivery/",
        {"action": "retry", "_selected_action": [delivery.pk], "apply": "1"},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.grant_id) == ("pending", "", grant.pk)
    assert delivery_build(delivery.pk).status == "succeeded"


def test_holds_use_grant_agrees_with_guardian(grant_for, requester, steward, reviewer):
    from django.contrib.auth import get_user_model

    from rights.permissions import holds_use_grant

    grant = grant_for("realtime")
    for user in (requester, steward, reviewer):
        fresh = get_user_model().objects.get(pk=user.pk)
        assert holds_use_grant(fresh, grant) == fresh.has_perm("rights.use_grant", grant)
    assert holds_use_grant(requester, grant)
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    assert not holds_use_grant(requester, grant)
