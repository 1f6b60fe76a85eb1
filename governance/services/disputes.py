"""Disputes between departments: one function per transition (see STYLE.md).

Level 1 is negotiation between the two party departments (statements with evidence; either side
settles by agreement or escalates), level 2 a decision of the data management office, level 3 the
supervising authority's decision, which an office reviewer records as final. Every transition
locks the dispute, checks the actor and then the transition table, records a timeline step,
history and exactly one ledger entry (free text only as its SHA-256) in the same transaction, and
notifies after commit. A decision may order a grant suspended or revoked: that runs through
``rights.services`` with the decider as actor, so its own rules apply, and a refusal there refuses
the whole decision. A refused transition changes nothing.
"""

import hashlib

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import FileExtensionValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import IllegalTransition
from departments.models import Department, Membership
from departments.permissions import (
    DISPUTE_ACTING_ROLES,
    acting_department_ids,
    can_act_as_dispute_party,
    can_decide_dispute,
    can_record_authority_decision,
    department_ids_with_role,
    dispute_party_department_id,
    office_department_ids,
)
from governance.models import Dispute, DisputeDecision, DisputeStep
from ledger.services import ledger_append, text_sha256
from notifications.services import notify
from rights import services as grant_services
from rights.models import Grant
from sharing.models import Delivery
from workdays.deadlines import add_working_days
from workdays.models import ReviewPolicy

S = Dispute.State
K = Dispute.SubjectKind
Outcome = DisputeDecision.Outcome
Order = DisputeDecision.Order

# action: (states it may start from, state it leads to); a statement keeps the state.
TRANSITIONS = {
    "statement": ({S.NEGOTIATION, S.OFFICE_REVIEW, S.AUTHORITY_REVIEW}, None),
    "settle": ({S.NEGOTIATION}, S.SETTLED),
    "escalate": ({S.NEGOTIATION}, S.OFFICE_REVIEW),
    # To the supervising authority: after the office's decision, or straight from negotiation
    # when the office is itself a party (it cannot decide its own dispute).
    "refer": ({S.NEGOTIATION, S.DECIDED}, S.AUTHORITY_REVIEW),
    "decide": ({S.OFFICE_REVIEW}, S.DECIDED),
    "record_final": ({S.AUTHORITY_REVIEW}, S.CLOSED),
    "withdraw": ({S.NEGOTIATION, S.OFFICE_REVIEW}, S.WITHDRAWN),
}
LEVEL = {
    S.NEGOTIATION: 1,
    S.SETTLED: 1,
    S.OFFICE_REVIEW: 2,
    S.DECIDED: 2,
    S.AUTHORITY_REVIEW: 3,
    S.CLOSED: 3,
}
OPEN_STATES = {S.NEGOTIATION, S.OFFICE_REVIEW, S.DECIDED, S.AUTHORITY_REVIEW}
NEGOTIATION_DAYS = 10  # working days the parties are given to agree (shown as the due date)
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "csv", "txt"]
ACTION_PAST = {
    "statement": gettext_lazy("given a statement"),
    "settle": gettext_lazy("settled"),
    "escalate": gettext_lazy("escalated"),
    "refer": gettext_lazy("referred to the supervising authority"),
    "decide": gettext_lazy("decided"),
    "record_final": gettext_lazy("closed with the authority's decision"),
    "withdraw": gettext_lazy("withdrawn"),
}
# Outcomes and orders each level may record.
SETTLE_ORDERS = {Order.NONE, Order.CORRECT_DATA}
DECISION_OUTCOMES = {Outcome.UPHELD, Outcome.PARTLY_UPHELD, Outcome.DISMISSED}
GRANT_ORDERS = {
    Order.SUSPEND_GRANT: grant_services.grant_suspend,
    Order.REVOKE_GRANT: grant_services.grant_revoke,
}


# --- the subject ----------------------------------------------------------------------------


