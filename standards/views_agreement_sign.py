"""Signing a grant's data-sharing agreement from the portal (POST only)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.forms import error_message
from departments.models import Department
from rights.selectors import grant_for_user
from standards import agreements
from standards.models import Agreement


class SignForm(forms.Form):
    """The department signed for, by code (only needed by someone who acts for several)."""

    department = forms.CharField(required=False, max_length=32)


@require_POST
def agreement_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign for the department the user acts for (``department``: a code, when several)."""
    grant = grant_for_user(request.user, pk)
    then = redirect("agreements:agreement_detail", pk=grant.pk)
    agreement = Agreement.objects.filter(grant=grant).first()
    if agreement is None:
        messages.error(request, _("This grant has no data-sharing agreement yet."))
        return then
    form = SignForm(request.POST)
    if not form.is_valid():  # too long, or a NUL character (CharField refuses it)
        messages.error(request, " ".join(str(e) for e in form.errors["department"]))
        return then
    code = form.cleaned_data["department"]
    department = Department.objects.filter(code=code).first() if code else None
    if code and department is None:
        messages.error(request, _("No department with the code %(c)s.") % {"c": code})
        return then
    try:
        signature = agreements.agreement_sign(
            actor=request.user, agreement=agreement, department=department
        )
    except (PermissionDenied, ValidationError, DomainError) as exc:
        messages.error(request, error_message(exc))
        return then
    agreement.refresh_from_db()
    if agreement.signed_at:
        messages.success(
            request,
            _("You signed for %(dept)s. Both departments have signed: the grant can be used.")
            % {"dept": signature.department.code},
        )
    else:
        messages.success(
            request,
            _("You signed for %(dept)s. The grant can be used once the other department signs.")
            % {"dept": signature.department.code},
        )
    return then
