"""Quality reports: a grantee (or the office) reports a problem with a resource's data, the owner
acknowledges, answers or resolves it, and the reporter confirms or reopens.

Every transition goes through ``QUALITY_REPORTS`` (workflow/engine.py): lock the row, check who
may act (PermissionDenied, API 403) and the transition table (IllegalTransition, API 409), change
the row with history, write a timeline step and exactly one ledger entry in the same transaction,
and notify after commit. A refused step changes nothing.

Deadlines are in working days (weekends and the office's holiday calendar skipped):
``QUALITY_REPORT_DAYS`` for the owner to answer or resolve a report (again after a reopen).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from catalog.models import Release, Resource
from catalog.selectors import latest_release
from departments.models import Department, Membership
from departments.permissions import (
    can_answer_quality_report,
    can_follow_up_quality_report,
    quality_reporter_department_ids,
)
from departments.selectors import members_with_roles, office_reviewers
from governance.models import QualityReport, QualityReportStep
from governance.permissions import department_may_report_quality
from ledger.models import LedgerEntry
from ledger.services import text_sha256
from notifications.services import Localized, Text, lowercase, notify
from workdays.deadlines import add_working_days
from workflow.engine import Workflow, overdue_mark, require_reason

QUALITY_REPORT_DAYS = 10  # working days for the owner to answer or resolve (and after a reopen)
LINES_MAX = 50  # example lines per report: enough to show a pattern, not a copy of the data


R = QualityReport.State
# action: (states it may start from, state it leads to)
QUALITY_TRANSITIONS = {
    "acknowledge": ({R.OPEN}, R.ACKNOWLEDGED),
    "answer": ({R.OPEN, R.ACKNOWLEDGED}, R.ANSWERED),
    "resolve": ({R.OPEN, R.ACKNOWLEDGED, R.ANSWERED}, R.RESOLVED),
    "confirm": ({R.ANSWERED, R.RESOLVED}, R.CLOSED),
    "reopen": ({R.ANSWERED, R.RESOLVED}, R.OPEN),
}
# States in which the owner owes an answer (a deadline runs).
QUALITY_WAITING_FOR_OWNER = {R.OPEN, R.ACKNOWLEDGED}
QUALITY_ACTION_PAST = {
    "acknowledge": gettext_lazy("acknowledged"),
    "answer": gettext_lazy("answered"),
    "resolve": gettext_lazy("resolved"),
    "confirm": gettext_lazy("confirmed"),
    "reopen": gettext_lazy("reopened"),
}
QUALITY_REPORTS = Workflow(
    model=QualityReport,
    transitions=QUALITY_TRANSITIONS,
    noun=gettext_lazy("quality report"),
    past=QUALITY_ACTION_PAST,
    step_model=QualityReportStep,
    step_link="report",
)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- the engine's steps ---------------------------------------------------------------------


def _locked(report: QualityReport) -> QualityReport:
    locked: QualityReport = QUALITY_REPORTS.lock(
        report.pk,
        related=(
            "resource__owner_department",
            "resource__management_right_holder",
            "reporting_department",
        ),
    )
    return locked


def _record(report: QualityReport, step: QualityReportStep) -> LedgerEntry:
    """The step's ledger entry: ids, department codes and hashes (the description when filed,
    the reason otherwise), never free text."""
    resource = report.resource
    filing = step.action == "file"
    hashes: dict[str, str] | None
    if filing:
        hashes = {"description_sha256": text_sha256(report.description)}
    else:
        hashes = {"reason_sha256": text_sha256(step.reason)} if step.reason else None
    detail: dict[str, Any] = {"from": step.from_state, "to": step.to_state}
    if filing:
        detail.update({"kind": report.kind, "item": report.item, "lines": len(report.lines)})
    release = report.resolution_release_id if step.action == "resolve" else report.release_id
    return QUALITY_REPORTS.record(
        step,
        event=f"quality_report.{step.action}",
        departments=[
            report.reporting_department,
            resource.owner_department,
            resource.management_right_holder,
            step.department,
        ],
        subject={"quality_report": report.pk, "resource": resource.pk, "release": release},
        hashes=hashes,
        detail=detail,
    )


def _move(
    report: QualityReport, action: str, actor: Any, department: Department, reason: str = ""
) -> QualityReportStep:
    """One step through the engine and its ledger entry. The owner's deadline runs while it owes
    an answer; a reopen restarts it."""
    from_state = report.state
    to_state = QUALITY_REPORTS.target(action, from_state)
    if to_state in QUALITY_WAITING_FOR_OWNER:
        if from_state not in QUALITY_WAITING_FOR_OWNER:  # a reopen: the owner's clock restarts
            report.due_date = add_working_days(timezone.localdate(), QUALITY_REPORT_DAYS)
            report.overdue_since = None
    else:
        report.due_date = None
        report.overdue_since = None
    report.closed_at = timezone.now() if to_state == R.CLOSED else None
    step: QualityReportStep = QUALITY_REPORTS.move(
        report, action, actor=actor, department=department, reason=reason
    )
    _record(report, step)
    return step


# --- who is told ----------------------------------------------------------------------------


def _tell(users: Iterable[Any], report: QualityReport, subject: str, body: Text = "") -> None:
    """Notify ``users``; ``subject`` is a msgid (``gettext_noop``) naming ``id`` and ``res``,
    worded in each recipient's language; a plain-text body (a reason) goes as written."""
    values = {"id": report.pk, "res": report.resource.title}
    notify(
        recipients=users,
        subject=Localized(subject, values),
        body=body or Localized(subject, values),
        url=report.get_absolute_url(),
    )


