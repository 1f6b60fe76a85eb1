"""The governance loop's write paths: quality reports, freshness and the demand list.

One function per transition (see STYLE.md and access_requests/services.py): lock the row, check
who may act (PermissionDenied, API 403) and the transition table (IllegalTransition, API 409),
change the row with history, write a timeline step and exactly one ledger entry in the same
transaction, and notify after commit. A refused step changes nothing.

Deadlines are in working days (weekends and the office's holiday calendar skipped):
``QUALITY_REPORT_DAYS`` for the owner to answer or resolve a report (again after a reopen),
``DEMAND_ANSWER_DAYS`` for the department a demand is routed to.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access_requests.deadlines import add_working_days
from audit.ledger import ledger_append, text_sha256
from catalog.models import (
    Demand,
    DemandStep,
    DemandSupporter,
    QualityReport,
    QualityReportStep,
    Release,
    Resource,
    ResourceFreshness,
)
from govshare.exceptions import IllegalTransition
from notifications.services import notify
from rights.models import Department, Membership
from rights.permissions import (
    can_answer_demand,
    can_answer_quality_report,
    can_follow_up_quality_report,
    can_route_demand,
    department_ids_with_role,
    department_may_report_quality,
    is_requester_for,
    office_department_ids,
    quality_reporter_department_ids,
)

QUALITY_REPORT_DAYS = 10  # working days for the owner to answer or resolve (and after a reopen)
DEMAND_ANSWER_DAYS = 10  # working days for the likely owner to answer a routed demand
LINES_MAX = 50  # example lines per report: enough to show a pattern, not a copy of the data
ITEMS_MAX = 50  # data items named in one demand
ITEM_MAX_LENGTH = 200

# How old the newest release may be before a published resource is flagged stale. Real-time and
# irregular resources have no cycle to miss.
CYCLE_DAYS = {
    Resource.UpdateCycle.DAILY: 1,
    Resource.UpdateCycle.WEEKLY: 7,
    Resource.UpdateCycle.MONTHLY: 31,
    Resource.UpdateCycle.QUARTERLY: 92,
    Resource.UpdateCycle.YEARLY: 366,
}

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

D = Demand.State
DEMAND_TRANSITIONS = {
    "route": ({D.SUBMITTED, D.ROUTED}, D.ROUTED),
    "answer": ({D.ROUTED}, D.ANSWERED),
    "decline": ({D.ROUTED}, D.DECLINED),
    "withdraw": ({D.SUBMITTED, D.ROUTED}, D.WITHDRAWN),
}
# Other departments may join a demand while it is still being worked on.
DEMAND_JOINABLE = {D.SUBMITTED, D.ROUTED}

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


def _freshness_ledger(resource, stale, newest, days):
    return ledger_append(
        event="resource.stale" if stale else "resource.fresh",
        departments=[resource.owner_department, resource.management_right_holder],
        subject={"resource": resource.pk},
        detail={
            "update_cycle": resource.update_cycle,
            "cycle_days": days,
            "newest_release_at": newest.isoformat() if newest else None,
        },
    )


def resources_flag_stale(*, now=None):
    """Flag published resources whose newest release (or, with none yet, their publication) is
    older than their update cycle, and clear the flag once a new release arrives or the resource
    leaves the cycle. Each change is one history row and one ledger entry; the stewards are told
    once per stale period. Returns ``(flagged, cleared)``."""
    now = now or timezone.now()
    candidates = (
        Resource.objects.filter(Q(status=Resource.Status.PUBLISHED) | Q(freshness__stale=True))
        .select_related("owner_department", "management_right_holder")
        .annotate(newest=Max("releases__created_at"))
        .order_by("id")
    )
    flagged = cleared = 0
    for resource in candidates:
        days = CYCLE_DAYS.get(resource.update_cycle)
        basis = resource.newest or resource.published_at
        stale = (
            resource.status == Resource.Status.PUBLISHED
            and days is not None
            and basis is not None
            and now - basis > datetime.timedelta(days=days)
        )
        with transaction.atomic():
            freshness, _created = ResourceFreshness.objects.select_for_update().get_or_create(
                resource=resource
            )
            if freshness.stale == stale:
                # Only the bookkeeping moves: no history row for "still the same".
                ResourceFreshness.objects.filter(pk=freshness.pk).update(
                    checked_at=now, newest_release_at=resource.newest
                )
                continue
            freshness.stale = stale
            freshness.stale_since = now if stale else None
            freshness.newest_release_at = resource.newest
            freshness.checked_at = now
            freshness._change_reason = "stale" if stale else "fresh"
            freshness.save()
            _freshness_ledger(resource, stale, resource.newest, days)
            if stale:
                flagged += 1
                _tell_stale(resource, basis, days)
            else:
                cleared += 1
    return flagged, cleared


def _tell_stale(resource, basis, days):
    values = {
        "res": resource.title,
        "cycle": resource.get_update_cycle_display().lower(),
        "date": timezone.localtime(basis).date().isoformat(),
        "n": days,
    }
    notify(
        recipients=_users([resource.owner_department_id], [Membership.Role.STEWARD]),
        subject=_("%(res)s is out of date") % values,
        body=_(
            "%(res)s is updated %(cycle)s, but its newest release dates from %(date)s (more than "
            "%(n)d days ago). Upload a new release."
        )
        % values,
        url=f"/catalog/{resource.pk}/",
        # Once per stale period: a new release (or first publication) starts a new one.
        key=f"resource:{resource.pk}:stale:{basis.isoformat()}",
    )


# --- the demand list ------------------------------------------------------------------------

DEMAND_TEXT_FIELDS = ("title", "description", "purpose", "legal_basis")


def _demand_locked(demand):
    return (
        Demand.objects.select_for_update(of=("self",))
        .select_related("requesting_department", "routed_to", "resource")
        .get(pk=demand.pk)
    )


def _supporter_departments(demand):
    return list(Department.objects.filter(demands_joined__demand=demand).order_by("code"))


def _demand_step(demand, action, from_state, to_state, actor, department, reason, **subject):
    step = DemandStep.objects.create(
        demand=demand,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        department=department,
        reason=reason,
    )
    if action == "file":
        hashes = {
            "description_sha256": text_sha256(demand.description),
            "purpose_sha256": text_sha256(demand.purpose),
        }
    else:
        hashes = {"reason_sha256": text_sha256(reason)} if reason else None
    entry = ledger_append(
        event=f"demand.{action}",
        actor=actor,
        departments=[
            demand.requesting_department,
            demand.routed_to,
            department,
            *_supporter_departments(demand),
        ],
        subject={"demand": demand.pk, "resource": demand.resource_id, **subject},
        hashes=hashes,
        detail={"from": from_state, "to": to_state},
    )
    step.ledger_index = entry.index
    step.save(update_fields=["ledger_index"])
    return step


def _demand_move(demand, action, actor, department, reason="", due_days=None):
    _check_state(demand, DEMAND_TRANSITIONS, action, _("demand"))
    from_state, to_state = demand.state, DEMAND_TRANSITIONS[action][1]
    demand.state = to_state
    demand.due_date = (
        add_working_days(timezone.localdate(), due_days) if due_days is not None else None
    )
    demand.overdue_since = None
    demand._history_user = actor
    demand._change_reason = f"{action}: {reason}"[:100] if reason else action
    demand.save()
    return _demand_step(demand, action, from_state, to_state, actor, department, reason)


def _demand_url(demand):
    return f"/governance/demands/{demand.pk}/"


def _tell_demand(users, demand, subject, body="", **extra):
    values = {"id": demand.pk, "title": demand.title, **extra}
    notify(
        recipients=users,
        subject=subject % values,
        body=body or subject % values,
        url=_demand_url(demand),
    )


def _demand_requesters(demand, with_supporters=False):
    ids = [demand.requesting_department_id]
    if with_supporters:
        ids += list(demand.supporters.values_list("department_id", flat=True))
    return _users(ids, [Membership.Role.REQUESTER])


def _search_text(title, description, items):
    return " ".join([title, description, *items]).lower()


def _clean_items(items):
    cleaned, errors = [], []
    for item in items or []:
        name = _text(item) if isinstance(item, str) else ""
        if not name:
            errors.append(_("Name each data item you need (one per line)."))
        elif len(name) > ITEM_MAX_LENGTH:
            errors.append(
                _("“%(name)s…” is longer than %(n)d characters.")
                % {"name": name[:40], "n": ITEM_MAX_LENGTH}
            )
        elif name not in cleaned:
            cleaned.append(name)
    if not cleaned and not errors:
        errors.append(_("Name at least one data item you need."))
    if len(cleaned) > ITEMS_MAX:
        errors.append(_("Name at most %(n)d data items.") % {"n": ITEMS_MAX})
    return cleaned, errors


@transaction.atomic
def demand_file(*, actor, department, data, items):
    """A demand by a requester of ``department`` for data the catalog lacks; the office's
    reviewers are told so they can route it to a likely owner."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can file its demands.") % {"dept": department.code}
        )
    values = {field: _text(data.get(field)) for field in DEMAND_TEXT_FIELDS}
    errors = {}
    messages = {
        "title": _("Give the demand a short title."),
        "description": _("Describe the data you need."),
        "purpose": _("State the purpose the data would be used for."),
        "legal_basis": _("Cite the legal basis for using the data."),
    }
    for field, message in messages.items():
        if not values[field]:
            errors[field] = message
    if len(values["title"]) > Demand._meta.get_field("title").max_length:
        errors["title"] = _("Keep the title to 200 characters.")
    cleaned, item_errors = _clean_items(items)
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise ValidationError(errors)
    demand = Demand(
        requesting_department=department,
        requested_by=actor,
        items=cleaned,
        search_text=_search_text(values["title"], values["description"], cleaned),
        **values,
    )
    demand._history_user = actor
    demand._change_reason = "file"
    demand.save()
    _demand_step(demand, "file", D.SUBMITTED, D.SUBMITTED, actor, department, "")
    _tell_demand(
        _office_reviewers(),
        demand,
        _("Demand #%(id)d waits for routing: %(title)s"),
        _("%(dept)s needs data the catalog lacks: %(title)s. Route it to a likely owner.")
        % {"dept": department.code, "title": demand.title},
    )
    return demand


