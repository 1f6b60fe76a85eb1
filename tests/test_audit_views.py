"""Audit pages: trails, ledger entries, receipts, the auditor search and the access log."""

import json

import pytest
from django.test import RequestFactory

from audit.models import AccessLog
from audit.services import access_log_record
from departments.models import Membership
from ledger.models import LedgerEntry
from rights.models import Grant
from tests.conftest import make_user


@pytest.fixture
def police(departments):
    return make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)


def approve_index():
    return LedgerEntry.objects.get(entry_type="request.approve").index


def test_request_trail_merges_history_and_ledger(client, approved, requester):
    client.force_login(requester)
    page = client.get(f"/audit/trail/request/{approved.pk}/")
    assert page.status_code == 200
    items = page.context["items"]
    assert [i.code for i in items if i.source == "ledger"] == [
        "request.submit",
        "request.endorse",
        "agreement.generated",  # it names the request too
        "request.approve",
    ]
    assert any(i.source == "history" for i in items)
    assert [i.at for i in items] == sorted(i.at for i in items)
    assert f'href="/audit/ledger/{approve_index()}/"'.encode() in page.content


def test_grant_and_resource_trails(client, approved, steward):
    client.force_login(steward)
    grant = Grant.objects.get(request=approved)
    assert client.get(f"/audit/trail/grant/{grant.pk}/").status_code == 200
    page = client.get(f"/audit/trail/resource/{approved.resource_id}/")
    assert page.status_code == 200
    assert {"resource.published", "release.accepted"} <= {i.code for i in page.context["items"]}


def test_outsiders_get_404_for_trails_entries_and_receipts(client, approved, police):
    client.force_login(police)
    grant = Grant.objects.get(request=approved)
    for path in (
        f"/audit/trail/request/{approved.pk}/",
        f"/audit/trail/grant/{grant.pk}/",
        f"/audit/ledger/{approve_index()}/",
        f"/audit/ledger/{approve_index()}/receipt/",
        "/audit/trail/nothing/1/",
    ):
        assert client.get(path).status_code == 404, path


def test_both_departments_download_the_receipt_on_the_web(client, approved, requester, steward):
    for user in (requester, steward):
        client.force_login(user)
        detail = client.get(f"/audit/ledger/{approve_index()}/")
        assert detail.status_code == 200
        assert b"Request approved" in detail.content
        receipt = client.get(f"/audit/ledger/{approve_index()}/receipt/")
        assert receipt.status_code == 200
        assert json.loads(receipt.content)["index"] == approve_index()
    page = client.get(f"/requests/{approved.pk}/")
    assert f"/audit/ledger/{approve_index()}/receipt/".encode() in page.content


def test_auditor_searches_the_ledger_and_the_access_log(client, approved, auditor, requester):
    http = RequestFactory().get("/api/v1/grants/1/records/", REMOTE_ADDR="10.1.2.3")
    http.user = requester
    grant = Grant.objects.get(request=approved)
    access_log_record(
        request=http,
        action="download",
        target=f"grant {grant.pk}",
        outcome="allowed",
        grant=grant,
        department=grant.grantee_department,
        records=3,
    )
    client.force_login(auditor)
    page = client.get("/audit/", {"event": "request.approve"})
    assert page.status_code == 200
    assert [e.entry_type for e in page.context["entries"]] == ["request.approve"]
    assert [a.remote_addr for a in page.context["accesses"]] == ["10.1.2.3"]
    only_refused = client.get("/audit/", {"outcome": "refused"})
    assert list(only_refused.context["accesses"]) == []


def test_requesters_cannot_open_the_audit_search_or_the_access_log(client, approved, requester):
    client.force_login(requester)
    assert client.get("/audit/").status_code == 403
    requester.is_staff = True
    requester.save()
    assert client.get("/admin/audit/accesslog/").status_code == 403
    assert AccessLog.objects.count() == 0


def test_auditor_reads_the_access_log_in_admin_read_only(client, auditor):
    auditor.is_staff = True
    auditor.save()
    client.force_login(auditor)
    assert client.get("/admin/audit/accesslog/").status_code == 200
    assert client.get("/admin/audit/accesslog/add/").status_code == 403


def test_a_trail_lists_only_the_entries_naming_the_readers_department(client, approved, requester):
    """An entry about the request that does not name CIVIL stays out of CIVIL's trail."""
    from ledger.services import ledger_append

    ledger_append(event="request.endorse", departments=["HEALTH"], subject={"request": approved.pk})
    client.force_login(requester)
    page = client.get(f"/audit/trail/request/{approved.pk}/")
    assert [i.code for i in page.context["items"] if i.source == "ledger"] == [
        "request.submit",
        "request.endorse",
        "agreement.generated",
        "request.approve",
    ]
    assert LedgerEntry.objects.filter(entry_type="request.endorse").count() == 2