def _owner_stewards(report: QualityReport) -> QuerySet[Any]:
    return members_with_roles([report.resource.owner_department_id], [Membership.Role.STEWARD])


def _reporters(report: QualityReport) -> QuerySet[Any]:
    roles = [Membership.Role.REQUESTER, Membership.Role.STEWARD]
    if report.reporting_department.kind == Department.Kind.OFFICE:
        roles.append(Membership.Role.REVIEWER)
    return members_with_roles([report.reporting_department_id], roles)


# --- filing ---------------------------------------------------------------------------------


def _clean_lines(lines: Iterable[Any] | None, release: Release | None) -> list[int]:
    """Sorted distinct line numbers of data rows (the header is line 1) within the release."""
    if lines is None:
        return []
    try:
        numbers = sorted({int(n) for n in lines})
    except (TypeError, ValueError):
        raise ValidationError(
            {"lines": _("Give line numbers as whole numbers, for example 2, 15, 27.")}
        ) from None
    if len(numbers) > LINES_MAX:
        raise ValidationError({"lines": _("Give at most %(n)d example lines.") % {"n": LINES_MAX}})
    if numbers and numbers[0] < 2:
        raise ValidationError({"lines": _("Line 1 is the header; data rows start at line 2.")})
    if numbers and release is not None and numbers[-1] > release.row_count + 1:
        raise ValidationError(
            {
                "lines": _(
                    "Release %(seq)d has %(rows)d rows (lines 2 to %(last)d); line %(n)d is "
                    "not in it."
                )
                % {
                    "seq": release.sequence,
                    "rows": release.row_count,
                    "last": release.row_count + 1,
                    "n": numbers[-1],
                }
            }
        )
    return numbers


def _check_filing(
    actor: Any, department: Department, resource: Resource, kind: str, description: str, item: str
) -> None:
    """Who may report on the resource, and what a report must say (PermissionDenied or
    ValidationError; nothing is written)."""
    if department.pk not in quality_reporter_department_ids(actor):
        raise PermissionDenied(
            _("Only a requester or data steward of %(dept)s can report for it.")
            % {"dept": department.code}
        )
    if not department_may_report_quality(department, resource):
        raise PermissionDenied(
            _(
                "Only a department holding a grant on %(title)s, or the data management office, "
                "can report on its quality."
            )
            % {"title": resource.title}
        )
    if resource.status != Resource.Status.PUBLISHED:
        raise ValidationError({"resource": _("Only a published resource takes quality reports.")})
    errors = {}
    if kind not in QualityReport.Kind.values:
        errors["kind"] = _("Choose the kind of problem.")
    if not description:
        errors["description"] = _("Describe the problem: what is wrong, and what you expected.")
    if item and not resource.data_items.filter(name=item).exists():
        errors["item"] = _("%(title)s has no data item %(name)s.") % {
            "title": resource.title,
            "name": item,
        }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def quality_report_file(
    *,
    actor: Any,
    department: Department,
    resource: Resource,
    kind: str,
    description: str,
    item: str = "",
    lines: Iterable[Any] | None = None,
) -> QualityReport:
    """A report on ``resource`` by ``department`` (a grantee whose grant has not ended, or the
    office). It concerns the newest release at the time of filing; the owner's stewards are told
    and have ``QUALITY_REPORT_DAYS`` working days to answer or resolve it."""
    description, item = _text(description), _text(item)
    _check_filing(actor, department, resource, kind, description, item)
    release = latest_release(resource)
    report = QualityReport(
        resource=resource,
        reporting_department=department,
        reported_by=actor,
        kind=kind,
        item=item,
        lines=_clean_lines(lines, release),
        release=release,
        description=description,
        due_date=add_working_days(timezone.localdate(), QUALITY_REPORT_DAYS),
    )
    report._history_user = actor  # type: ignore[attr-defined]
    report._change_reason = "file"  # type: ignore[attr-defined]
    report.save()
    step = QUALITY_REPORTS.step(report, "file", R.OPEN, R.OPEN, actor=actor, department=department)
    _record(report, step)
    _tell(
        _owner_stewards(report),
        report,
        gettext_noop("Quality report #%(id)d on %(res)s"),
        Localized(
            gettext_noop(
                "%(dept)s reports a problem (%(kind)s) with %(res)s. Answer within %(n)d working "
                "days."
            ),
            {
                "dept": department.code,
                "kind": lowercase(QualityReport.Kind(report.kind).label),
                "res": resource.title,
                "n": QUALITY_REPORT_DAYS,
            },
        ),
    )
    return report


