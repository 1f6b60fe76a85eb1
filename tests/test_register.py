"""The public register shows who shares what with whom, and the day its agreement was signed —
and nothing else. With the agreement gate on, as in production: a grant is listed once both
departments have signed its data-sharing agreement."""

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from access_requests import services as rs
from rights import services as grant_services
from rights.models import Grant
from tests.conftest import sign_agreement

pytestmark = pytest.mark.agreement_gate


@pytest.fixture
def unsigned(request_draft, requester, steward, reviewer):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=reviewer, request=request_draft, fields=["resident_id"])
    return Grant.objects.get(request=request_draft)


@pytest.fixture
def grant(unsigned, requester, steward):
    return sign_agreement(unsigned, steward, requester)


def test_register_api_needs_no_sign_in_and_shows_only_the_listed_fields(grant):
    response = APIClient().get("/api/v1/register/")
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "provider": {"code": "HEALTH", "name": "Health Bureau"},
                "receiver": {"code": "CIVIL", "name": "Civil Affairs Bureau"},
                "resource": "Vaccination records",
                "purpose": "Check vaccination status for school enrolment.",
                "legal_basis": {
                    "kind": "statute",
                    "citation": "Education Law",
                    "article": "art. 12",
                },
                "method": "realtime",
                "valid_from": grant.valid_from.isoformat(),
                "valid_until": grant.valid_until.isoformat(),
                "agreement_signed_at": timezone.localdate(grant.agreement_signed_at).isoformat(),
            }
        ],
    }


def test_register_drops_suspended_grants_and_the_page_is_public(client, grant, reviewer):
    page = client.get("/register/")
    assert page.status_code == 200
    assert b"Civil Affairs Bureau" in page.content
    # The method in words, not its code (#15.6).
    assert b"<td>Real-time interface</td>" in page.content
    assert b"<td>realtime</td>" not in page.content
    for private in (b"civil_clerk", b"health_steward", b"R001", b"resident_id"):
        assert private not in page.content
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    assert APIClient().get("/api/v1/register/").json()["count"] == 0


def test_register_lists_a_grant_only_once_both_departments_signed(
    client, unsigned, steward, requester
):
    assert APIClient().get("/api/v1/register/").json()["count"] == 0
    sign_agreement(unsigned, steward)
    assert APIClient().get("/api/v1/register/").json()["count"] == 0
    assert b"Civil Affairs Bureau" not in client.get("/register/").content
    sign_agreement(unsigned, requester)
    results = APIClient().get("/api/v1/register/").json()["results"]
    assert [r["agreement_signed_at"] for r in results] == [timezone.localdate().isoformat()]
    page = client.get("/register/").content.decode()
    assert "Civil Affairs Bureau" in page
    assert date_format(timezone.localdate(), "SHORT_DATE_FORMAT") in page
    # Never the agreement's restricted parts: no hash, no signer, no item.
    for private in (unsigned.agreement.sha256, "health_steward", "civil_clerk", "resident_id"):
        assert private not in page


def test_register_without_the_gate_lists_an_unsigned_grant_as_not_signed_yet(
    client, unsigned, settings
):
    settings.GRANT_AGREEMENT_REQUIRED = False
    results = APIClient().get("/api/v1/register/").json()["results"]
    assert [r["agreement_signed_at"] for r in results] == [None]
    assert "Not signed yet" in client.get("/register/").content.decode()
