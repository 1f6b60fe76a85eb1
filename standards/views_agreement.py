"""A grant's data-sharing agreement as a printable page and as a PDF, for the grant's parties.

Both read the agreement through ``_agreement_for`` and render ``agreement_sections`` in the
request's language (LocaleMiddleware, then the user's profile language).
"""

import hashlib
from typing import Any

import rfc8785
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from departments.permissions import is_requester_for, is_steward_of
from rights import selectors
from rights.attestations import DUE_WORKING_DAYS
from rights.models import Grant
from standards import vocab
from standards.agreement_pdf import agreement_pdf
from standards.agreement_render import agreement_sections, datetime_words

# --- stand-in until standards.agreements (helper "dsa") is merged --------------------------
# The lead swaps ``_agreement_for`` for the stored Agreement (its document, signatures and
# SHA-256); ``document_preview`` builds the document exactly as dsa-document.md describes.

BREACH_NOTICE_HOURS = 24


def document_preview(grant: Grant) -> dict[str, Any]:
    """The agreement document of ``grant`` in the ``govshare-dsa/1`` shape (dsa-document.md)."""
    resource = grant.resource
    items = {item.name: item for item in resource.data_items.all()}

    def party(department: Any, function: str) -> dict[str, str]:
        return {
            "code": department.code,
            "name": department.name,
            "uri": vocab.department_uri(department.code),
            "function": function,
        }

    basis = grant.legal_basis or {}
    return {
        "format": "govshare-dsa/1",
        "uri": vocab.agreement_uri(grant.pk),
        "grant": grant.pk,
        "request": grant.request_id,
        "request_reference": str(grant.request_id),
        "generated_at": grant.created_at.isoformat(),
        "parties": {
            "provider": party(resource.owner_department, "provider"),
            "recipient": party(grant.grantee_department, "recipient"),
            "management": party(resource.management_right_holder, "management"),
        },
        "resource": {
            "identifier": resource.identifier,
            "title": resource.title,
            "version": grant.resource_version,
            "uri": vocab.dataset_uri(resource.identifier),
        },
        "purpose": grant.purpose,
        "data_items": [
            {
                "name": name,
                "type": items[name].type if name in items else "",
                "description": items[name].description if name in items else "",
                "sensitivity": items[name].sensitivity if name in items else "",
            }
            for name in grant.fields
        ],
        "legal_basis": {
            "kind": basis.get("kind", ""),
            "citation": basis.get("citation", ""),
            "article": basis.get("article", ""),
        },
        "method": grant.method,
        "frequency": grant.frequency,
        "limits": {
            "max_records_per_day": grant.max_records_per_day,
            "max_calls_per_day": grant.max_calls_per_day,
        },
        "security_measures": ["tls", "access_log", "ledger", "least_items", "role_access"],
        "retention": {
            "until": grant.valid_until.isoformat(),
            "end_of_use": "delete_or_return",
            "attestation_days": DUE_WORKING_DAYS,
        },
        "breach_and_disputes": {
            "breach_notice_hours": BREACH_NOTICE_HOURS,
            "dispute_levels": ["negotiation", "office_mediation", "office_ruling"],
        },
        "variation": {
            "vary": "new_request",
            "renew": "renewal_request",
            "end": ["expiry", "revocation", "suspension"],
        },
        "period": {"from": grant.valid_from.isoformat(), "until": grant.valid_until.isoformat()},
    }


def _agreement_for(grant: Grant) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The grant's agreement: its document, the signatures so far, the document's SHA-256."""
    document = document_preview(grant)
    return document, [], hashlib.sha256(rfc8785.dumps(document)).hexdigest()


# --- the views ------------------------------------------------------------------------------


def _roles_left_to_sign(user: Any, grant: Grant, signatures: list[dict[str, Any]]) -> list[str]:
    """The roles in which ``user`` may still sign: the owner's steward as provider, the
    grantee's requester as recipient, each once."""
    signed = {signature.get("role") for signature in signatures}
    roles = []
    if "provider" not in signed and is_steward_of(user, grant.resource.owner_department_id):
        roles.append("provider")
    if "recipient" not in signed and is_requester_for(user, grant.grantee_department_id):
        roles.append("recipient")
    return roles


def _sign_url(grant: Grant) -> str | None:
    # The sign route comes with the dsa helper's branch; without it there is no button.
    try:
        return reverse("agreements:agreement_sign", args=[grant.pk])
    except NoReverseMatch:
        return None


def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for_user(request.user, pk)
    document, signatures, sha256 = _agreement_for(grant)
    sign_url = _sign_url(grant)
    return render(
        request,
        "standards/agreement_detail.html",
        {
            "grant": grant,
            "document": document,
            "sections": agreement_sections(document, signatures),
            "sha256": sha256,
            "generated_at": datetime_words(document.get("generated_at")),
            "sign_url": sign_url,
            "sign_roles": _roles_left_to_sign(request.user, grant, signatures) if sign_url else [],
        },
    )


def agreement_pdf_download(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for_user(request.user, pk)
    document, signatures, sha256 = _agreement_for(grant)
    response = HttpResponse(agreement_pdf(document, signatures, sha256), "application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-grant-{grant.pk}.pdf"'
    return response
