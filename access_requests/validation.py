"""The checks of ``access_requests.services``: what a request must say to be saved or
submitted, and who may file it. They raise (``ValidationError`` keyed by field, or
``PermissionDenied``) and change nothing.
"""

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.utils import timezone
from django.utils.translation import gettext as _

from access_requests.models import Frequency, LegalBasisKind, RequestItem
from catalog.models import Method, Resource, SharingType
from departments.models import Department
from departments.permissions import is_requester_for
from workdays.models import ReviewPolicy

# A requested item as the services take it: ``{"name": ..., "reason": ...}``.
Item = Mapping[str, str]

REASON_MAX = RequestItem._meta.get_field("reason").max_length
REQUEST_FIELDS = (
    "purpose",
    "legal_basis_kind",
    "legal_basis_citation",
    "legal_basis_article",
    "legal_basis_text",
    "method",
    "frequency",
    "valid_from",
    "valid_until",
)


def _check_resource(resource: Resource, department: Department) -> None:
    if resource.status != Resource.Status.PUBLISHED:
        raise ValidationError(
            {
                "resource": _("Only a published resource can be requested; this one is %(s)s.")
                % {"s": resource.get_status_display().lower()}
            }
        )
    if resource.sharing_type == SharingType.NOT_SHAREABLE:
        raise ValidationError(
            {
                "resource": _("%(title)s is not shareable: %(reason)s (%(law)s).")
                % {
                    "title": resource.title,
                    "reason": resource.not_shareable_reason,
                    "law": resource.not_shareable_law,
                }
            }
        )
    if resource.owner_department_id == department.pk:
        raise ValidationError(
            {"resource": _("Your department owns this resource; it needs no request.")}
        )


def _check_request(
    resource: Resource, data: Mapping[str, Any], items: Sequence[Item], *, submitting: bool = False
) -> None:
    errors: dict[str, str | list[str]] = {}
    if not (data.get("purpose") or "").strip():
        errors["purpose"] = _("State the purpose the data will be used for.")
    if data.get("legal_basis_kind") not in LegalBasisKind.values:
        errors["legal_basis_kind"] = _("Choose the kind of legal basis.")
    if not (data.get("legal_basis_citation") or "").strip():
        errors["legal_basis_citation"] = _("Cite the legal basis (the law or order and its name).")
    method = data.get("method")
    if method not in resource.methods:
        allowed = ", ".join(str(Method(m).label) for m in resource.methods) or "—"
        errors["method"] = _("%(title)s does not allow this method; allowed: %(allowed)s.") % {
            "title": resource.title,
            "allowed": allowed,
        }
    frequency = data.get("frequency") or ""
    if method == Method.PERIODIC_COPY and frequency not in Frequency.values:
        errors["frequency"] = _("A periodic copy needs a frequency (daily, weekly or monthly).")
    elif method != Method.PERIODIC_COPY and frequency:
        errors["frequency"] = _("Only a periodic copy has a frequency.")
    start, end = data.get("valid_from"), data.get("valid_until")
    if not isinstance(start, datetime.date) or not isinstance(end, datetime.date):
        errors["valid_until"] = _("Give the start and end dates of the period.")
    elif end < start:
        errors["valid_until"] = _("The period ends before it starts.")
    else:
        longest = ReviewPolicy.current().max_validity_days
        if (end - start).days + 1 > longest:
            errors["valid_until"] = _("The period may last at most %(n)d days.") % {"n": longest}
        today = timezone.localdate()
        if submitting and end < today:
            errors["valid_until"] = _("The period has already ended; change the dates.")
        elif not submitting and start < today - datetime.timedelta(days=1):
            # Only when the dates are written: a draft kept a few days may still be submitted.
            errors["valid_from"] = _("The period cannot start in the past.")
    known = set(resource.data_items.values_list("name", flat=True))
    item_errors: list[str] = []
    seen: set[str] = set()
    if not items:
        item_errors.append(_("Request at least one data item."))
    for item in items:
        name = item.get("name", "")
        if name not in known:
            item_errors.append(
                _("%(title)s has no data item %(name)s.")
                % {"title": resource.title, "name": name or "''"}
            )
        elif name in seen:
            item_errors.append(_("%(name)s is requested twice.") % {"name": name})
        elif not (item.get("reason") or "").strip():
            item_errors.append(
                _("Say why %(name)s is needed (minimal necessary).") % {"name": name}
            )
        seen.add(name)
    if item_errors:
        errors["fields"] = item_errors
    if errors:
        raise ValidationError(errors)


def request_problems(
    resource: Resource, data: Mapping[str, Any], items: Sequence[Item]
) -> dict[str, list[str]]:
    """What ``_check_request`` would refuse, per field, without raising: a form that could not
    parse some fields shows these beside its own errors, so a person sees every problem at once
    rather than one pass at a time. The service still runs the same check on what is sent."""
    try:
        _check_request(resource, data, items)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _check_document(document: File | None) -> None:
    if document and document.size > settings.REQUEST_DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {
                "supporting_document": _("The document is larger than %(n)d MB.")
                % {"n": settings.REQUEST_DOCUMENT_MAX_BYTES // (1024 * 1024)}
            }
        )


def _value(data: Mapping[str, Any], field: str) -> Any:
    value = data.get(field)
    if value is None and field not in ("valid_from", "valid_until"):
        return ""
    return value.strip() if isinstance(value, str) else value


def _requester_department(actor: Any, department: Department) -> None:
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can file its requests.") % {"dept": department.code}
        )
