"""End-of-use attestation pages. Views parse input, call one service or selector, and render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.exceptions import DomainError
from govshare.forms import add_service_errors
from rights import attestations
from rights import dispute_selectors as selectors
from rights.dispute_forms import AttestationForm
from rights.models import Attestation
from rights.permissions import can_attest_end_of_use

PAGE_SIZE = 25


def attestation_list(request):
    page = Paginator(selectors.department_attestations(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "rights/attestation_list.html", {"page": page})


def _render_detail(request, attestation, form, status=200):
    may_attest = attestation.state == Attestation.State.PENDING and can_attest_end_of_use(
        request.user, attestation
    )
    return render(
        request,
        "rights/attestation_detail.html",
        {"attestation": attestation, "form": form if may_attest else None},
        status=status,
    )


def attestation_detail(request, pk):
    attestation = selectors.attestation_for_user(request.user, pk)
    return _render_detail(request, attestation, AttestationForm())


@require_POST
def attestation_attest(request, pk):
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
