"""The governance loop's write paths: quality reports, freshness and the demand list.

One function per transition (see STYLE.md and access_requests/services.py): lock the row, check
who may act (PermissionDenied, API 403) and the transition table (IllegalTransition, API 409),
change the row with history, write a timeline step and exactly one ledger entry in the same
transaction, and notify after commit. A refused step changes nothing.

Deadlines are in working days (weekends and the office's holiday calendar skipped):
``QUALITY_REPORT_DAYS`` for the owner to answer or resolve a report (again after a reopen),
``DEMAND_ANSWER_DAYS`` for the department a demand is routed to.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.models import Release, Resource
from core.exceptions import IllegalTransition
from departments.models import Department, Membership
from departments.permissions import (
    can_answer_quality_report,
    can_follow_up_quality_report,
    quality_reporter_department_ids,
)
from governance.models import QualityReport, QualityReportStep
from governance.permissions import department_may_report_quality
from ledger.services import ledger_append, text_sha256
from notifications.services import notify
from workdays.deadlines import add_working_days

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


ACTION_PAST = {
    "acknowledge": gettext_lazy("acknowledged"),
    "answer": gettext_lazy("answered"),
    "resolve": gettext_lazy("resolved"),
    "confirm": gettext_lazy("confirmed"),
    "reopen": gettext_lazy("reopened"),
    "route": gettext_lazy("routed"),
    "decline": gettext_lazy("declined"),
    "withdraw": gettext_lazy("withdrawn"),
    "join": gettext_lazy("joined"),
}


# --- shared helpers -------------------------------------------------------------------------


def _text(value):
    return value.strip() if isinstance(value, str) else ""


def _require_reason(reason, what):
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for %(what)s.") % {"what": what}})
    return reason


def _users(department_ids, roles):
    return (
        get_user_model()
        .objects.filter(
            memberships__department_id__in=list(department_ids),
            memberships__role__in=roles,
            is_active=True,
        )
        .distinct()
    )


def _office_reviewers():
    return (
        get_user_model()
        .objects.filter(
            memberships__department__kind=Department.Kind.OFFICE,
            memberships__role=Membership.Role.REVIEWER,
            memberships__department__is_active=True,
            is_active=True,
        )
        .distinct()
    )


def _check_state(obj, transitions, action, noun):
    if obj.state not in transitions[action][0]:
        raise IllegalTransition(
            _("A %(noun)s that is %(state)s cannot be %(action)s.")
            % {
                "noun": noun,
                "state": obj.get_state_display().lower(),
                "action": ACTION_PAST[action],
            }
        )


# --- quality reports ------------------------------------------------------------------------


def _report_locked(report):
    return (
        QualityReport.objects.select_for_update(of=("self",))
        .select_related(
            "resource__owner_department",
            "resource__management_right_holder",
            "reporting_department",
        )
        .get(pk=report.pk)
    )


def _report_step(report, action, from_state, to_state, actor, department, reason):
    step = QualityReportStep.objects.create(
        report=report,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        department=department,
        reason=reason,
    )
    resource = report.resource
    hashes = {"reason_sha256": text_sha256(reason)} if reason else None
    if action == "file":
        hashes = {"description_sha256": text_sha256(report.description)}
    detail = {"from": from_state, "to": to_state}
    if action == "file":
        detail.update({"kind": report.kind, "item": report.item, "lines": len(report.lines)})
    entry = ledger_append(
        event=f"quality_report.{action}",
        actor=actor,
        departments=[
            report.reporting_department,
            resource.owner_department,
            resource.management_right_holder,
            department,
        ],
        subject={
            "quality_report": report.pk,
            "resource": resource.pk,
            "release": report.resolution_release_id if action == "resolve" else report.release_id,
        },
        hashes=hashes,
        detail=detail,
    )
    step.ledger_index = entry.index
    step.save(update_fields=["ledger_index"])
    return step


def _report_move(report, action, actor, department, reason=""):
    _check_state(report, QUALITY_TRANSITIONS, action, _("quality report"))
    from_state, to_state = report.state, QUALITY_TRANSITIONS[action][1]
    report.state = to_state
    if to_state in QUALITY_WAITING_FOR_OWNER:
        if from_state not in QUALITY_WAITING_FOR_OWNER:  # a reopen: the owner's clock restarts
            report.due_date = add_working_days(timezone.localdate(), QUALITY_REPORT_DAYS)
            report.overdue_since = None
    else:
        report.due_date = None
        report.overdue_since = None
    report.closed_at = timezone.now() if to_state == R.CLOSED else None
    report._history_user = actor
    report._change_reason = f"{action}: {reason}"[:100] if reason else action
    report.save()
    return _report_step(report, action, from_state, to_state, actor, department, reason)


def _report_url(report):
    return f"/governance/quality/{report.pk}/"


def _tell_report(users, report, subject, body=""):
    values = {"id": report.pk, "res": report.resource.title}
    notify(
        recipients=users,
        subject=subject % values,
        body=body or subject % values,
        url=_report_url(report),
    )


def _owner_stewards(report):
    return _users([report.resource.owner_department_id], [Membership.Role.STEWARD])


def _reporters(report):
    roles = [Membership.Role.REQUESTER, Membership.Role.STEWARD]
    if report.reporting_department.kind == Department.Kind.OFFICE:
        roles.append(Membership.Role.REVIEWER)
    return _users([report.reporting_department_id], roles)


def _clean_lines(lines, release):
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


@transaction.atomic
def quality_report_file(*, actor, department, resource, kind, description, item="", lines=None):
    """A report on ``resource`` by ``department`` (a grantee whose grant has not ended, or the
    office). It concerns the newest release at the time of filing; the owner's stewards are told
    and have ``QUALITY_REPORT_DAYS`` working days to answer or resolve it."""
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
    description = _text(description)
    if not description:
        errors["description"] = _("Describe the problem: what is wrong, and what you expected.")
    item = _text(item)
    if item and not resource.data_items.filter(name=item).exists():
        errors["item"] = _("%(title)s has no data item %(name)s.") % {
            "title": resource.title,
            "name": item,
        }
    if errors:
        raise ValidationError(errors)
    release = Release.objects.filter(resource=resource).order_by("-sequence").first()
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
    report._history_user = actor
    report._change_reason = "file"
    report.save()
    _report_step(report, "file", R.OPEN, R.OPEN, actor, department, "")
    _tell_report(
        _owner_stewards(report),
        report,
        _("Quality report #%(id)d on %(res)s"),
        _("%(dept)s reports a problem (%(kind)s) with %(res)s. Answer within %(n)d working days.")
        % {
            "dept": department.code,
            "kind": report.get_kind_display().lower(),
            "res": resource.title,
            "n": QUALITY_REPORT_DAYS,
        },
    )
    return report


def _owner_acting(actor, report):
    if not can_answer_quality_report(actor, report):
        raise PermissionDenied(
            _("Only a data steward of %(dept)s, the owner, can answer this report.")
            % {"dept": report.resource.owner_department.code}
        )
    return report.resource.owner_department


def _reporter_acting(actor, report):
    if not can_follow_up_quality_report(actor, report):
        raise PermissionDenied(
            _("Only %(dept)s, which filed this report, can confirm or reopen it.")
            % {"dept": report.reporting_department.code}
        )
    return report.reporting_department


@transaction.atomic
def quality_report_acknowledge(*, actor, report, reason=""):
    """Open → acknowledged: the owner has seen the report and is on it (deadline unchanged)."""
    report = _report_locked(report)
    department = _owner_acting(actor, report)
    _report_move(report, "acknowledge", actor, department, _text(reason))
    _tell_report(_reporters(report), report, _("Quality report #%(id)d was acknowledged"))
    return report


@transaction.atomic
def quality_report_answer(*, actor, report, reason):
    """Open/acknowledged → answered: the owner explains (for example the value is right)
    without a correction; the reporter confirms or reopens."""
    reason = _require_reason(reason, _("the answer"))
    report = _report_locked(report)
    department = _owner_acting(actor, report)
    report.answer = reason
    _report_move(report, "answer", actor, department, reason)
    _tell_report(_reporters(report), report, _("Quality report #%(id)d was answered"), reason)
    return report


@transaction.atomic
def quality_report_resolve(*, actor, report, reason, release=None):
    """→ resolved: the owner corrected the data, optionally naming the correcting release (a
    release of the resource newer than the one reported on); the reporter confirms or reopens."""
    reason = _require_reason(reason, _("the resolution"))
    report = _report_locked(report)
    department = _owner_acting(actor, report)
    _check_state(report, QUALITY_TRANSITIONS, "resolve", _("quality report"))
    if release is not None:
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
    report.answer = reason
    report.resolution_release = release
    _report_move(report, "resolve", actor, department, reason)
    body = reason
    if release is not None:
        body = _("%(reason)s\nCorrected in release %(n)d.") % {
            "reason": reason,
            "n": release.sequence,
        }
    _tell_report(_reporters(report), report, _("Quality report #%(id)d was resolved"), body)
    return report


@transaction.atomic
def quality_report_confirm(*, actor, report, reason=""):
    """Answered/resolved → closed, by the reporting department."""
    report = _report_locked(report)
    department = _reporter_acting(actor, report)
    _report_move(report, "confirm", actor, department, _text(reason))
    _tell_report(_owner_stewards(report), report, _("Quality report #%(id)d was closed"))
    return report


@transaction.atomic
def quality_report_reopen(*, actor, report, reason):
    """Answered/resolved → open, by the reporting department (reason required); the owner has a
    new deadline of ``QUALITY_REPORT_DAYS`` working days."""
    reason = _require_reason(reason, _("reopening the report"))
    report = _report_locked(report)
    department = _reporter_acting(actor, report)
    _report_move(report, "reopen", actor, department, reason)
    _tell_report(_owner_stewards(report), report, _("Quality report #%(id)d was reopened"), reason)
    return report


def _mark_overdue(model, states, *, today, recipients, subject, url):
    """Flag rows in ``states`` past their due date once (conditional UPDATE) and tell
    ``recipients(row)`` once per row and due date."""
    late = model.objects.filter(
        state__in=states, due_date__lt=today, overdue_since__isnull=True
    ).order_by("id")
    flagged = 0
    for row in late:
        with transaction.atomic():
            updated = model.objects.filter(
                pk=row.pk, state=row.state, due_date=row.due_date, overdue_since__isnull=True
            ).update(overdue_since=timezone.now())
            if not updated:
                continue
            text = subject % {"id": row.pk, "due": row.due_date}
            notify(
                recipients=recipients(row),
                subject=text,
                body=text,
                url=url(row),
                key=f"{model._meta.model_name}:{row.pk}:overdue:{row.due_date}",
            )
            flagged += 1
    return flagged


def quality_reports_mark_overdue(*, today=None):
    """Flag reports the owner has not answered by their due date; tell its stewards and the
    office once per report and deadline."""
    return _mark_overdue(
        QualityReport,
        QUALITY_WAITING_FOR_OWNER,
        today=today or timezone.localdate(),
        recipients=lambda report: (
            list(_users([report.resource.owner_department_id], [Membership.Role.STEWARD]))
            + list(_office_reviewers())
        ),
        subject=_("Quality report #%(id)d is overdue (due %(due)s)"),
        url=_report_url,
    )


# --- freshness ------------------------------------------------------------------------------


# --- the demand list ------------------------------------------------------------------------
