"""The public register shows who shares what with whom — and nothing else."""

import pytest
from rest_framework.test import APIClient

from access_requests import services as rs
from rights import services as grant_services
from rights.models import Grant


@pytest.fixture
def grant(request_draft, requester, steward, reviewer):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)
    rs.request_approve(actor=reviewer, request=request_draft, fields=["resident_id"])
    return Grant.objects.get(request=request_draft)


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
            }
        ],
    }


def test_register_drops_suspended_grants_and_the_page_is_public(client, grant, reviewer):
    page = client.get("/register/")
    assert page.status_code == 200
    assert b"Civil Affairs Bureau" in page.content
    for private in (b"civil_clerk", b"health_steward", b"R001", b"resident_id"):
        assert private not in page.content
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    assert APIClient().get("/api/v1/register/").json()["count"] == 0