def _office_acting(actor, demand):
    if not can_route_demand(actor, demand):
        raise PermissionDenied(
            _("Only a reviewer of the data management office routes demands, never their own.")
        )
    ids = department_ids_with_role(actor, Membership.Role.REVIEWER) & office_department_ids()
    return Department.objects.filter(pk__in=ids).order_by("code").first()


@transaction.atomic
def demand_route(*, actor, demand, department, reason=""):
    """Submitted/routed → routed to ``department``, the likely owner, whose stewards have
    ``DEMAND_ANSWER_DAYS`` working days to answer; routing again moves it elsewhere."""
    demand = _demand_locked(demand)
    office = _office_acting(actor, demand)
    _check_state(demand, DEMAND_TRANSITIONS, "route", _("demand"))
    if department is None or not department.is_active:
        raise ValidationError({"department": _("Choose an active department to route to.")})
    if department.pk == demand.requesting_department_id:
        raise ValidationError(
            {"department": _("The demand cannot be routed to the department that filed it.")}
        )
    if demand.state == D.ROUTED and demand.routed_to_id == department.pk:
        raise ValidationError(
            {"department": _("The demand is already routed to %(d)s.") % {"d": department.code}}
        )
    demand.routed_to = department
    _demand_move(demand, "route", actor, office, _text(reason), due_days=DEMAND_ANSWER_DAYS)
    _tell_demand(
        _users([department.pk], [Membership.Role.STEWARD]),
        demand,
        _("Demand #%(id)d is routed to your department: %(title)s"),
        _(
            "Answer with a resource in the catalog, or decline with reasons, within %(n)d working "
            "days."
        )
        % {"n": DEMAND_ANSWER_DAYS},
    )
    _tell_demand(
        _demand_requesters(demand),
        demand,
        _("Demand #%(id)d is routed to %(dept)s"),
        dept=department.code,
    )
    return demand