# --- the owner's and the reporter's steps ---------------------------------------------------


def _owner_acting(actor: Any, report: QualityReport) -> Department:
    if not can_answer_quality_report(actor, report):
        raise PermissionDenied(
            _("Only a data steward of %(dept)s, the owner, can answer this report.")
            % {"dept": report.resource.owner_department.code}
        )
    return report.resource.owner_department


def _reporter_acting(actor: Any, report: QualityReport) -> Department:
    if not can_follow_up_quality_report(actor, report):
        raise PermissionDenied(
            _("Only %(dept)s, which filed this report, can confirm or reopen it.")
            % {"dept": report.reporting_department.code}
        )
    return report.reporting_department


@transaction.atomic
def quality_report_acknowledge(
    *, actor: Any, report: QualityReport, reason: str | None = ""
) -> QualityReport:
    """Open → acknowledged: the owner has seen the report and is on it (deadline unchanged)."""
    report = _locked(report)
    department = _owner_acting(actor, report)
    _move(report, "acknowledge", actor, department, _text(reason))
    _tell(_reporters(report), report, gettext_noop("Quality report #%(id)d was acknowledged"))
    return report


@transaction.atomic
def quality_report_answer(
    *, actor: Any, report: QualityReport, reason: str | None
) -> QualityReport:
    """Open/acknowledged → answered: the owner explains (for example the value is right)
    without a correction; the reporter confirms or reopens."""
    reason = require_reason(reason, _("the answer"))
    report = _locked(report)
    department = _owner_acting(actor, report)
    report.answer = reason
    _move(report, "answer", actor, department, reason)
    _tell(_reporters(report), report, gettext_noop("Quality report #%(id)d was answered"), reason)
    return report


def _check_correcting_release(report: QualityReport, release: Release) -> None:
    if release.resource_id != report.resource_id:
        raise ValidationError(
            {"release": _("The correcting release must be a release of this resource.")}
        )
    if report.release is not None and release.sequence <= report.release.sequence:
        raise ValidationError(
            {
                "release": _("The report concerns release %(n)d; name a newer release.")
                % {"n": report.release.sequence}
            }
        )


@transaction.atomic
def quality_report_resolve(
    *, actor: Any, report: QualityReport, reason: str | None, release: Release | None = None
) -> QualityReport:
    """→ resolved: the owner corrected the data, optionally naming the correcting release (a
    release of the resource newer than the one reported on); the reporter confirms or reopens."""
    reason = require_reason(reason, _("the resolution"))
    report = _locked(report)
    department = _owner_acting(actor, report)
    QUALITY_REPORTS.check(report, "resolve")
    if release is not None:
        _check_correcting_release(report, release)
    report.answer = reason
    report.resolution_release = release
    _move(report, "resolve", actor, department, reason)
    body: Text = reason
    if release is not None:
        body = Localized(
            gettext_noop("%(reason)s\nCorrected in release %(n)d."),
            {"reason": reason, "n": release.sequence},
        )
    _tell(_reporters(report), report, gettext_noop("Quality report #%(id)d was resolved"), body)
    return report


@transaction.atomic
def quality_report_confirm(
    *, actor: Any, report: QualityReport, reason: str | None = ""
) -> QualityReport:
    """Answered/resolved → closed, by the reporting department."""
    report = _locked(report)
    department = _reporter_acting(actor, report)
    _move(report, "confirm", actor, department, _text(reason))
    _tell(_owner_stewards(report), report, gettext_noop("Quality report #%(id)d was closed"))
    return report


@transaction.atomic
def quality_report_reopen(
    *, actor: Any, report: QualityReport, reason: str | None
) -> QualityReport:
    """Answered/resolved → open, by the reporting department (reason required); the owner has a
    new deadline of ``QUALITY_REPORT_DAYS`` working days."""
    reason = require_reason(reason, _("reopening the report"))
    report = _locked(report)
    department = _reporter_acting(actor, report)
    _move(report, "reopen", actor, department, reason)
    _tell(
        _owner_stewards(report), report, gettext_noop("Quality report #%(id)d was reopened"), reason
    )
    return report


def quality_reports_mark_overdue(*, today: datetime.date | None = None) -> int:
    """Flag reports the owner has not answered by their due date; tell its stewards and the
    office once per report and deadline."""
    late = QualityReport.objects.filter(
        state__in=QUALITY_WAITING_FOR_OWNER,
        due_date__lt=today or timezone.localdate(),
        overdue_since__isnull=True,
    ).select_related("resource")
    return overdue_mark(
        late,
        recipients=lambda report: [*_owner_stewards(report), *office_reviewers()],
        subject=lambda report: Localized(
            gettext_noop("Quality report #%(id)d is overdue (due %(due)s)"),
            {"id": report.pk, "due": report.due_date},
        ),
        url=lambda report: report.get_absolute_url(),
        key=lambda report: f"qualityreport:{report.pk}:overdue:{report.due_date}",
    )
