"""Grant pages. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access_requests import selectors as request_selectors
from access_requests import services as request_services
from access_requests.models import Frequency, LegalBasisKind
from access_requests.selectors import STEP_LABELS
from catalog.models import Method
from core.exceptions import DomainError
from core.forms import ReasonForm, add_service_errors, error_message
from core.paging import CheapCountPaginator
from core.views import step_response
from departments.permissions import (
    can_attest_end_of_use,
    can_manage_grant,
    is_member_of,
    is_requester_for,
)
from rights import attestations, selectors, services
from rights.forms import AttestationForm
from rights.models import Attestation, Grant, GrantEvent
from rights.result_only import verify_example

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string

PAGE_SIZE = 25

HISTORY_LABELS = {
    "grant": gettext_lazy("Granted"),
    "suspend": gettext_lazy("Suspended"),
    "resume": gettext_lazy("Resumed"),
    "revoke": gettext_lazy("Revoked"),
    "expire": gettext_lazy("Expired"),
    "agreement": gettext_lazy("Agreement signed by both departments"),
}
# action: (service function, message once done)
STEPS: dict[str, tuple[Callable[..., Grant], _StrOrPromise]] = {
    "suspend": (services.grant_suspend, gettext_lazy("The grant is suspended.")),
    "resume": (services.grant_resume, gettext_lazy("The grant is active again.")),
    "revoke": (services.grant_revoke, gettext_lazy("The grant is revoked.")),
}


def grant_list(request: HttpRequest) -> HttpResponse:
    page = CheapCountPaginator(selectors.department_grants(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "rights/grant_list.html", {"page": page})


def _history_rows(grant: Grant) -> list[GrantEvent]:
    rows = list(selectors.grant_timeline(grant))
    for row in rows:
        row.label = HISTORY_LABELS.get(row.action, row.action)  # type: ignore[attr-defined]
    return rows


def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for_user(request.user, pk)
    steps = list(request_selectors.timeline(grant.request))
    for step in steps:
        step.label = STEP_LABELS.get(step.action, step.action)  # type: ignore[attr-defined]
    manageable = set()
    if can_manage_grant(request.user, grant):
        manageable = {
            action for action in STEPS if grant.status in services.GRANT_TRANSITIONS[action][0]
        }
    basis: dict[str, Any] = grant.legal_basis or {}
    use_refusal = selectors.grant_use_refusal(grant)
    deliveries = list(grant.deliveries.order_by("-created_at", "-id")[:20])
    return render(
        request,
        "rights/grant_detail.html",
        {
            "grant": grant,
            "method_label": grant.method_label,
            "frequency_label": dict(Frequency.choices).get(grant.frequency, grant.frequency),
            "basis": basis,
            # No kind looks up None, which has no label.
            "basis_kind_label": dict(LegalBasisKind.choices).get(basis.get("kind"), ""),  # type: ignore[arg-type]
            "history": _history_rows(grant),
            "deliveries": deliveries,
            # The page refreshes itself while a build runs, to follow its progress.
            "delivery_running": any(d.status == "running" for d in deliveries),
            "verify": verify_example(grant) if grant.method == Method.RESULT_ONLY else None,
            "can_use": use_refusal is None
            and is_member_of(request.user, grant.grantee_department_id),
            "use_refusal": use_refusal,
            "steps": steps,
            "manage_forms": {
                action: ReasonForm(auto_id=f"id_{action}_%s")
                for action in STEPS
                if action in manageable
            },
            "can_renew": is_requester_for(request.user, grant.grantee_department_id),
            "is_grantee": is_member_of(request.user, grant.grantee_department_id),
        },
    )


@require_POST
def grant_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in STEPS:
        raise Http404(_("No such step."))
    grant = selectors.grant_for_user(request.user, pk)
    step, done = STEPS[action]
    form = ReasonForm(request.POST, required=False)

    def run() -> None:
        if not form.is_valid():
            raise ValidationError(form.errors["reason"])  # type: ignore[arg-type]  # a list at runtime
        step(actor=request.user, grant=grant, reason=form.cleaned_data["reason"])

    return step_response(request, run, done=done, then=redirect("grants:grant_detail", pk=grant.pk))


@require_POST
def grant_renew(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for_user(request.user, pk)
    try:
        draft = request_services.request_renew(actor=request.user, grant=grant)
    except (ValidationError, DomainError) as exc:
        messages.error(request, error_message(exc))
        return redirect("grants:grant_detail", pk=grant.pk)
    messages.success(request, _("A renewal draft is ready: check it, then submit it."))
    return redirect("access_requests:request_edit", pk=draft.pk)


def attestation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.department_attestations(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "rights/attestation_list.html", {"page": page})


def _render_detail(
    request: HttpRequest, attestation: Attestation, form: Form, status: int = 200
) -> HttpResponse:
    may_attest = attestation.state == Attestation.State.PENDING and can_attest_end_of_use(
        request.user, attestation
    )
    return render(
        request,
        "rights/attestation_detail.html",
        {"attestation": attestation, "form": form if may_attest else None},
        status=status,
    )


def attestation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    attestation = selectors.attestation_for_user(request.user, pk)
    return _render_detail(request, attestation, AttestationForm())


@require_POST
def attestation_attest(request: HttpRequest, pk: int) -> HttpResponse:
    attestation = selectors.attestation_for_user(request.user, pk)
    form = AttestationForm(request.POST)
    if form.is_valid():
        try:
            attestations.attestation_submit(
                actor=request.user, attestation=attestation, **form.cleaned_data
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The end of use is attested."))
            return redirect("attestations:attestation_detail", pk=attestation.pk)
    return _render_detail(request, attestation, form, status=400)
