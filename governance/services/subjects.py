"""What a dispute is about: the disputed grant, delivery, refusal or quality report, and the two
departments it sets against each other (see ``governance.services.disputes``)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from access_requests.models import Request
from departments.models import Department
from governance.models import Dispute, QualityReport
from rights.models import Grant
from sharing.models import Delivery

K = Dispute.SubjectKind
_FIELD_OF_KIND: dict[str, str] = {K.REFUSAL: "request", K.QUALITY_REPORT: "quality_report"}
_GRANT_JOINS = (
    "grantee_department",
    "resource__owner_department",
    "resource__management_right_holder",
)


@dataclass(frozen=True)
class Subject:
    """The disputed object's fields on the dispute (always with ``resource``), the using
    department (the claimant) and the department the claimant disputes with."""

    fields: dict[str, Any]
    claimant: Department
    counterpart: Department


def disputed_quality_report(report_id: int) -> QualityReport:
    """Quality report ``report_id`` with its resource and reporter, or a ValidationError."""
    report = (
        QualityReport.objects.select_related(
            "resource__owner_department",
            "resource__management_right_holder",
            "reporting_department",
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise ValidationError({"quality_report": _("There is no such quality report.")})
    return report


def _refusal_subject(refusal: Request) -> Subject:
    """Disputed with whoever refused the request, else with the owner."""
    refusal = Request.objects.select_related(
        "requesting_department",
        "resource__owner_department",
        "resource__management_right_holder",
    ).get(pk=refusal.pk)
    if refusal.state != Request.State.REJECTED:
        raise ValidationError(
            {
                "request": _("Only a refusal can be disputed; request #%(id)d is %(s)s.")
                % {"id": refusal.pk, "s": refusal.get_state_display().lower()}
            }
        )
    refused = refusal.steps.filter(action="reject").select_related("department").last()
    counterpart = (refused and refused.department) or refusal.resource.owner_department
    fields = {"request": refusal, "resource": refusal.resource}
    return Subject(fields, refusal.requesting_department, counterpart)


def disputed_subject(
    kind: str,
    *,
    grant: Grant | None = None,
    delivery: Delivery | None = None,
    refusal: Request | None = None,
    quality_report_id: int | None = None,
) -> Subject:
    """The subject of ``kind`` named by the matching argument, re-read (the caller's instance
    may be older than the state it is judged by), or a ValidationError saying what is missing.
    The claimant is the using department: the grantee, the requester or the reporter."""
    if kind == K.DELIVERY and delivery is not None:
        joins = (f"grant__{j}" for j in _GRANT_JOINS)
        delivery = Delivery.objects.select_related(*joins).get(pk=delivery.pk)
        grant = delivery.grant
    elif kind == K.GRANT and grant is not None:
        grant = Grant.objects.select_related(*_GRANT_JOINS).get(pk=grant.pk)
    if kind in (K.GRANT, K.DELIVERY) and grant is not None:
        resource = grant.resource
        fields: dict[str, Any] = {"grant": grant, "delivery": delivery, "resource": resource}
        return Subject(fields, grant.grantee_department, resource.owner_department)
    if kind == K.REFUSAL and refusal is not None:
        return _refusal_subject(refusal)
    if kind == K.QUALITY_REPORT and quality_report_id is not None:
        report = disputed_quality_report(quality_report_id)
        fields = {"quality_report": report, "resource": report.resource}
        return Subject(fields, report.reporting_department, report.resource.owner_department)
    field = _FIELD_OF_KIND.get(kind, kind)
    if kind not in K.values:
        raise ValidationError({"subject_kind": _("Choose what is disputed.")})
    raise ValidationError({field: _("Say which %(kind)s is disputed.") % {"kind": K(kind).label}})
