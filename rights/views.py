"""Grant pages. Views parse input, call one service or selector, and render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access_requests import selectors as request_selectors
from access_requests import services as request_services
from access_requests.forms import ReasonForm
from access_requests.models import Frequency, LegalBasisKind
from access_requests.views import STEP_LABELS
from catalog.models import Method
from govshare.exceptions import DomainError
from govshare.forms import error_message
from rights import access, selectors, services
from rights.models import Delivery
from rights.permissions import can_manage_grant, is_member_of, is_requester_for

PAGE_SIZE = 25

HISTORY_LABELS = {
    "grant": gettext_lazy("Granted"),
    "suspend": gettext_lazy("Suspended"),
    "resume": gettext_lazy("Resumed"),
    "revoke": gettext_lazy("Revoked"),
    "expire": gettext_lazy("Expired"),
}
# action: (service function, message once done)
STEPS = {
    "suspend": (services.grant_suspend, gettext_lazy("The grant is suspended.")),
    "resume": (services.grant_resume, gettext_lazy("The grant is active again.")),
    "revoke": (services.grant_revoke, gettext_lazy("The grant is revoked.")),
}


def grant_list(request):
    page = Paginator(selectors.department_grants(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "rights/grant_list.html", {"page": page})


def _history_rows(grant):
    rows = list(selectors.grant_timeline(grant))
    for row in rows:
        row.label = HISTORY_LABELS.get(row.action, row.action)
    return rows


def grant_detail(request, pk):
    grant = selectors.grant_for_user(request.user, pk)
    steps = list(request_selectors.timeline(grant.request))
    for step in steps:
        step.label = STEP_LABELS.get(step.action, step.action)
    manageable = set()
    if can_manage_grant(request.user, grant):
        manageable = {
            action for action in STEPS if grant.status in services.GRANT_TRANSITIONS[action][0]
        }
    basis = grant.legal_basis or {}
    return render(
        request,
        "rights/grant_detail.html",
        {
            "grant": grant,
            "method_label": dict(Method.choices).get(grant.method, grant.method),
            "frequency_label": dict(Frequency.choices).get(grant.frequency, grant.frequency),
            "basis": basis,
            "basis_kind_label": dict(LegalBasisKind.choices).get(basis.get("kind"), ""),
            "history": _history_rows(grant),
            "deliveries": grant.deliveries.order_by("-created_at", "-id")[:20],
            "can_use": grant.status == grant.Status.ACTIVE
            and is_member_of(request.user, grant.grantee_department_id),
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
def grant_action(request, pk, action):
    if action not in STEPS:
        raise Http404(_("No such step."))
    grant = selectors.grant_for_user(request.user, pk)
    step, done = STEPS[action]
    form = ReasonForm(request.POST, required=False)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["reason"])
        step(actor=request.user, grant=grant, reason=form.cleaned_data["reason"])
    except (ValidationError, DomainError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect("grants:grant_detail", pk=grant.pk)


@require_POST
def grant_renew(request, pk):
    grant = selectors.grant_for_user(request.user, pk)
    try:
        draft = request_services.request_renew(actor=request.user, grant=grant)
    except (ValidationError, DomainError) as exc:
        messages.error(request, error_message(exc))
        return redirect("grants:grant_detail", pk=grant.pk)
    messages.success(request, _("A renewal draft is ready: check it, then submit it."))
    return redirect("access_requests:request_edit", pk=draft.pk)


def delivery_download(request, pk):
    """The delivered file, for the grantee's members while the grant is active (logged)."""
    delivery = (
        Delivery.objects.filter(
            pk=pk, grant__in=selectors.grants_visible_to(request.user).values("pk")
        )
        .select_related("grant")
        .first()
    )
    if delivery is None:
        existing = Delivery.objects.filter(pk=pk).select_related("grant").first()
        access.log_not_visible(
            http_request=request,
            action="download",
            target=f"delivery {pk}",
            grant=existing.grant if existing else None,
        )
        raise Http404
    try:
        handle = access.delivery_open(user=request.user, delivery=delivery, http_request=request)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect("grants:grant_detail", pk=delivery.grant_id)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"govshare-delivery-{delivery.pk}.zip",
        content_type="application/zip",
    )