def _owner_for_demand(actor, demand):
    if not can_answer_demand(actor, demand):
        raise PermissionDenied(
            _("Only a data steward of the department the demand is routed to can answer it.")
        )
    return demand.routed_to


@transaction.atomic
def demand_answer(*, actor, demand, resource, reason=""):
    """Routed → answered with ``resource``, a published entry of the department the demand is
    routed to (new or existing); the filer and the departments that joined are told."""
    demand = _demand_locked(demand)
    department = _owner_for_demand(actor, demand)
    _check_state(demand, DEMAND_TRANSITIONS, "answer", _("demand"))
    if resource is None or resource.owner_department_id != department.pk:
        raise ValidationError(
            {
                "resource": _("Answer with a resource your department %(d)s owns.")
                % {"d": department.code}
            }
        )
    if resource.status != Resource.Status.PUBLISHED:
        raise ValidationError(
            {
                "resource": _("Publish %(t)s first: the requester must be able to see it.")
                % {"t": resource.title}
            }
        )
    demand.resource = resource
    demand.answer = _text(reason)
    _demand_move(demand, "answer", actor, department, demand.answer)
    _tell_demand(
        _demand_requesters(demand, with_supporters=True),
        demand,
        _("Demand #%(id)d is answered: %(title)s"),
        _("%(dept)s answers with %(res)s (%(ident)s). Request it from the catalog.")
        % {"dept": department.code, "res": resource.title, "ident": resource.identifier},
    )
    return demand


