"""A grant's data-sharing agreement as a printable page and as a PDF, for the grant's parties.

Both read the agreement through ``_agreement_for`` and render ``agreement_sections`` in the
request's language (LocaleMiddleware, then the user's profile language).
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from departments.permissions import is_requester_for, is_steward_of
from rights import selectors
from rights.models import Grant
from standards.agreement_pdf import agreement_pdf
from standards.agreement_render import agreement_sections, datetime_words
from standards.agreements import agreement_as_dict
from standards.models import Agreement


def _agreement_for(grant: Grant) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The grant's stored agreement: its document, the signatures so far, its SHA-256.

    Grants approved before agreements existed have none until ``manage.py agreements_generate``
    makes it (README): a 404 that says so, not a document made up on the fly.
    """
    agreement = Agreement.objects.filter(grant=grant).first()
    if agreement is None:
        raise Http404(
            _(
                "This grant has no data-sharing agreement yet; the data management office "
                "generates it."
            )
        )
    answer = agreement_as_dict(agreement)
    return answer["document"], answer["signatures"], answer["sha256"]


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