def quality_report_parties(report_id):
    """``(resource, reporting department)`` of ``catalog.QualityReport`` ``report_id``.

    Looked up by name, so rights does not import catalog's governance models.
    """
    try:
        model = apps.get_model("governance", "QualityReport")
    except LookupError:
        raise ValidationError(
            {"quality_report": _("Quality reports are not available yet.")}
        ) from None
    report = (
        model.objects.select_related(
            "resource__owner_department",
            "resource__management_right_holder",
            "reporting_department",
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise ValidationError({"quality_report": _("There is no such quality report.")})
    return report.resource, report.reporting_department


_GRANT_JOINS = (
    "grantee_department",
    "resource__owner_department",
    "resource__management_right_holder",
)


def _subject(kind, *, grant, delivery, refusal, quality_report_id):
    """The disputed object's fields on the dispute, the using department (the claimant) and the
    department the claimant disputes with: whoever refused a request, else the owner."""
    # Re-read: the caller's instance may be older than the state it is judged by.
    if kind == K.DELIVERY and delivery is not None:
        delivery = Delivery.objects.select_related(*(f"grant__{j}" for j in _GRANT_JOINS)).get(
            pk=delivery.pk
        )
        grant = delivery.grant
    elif kind == K.GRANT and grant is not None:
        grant = Grant.objects.select_related(*_GRANT_JOINS).get(pk=grant.pk)
    if kind in (K.GRANT, K.DELIVERY) and grant is not None:
        resource = grant.resource
        fields = {"grant": grant, "delivery": delivery, "resource": resource}
        return fields, grant.grantee_department, resource.owner_department
    if kind == K.REFUSAL and refusal is not None:
        refusal = (
            type(refusal)
            .objects.select_related(
                "requesting_department",
                "resource__owner_department",
                "resource__management_right_holder",
            )
            .get(pk=refusal.pk)
        )
        if refusal.state != refusal.State.REJECTED:
            raise ValidationError(
                {
                    "request": _("Only a refusal can be disputed; request #%(id)d is %(s)s.")
                    % {"id": refusal.pk, "s": refusal.get_state_display().lower()}
                }
            )
        refused = refusal.steps.filter(action="reject").select_related("department").last()
        counterpart = (refused and refused.department) or refusal.resource.owner_department
        fields = {"request": refusal, "resource": refusal.resource}
        return fields, refusal.requesting_department, counterpart
    if kind == K.QUALITY_REPORT and quality_report_id is not None:
        resource, reporter = quality_report_parties(quality_report_id)
        fields = {"quality_report_id": quality_report_id, "resource": resource}
        return fields, reporter, resource.owner_department
    field = {K.REFUSAL: "request", K.QUALITY_REPORT: "quality_report"}.get(kind, kind)
    if kind not in K.values:
        raise ValidationError({"subject_kind": _("Choose what is disputed.")})
    raise ValidationError({field: _("Say which %(kind)s is disputed.") % {"kind": K(kind).label}})


def _required(text, field, message):
    if not (text or "").strip():
        raise ValidationError({field: message})
    return text.strip()


# --- raising --------------------------------------------------------------------------------


@transaction.atomic
def dispute_raise(
    *,
    actor,
    kind,
    disputed,
    asked,
    grant=None,
    delivery=None,
    refusal=None,
    quality_report_id=None,
    department=None,
):
    """A party to the subject raises a dispute; it opens at level 1, negotiation.

    The raiser is a department involved in the subject (the grantee or requester, the owner, or
    the holder of the shared-management right); the respondent is the other side. One open
    dispute per subject and pair of departments.
    """
    fields, claimant, counterpart = _subject(
        kind, grant=grant, delivery=delivery, refusal=refusal, quality_report_id=quality_report_id
    )
    resource = fields["resource"]
    involved = {
        d.pk: d
        for d in (
            claimant,
            counterpart,
            resource.owner_department,
            resource.management_right_holder,
        )
        if d
    }
    acting = acting_department_ids(actor)
    mine = [d for pk, d in involved.items() if pk in acting]
    if department is not None and department.pk not in {d.pk for d in mine}:
        raise PermissionDenied(
            _("You do not act for %(dept)s in this matter.") % {"dept": department.code}
        )
    if department is None:
        if not mine:
            raise PermissionDenied(
                _("Only the departments involved in this %(kind)s can raise a dispute on it.")
                % {"kind": K(kind).label.lower()}
            )
        if len(mine) > 1:
            raise ValidationError(
                {
                    "department": _("You act for several departments here (%(codes)s); say which.")
                    % {"codes": ", ".join(sorted(d.code for d in mine))}
                }
            )
        department = mine[0]
    respondent = counterpart if department.pk == claimant.pk else claimant
    disputed = _required(disputed, "disputed", _("Say what is disputed."))
    asked = _required(asked, "asked", _("Say what you ask for."))
    subject_filter = {k: v for k, v in fields.items() if k != "resource"}
    already = (
        Dispute.objects.filter(
            subject_kind=kind,
            raised_by_department__in=[department, respondent],
            respondent_department__in=[department, respondent],
            state__in=OPEN_STATES,
            **subject_filter,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if already:
        raise ValidationError(
            _("Dispute #%(id)d on this is still open; add a statement there.") % {"id": already}
        )
    dispute = Dispute(
        subject_kind=kind,
        raised_by_department=department,
        respondent_department=respondent,
        raised_by=actor,
        disputed=disputed,
        asked=asked,
        due_date=add_working_days(timezone.localdate(), NEGOTIATION_DAYS),
        **fields,
    )
    dispute._history_user = actor
    dispute._change_reason = "raise"
    dispute.save()
    step = _step(dispute, "raise", S.NEGOTIATION, S.NEGOTIATION, actor, department, disputed)
    _record(dispute, step, hashes={"asked_sha256": text_sha256(asked)})
    _tell(
        _party_members(dispute, only=respondent.pk),
        dispute,
        _("Dispute #%(id)d raised by %(dept)s on %(res)s"),
        f"{disputed}\n\n{_('Asked')}: {asked}",
    )
    return dispute


# --- the timeline, the ledger and notifications ---------------------------------------------


def _locked(dispute):
    return (
        # Only the dispute row: the grant join is an outer join (a refusal has no grant), which
        # PostgreSQL cannot lock.
        Dispute.objects.select_for_update(of=("self",))
        .select_related(
            "raised_by_department",
            "respondent_department",
            "resource__owner_department",
            "resource__management_right_holder",
            "grant__grantee_department",
            "grant__resource",
        )
        .get(pk=dispute.pk)
    )


def _step(dispute, action, from_state, to_state, actor, department, text, evidence=None):
    step = DisputeStep(
        dispute=dispute,
        action=action,
        from_state=from_state,
        to_state=to_state,
        level=dispute.level,
        actor=actor,
        department=department,
        text=text,
    )
    if evidence:
        digest = hashlib.sha256()
        for chunk in evidence.chunks():
            digest.update(chunk)
        evidence.seek(0)
        step.evidence_sha256 = digest.hexdigest()
        step.evidence = evidence
    step.save()
    return step


def _record(dispute, step, *, hashes=None, detail=None):
    """The ledger entry of one step: ids, department codes and hashes, never the text."""
    resource = dispute.resource
    hashes = dict(hashes or {})
    if step.text:
        hashes["text_sha256"] = text_sha256(step.text)
    if step.evidence_sha256:
        hashes["evidence_sha256"] = step.evidence_sha256
    entry = ledger_append(
        event=f"dispute.{step.action}",
        actor=step.actor,
        departments=[
            dispute.raised_by_department,
            dispute.respondent_department,
            resource.owner_department,
            resource.management_right_holder,
            step.department,
        ],
        subject={
            "dispute": dispute.pk,
            "grant": dispute.grant_id,
            "delivery": dispute.delivery_id,
            "request": dispute.request_id,
            "quality_report": dispute.quality_report_id,
            "resource": dispute.resource_id,
        },
        hashes=hashes or None,
        detail={
            "from": step.from_state,
            "to": step.to_state,
            "level": step.level,
            **(detail or {}),
        },
    )
    DisputeStep.objects.filter(pk=step.pk).update(ledger_index=entry.index)
    step.ledger_index = entry.index
    return entry


def _party_members(dispute, only=None):
    ids = [only] if only else [dispute.raised_by_department_id, dispute.respondent_department_id]
    return (
        get_user_model()
        .objects.filter(
            memberships__department_id__in=ids,
            memberships__role__in=DISPUTE_ACTING_ROLES,
            is_active=True,
        )
        .distinct()
    )


def _office_reviewers(dispute):
    """Office reviewers, except members of a party department (they may not decide)."""
    return (
        get_user_model()
        .objects.filter(
            memberships__department__kind=Department.Kind.OFFICE,
            memberships__role=Membership.Role.REVIEWER,
            is_active=True,
        )
        .exclude(
            memberships__department_id__in=dispute.party_ids - office_department_ids(),
        )
        .distinct()
    )


def _tell(users, dispute, subject, body=""):
    values = {
        "id": dispute.pk,
        "res": dispute.resource.title,
        "dept": dispute.raised_by_department.code,
    }
    notify(
        recipients=users,
        subject=subject % values,
        body=body or subject % values,
        url=f"/disputes/{dispute.pk}/",
    )


# --- transitions ----------------------------------------------------------------------------


def _check_state(dispute, action):
    if dispute.state not in TRANSITIONS[action][0]:
        raise IllegalTransition(
            _("A dispute that is %(state)s cannot be %(action)s.")
            % {"state": dispute.get_state_display().lower(), "action": ACTION_PAST[action]}
        )


def _move(dispute, action, actor, department, text, evidence=None, due_date=None):
    _check_state(dispute, action)
    from_state = dispute.state
    to_state = TRANSITIONS[action][1] or from_state
    dispute.state = to_state
    dispute.level = LEVEL.get(to_state, dispute.level)
    if to_state != from_state:
        dispute.due_date = due_date
    dispute._history_user = actor
    dispute._change_reason = action
    dispute.save()
    return _step(dispute, action, from_state, to_state, actor, department, text, evidence)


def _party(actor, dispute):
    """The party department the actor acts for, or PermissionDenied."""
    if not can_act_as_dispute_party(actor, dispute):
        raise PermissionDenied(
            _("Only %(a)s and %(b)s, the parties, can do this.")
            % {"a": dispute.raised_by_department.code, "b": dispute.respondent_department.code}
        )
    department_id = dispute_party_department_id(actor, dispute)
    if department_id == dispute.raised_by_department_id:
        return dispute.raised_by_department
    return dispute.respondent_department


def _check_evidence(evidence):
    if not evidence:
        return
    FileExtensionValidator(EVIDENCE_EXTENSIONS)(evidence)
    limit = settings.REQUEST_DOCUMENT_MAX_BYTES
    if evidence.size > limit:
        raise ValidationError(
            {"evidence": _("The evidence file is larger than %(n)d MB.") % {"n": limit // 2**20}}
        )


@transaction.atomic
def dispute_statement(*, actor, dispute, text, evidence=None):
    """A party's statement, with an optional evidence file (stored with its SHA-256)."""
    text = _required(text, "text", _("Write the statement."))
    _check_evidence(evidence)
    dispute = _locked(dispute)
    department = _party(actor, dispute)
    step = _move(dispute, "statement", actor, department, text, evidence)
    _record(dispute, step)
    other = dispute.party_ids - {department.pk}
    _tell(
        _party_members(dispute, only=other.pop() if other else None),
        dispute,
        _("New statement in dispute #%(id)d on %(res)s"),
        text,
    )
    return dispute


def _decision(
    dispute, actor, data, *, outcomes, orders, responsible_required, authority_required=False
):
    """The validated decision, not saved yet: checked before anything changes."""
    outcome = data.get("outcome")
    order = data.get("order") or Order.NONE
    errors = {}
    reasons = (data.get("reasons") or "").strip()
    if not reasons:
        errors["reasons"] = _("Give the reasons for the decision.")
    if outcome not in outcomes:
        errors["outcome"] = _("Choose the outcome: %(o)s.") % {
            "o": ", ".join(str(Outcome(o).label).lower() for o in sorted(outcomes))
        }
    responsible = data.get("responsible_department")
    if responsible is not None and responsible.pk not in dispute.party_ids:
        errors["responsible_department"] = _("The party held responsible is %(a)s or %(b)s.") % {
            "a": dispute.raised_by_department.code,
            "b": dispute.respondent_department.code,
        }
    elif responsible is None and responsible_required:
        errors["responsible_department"] = _("Name the party held responsible.")
    if order not in orders:
        errors["order"] = _("This order cannot be given here.")
    elif order in GRANT_ORDERS and dispute.grant_id is None:
        errors["order"] = _("Only a dispute about a grant or a delivery can order this.")
    order_text = (data.get("order_text") or "").strip()
    if order == Order.CORRECT_DATA and not order_text:
        errors["order_text"] = _("Say which data is to be corrected, and how.")
    if authority_required and not (data.get("authority") or "").strip():
        errors["authority"] = _("Name the supervising authority that decided.")
    if errors:
        raise ValidationError(errors)
    return DisputeDecision(
        dispute=dispute,
        outcome=outcome,
        reasons=reasons,
        responsible_department=responsible,
        order=order,
        order_text=order_text,
        authority=(data.get("authority") or "").strip(),
        authority_reference=(data.get("authority_reference") or "").strip(),
        decided_by=actor,
    )


def _decide(dispute, action, actor, department, data, **rules):
    """One decision step: check it, move, store it, record the ledger entry, run the order."""
    _check_state(dispute, action)
    decision = _decision(dispute, actor, data, **rules)
    step = _move(dispute, action, actor, department, decision.reasons)
    decision.step, decision.level = step, step.level
    decision._history_user = actor
    decision.save()
    _record(
        dispute,
        step,
        hashes={"order_sha256": text_sha256(decision.order_text)} if decision.order_text else None,
        detail={
            "outcome": decision.outcome,
            "responsible": decision.responsible_department.code
            if decision.responsible_department
            else None,
            "order": decision.order,
        },
    )
    if decision.order in GRANT_ORDERS:
        GRANT_ORDERS[decision.order](
            actor=actor,
            grant=dispute.grant,
            reason=_("Ordered by the decision on dispute #%(id)d: %(reasons)s")
            % {"id": dispute.pk, "reasons": decision.reasons},
        )
    body = f"{decision.get_outcome_display()}\n\n{decision.reasons}"
    if decision.order != Order.NONE:
        body += f"\n\n{decision.get_order_display()}: {decision.order_text}".rstrip(": ")
    _tell(
        _party_members(dispute),
        dispute,
        _("Dispute #%(id)d on %(res)s: decision recorded"),
        body,
    )
    return decision


@transaction.atomic
def dispute_settle(*, actor, dispute, outcome=Outcome.AGREED, reasons, **data):
    """Negotiation → settled: a party records the agreement (what was agreed, optionally the
    party held responsible and a data correction agreed on)."""
    dispute = _locked(dispute)
    department = _party(actor, dispute)
    _decide(
        dispute,
        "settle",
        actor,
        department,
        {**data, "outcome": outcome, "reasons": reasons},
        outcomes={Outcome.AGREED},
        orders=SETTLE_ORDERS,
        responsible_required=False,
    )
    return dispute


def office_is_party(dispute):
    """The office cannot decide its own dispute: escalation then goes to the authority."""
    return bool(dispute.party_ids & office_department_ids())


@transaction.atomic
def dispute_escalate(*, actor, dispute, reason):
    """One level up, by a party: negotiation → the office (or straight to the supervising
    authority when the office is itself a party), the office's decision → the authority."""
    reason = _required(reason, "reason", _("Give the reason for escalating."))
    dispute = _locked(dispute)
    department = _party(actor, dispute)
    if dispute.state == S.DECIDED or office_is_party(dispute):
        step = _move(dispute, "refer", actor, department, reason)
    else:
        due = add_working_days(timezone.localdate(), ReviewPolicy.current().office_review_days)
        step = _move(dispute, "escalate", actor, department, reason, due_date=due)
    _record(dispute, step)
    subject = (
        _("Dispute #%(id)d on %(res)s is referred to the supervising authority")
        if step.action == "refer"
        else _("Dispute #%(id)d on %(res)s awaits the office's decision")
    )
    _tell(_office_reviewers(dispute), dispute, subject, reason)
    return dispute


def _office_department(actor):
    ids = department_ids_with_role(actor, Membership.Role.REVIEWER) & office_department_ids()
    return Department.objects.filter(pk__in=ids).order_by("code").first()


@transaction.atomic
def dispute_decide(*, actor, dispute, **data):
    """Office review → decided (level 2) by an office reviewer from neither party.

    ``data``: ``outcome``, ``reasons``, ``responsible_department`` (a party), ``order`` and
    ``order_text``. A grant order runs through ``grant_suspend`` / ``grant_revoke``.
    """
    dispute = _locked(dispute)
    if not can_decide_dispute(actor, dispute):
        raise PermissionDenied(
            _("Only a reviewer of the management office from neither party can decide.")
        )
    _decide(
        dispute,
        "decide",
        actor,
        _office_department(actor),
        data,
        outcomes=DECISION_OUTCOMES,
        orders=set(Order.values),
        responsible_required=True,
    )
    return dispute


@transaction.atomic
def dispute_record_final(*, actor, dispute, **data):
    """Authority review → closed: an office reviewer records the supervising authority's final
    decision (its name and reference too) with the same fields as the office's decision."""
    dispute = _locked(dispute)
    if not can_record_authority_decision(actor, dispute):
        raise PermissionDenied(
            _("Only a reviewer of the management office records the authority's decision.")
        )
    _decide(
        dispute,
        "record_final",
        actor,
        _office_department(actor),
        data,
        outcomes=DECISION_OUTCOMES,
        orders=set(Order.values),
        responsible_required=True,
        authority_required=True,
    )
    return dispute


@transaction.atomic
def dispute_withdraw(*, actor, dispute, reason=""):
    """Negotiation or office review → withdrawn, by the department that raised it."""
    dispute = _locked(dispute)
    if dispute.raised_by_department_id not in acting_department_ids(actor):
        raise PermissionDenied(
            _("Only %(dept)s, which raised the dispute, can withdraw it.")
            % {"dept": dispute.raised_by_department.code}
        )
    step = _move(dispute, "withdraw", actor, dispute.raised_by_department, (reason or "").strip())
    _record(dispute, step)
    _tell(
        _party_members(dispute, only=dispute.respondent_department_id),
        dispute,
        _("Dispute #%(id)d on %(res)s was withdrawn"),
    )
    return dispute