@transaction.atomic
def demand_decline(*, actor, demand, reason):
    """Routed → declined with reasons, by the department it is routed to."""
    reason = _require_reason(reason, _("declining the demand"))
    demand = _demand_locked(demand)
    department = _owner_for_demand(actor, demand)
    demand.answer = reason
    _demand_move(demand, "decline", actor, department, reason)
    _tell_demand(
        _demand_requesters(demand, with_supporters=True),
        demand,
        _("Demand #%(id)d was declined: %(title)s"),
        reason,
    )
    return demand


@transaction.atomic
def demand_withdraw(*, actor, demand, reason=""):
    """Submitted/routed → withdrawn, by a requester of the filing department."""
    demand = _demand_locked(demand)
    if not is_requester_for(actor, demand.requesting_department_id):
        raise PermissionDenied(
            _("Only a requester of %(dept)s, which filed the demand, can withdraw it.")
            % {"dept": demand.requesting_department.code}
        )
    routed_to = demand.routed_to_id
    _demand_move(demand, "withdraw", actor, demand.requesting_department, _text(reason))
    if routed_to:
        _tell_demand(
            _users([routed_to], [Membership.Role.STEWARD]),
            demand,
            _("Demand #%(id)d was withdrawn: %(title)s"),
        )
    return demand


@transaction.atomic
def demand_join(*, actor, demand, department, purpose=""):
    """``department`` joins an open demand instead of filing the same one twice; its requesters
    are told of the answer too. The demand's state does not change."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can join demands for it.") % {"dept": department.code}
        )
    demand = _demand_locked(demand)
    if department.pk == demand.requesting_department_id:
        raise ValidationError({"department": _("Your department filed this demand.")})
    if department.pk == demand.routed_to_id:
        raise ValidationError(
            {"department": _("The demand is routed to your department: answer it instead.")}
        )
    if demand.supporters.filter(department=department).exists():
        raise ValidationError(
            {"department": _("%(d)s has already joined this demand.") % {"d": department.code}}
        )
    if demand.state not in DEMAND_JOINABLE:
        raise IllegalTransition(
            _("A demand that is %(state)s cannot be joined; file a new one if you still need it.")
            % {"state": demand.get_state_display().lower()}
        )
    supporter = DemandSupporter(
        demand=demand, department=department, joined_by=actor, purpose=_text(purpose)
    )
    supporter._history_user = actor
    supporter.save()
    # A history row on the demand too: who supports it is part of what it is.
    demand._history_user = actor
    demand._change_reason = f"join: {department.code}"
    demand.save(update_fields=["updated_at"])
    _demand_step(demand, "join", demand.state, demand.state, actor, department, supporter.purpose)
    _tell_demand(
        _demand_requesters(demand),
        demand,
        _("%(dept)s joined demand #%(id)d"),
        dept=department.code,
    )
    return supporter


def demands_mark_overdue(*, today=None):
    """Flag routed demands not answered by their due date; tell the likely owner's stewards and
    the office once per demand and deadline."""
    return _mark_overdue(
        Demand,
        {D.ROUTED},
        today=today or timezone.localdate(),
        recipients=lambda demand: (
            list(_users([demand.routed_to_id], [Membership.Role.STEWARD]))
            + list(_office_reviewers())
        ),
        subject=_("Demand #%(id)d is overdue (due %(due)s)"),
        url=_demand_url,
    )
