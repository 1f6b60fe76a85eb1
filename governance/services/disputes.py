"""Disputes between departments: the state machine, raising one, and the parties' steps.

Level 1 is negotiation between the two party departments (statements with evidence; either side
settles by agreement or escalates), level 2 a decision of the data management office, level 3 the
supervising authority's decision, which an office reviewer records as final (the decisions are in
``governance.services.decisions``). Every transition locks the dispute, checks the actor and then
the transition table (``DISPUTES``, through ``workflow.engine``), records a timeline step, history
and exactly one ledger entry (free text only as its SHA-256) in the same transaction, and notifies
after commit. A refused transition changes nothing.
"""

import datetime
import hashlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from access_requests.models import Request
from departments.models import Department
from departments.permissions import (
    DISPUTE_ACTING_ROLES,
    acting_department_ids,
    can_act_as_dispute_party,
    dispute_party_department_id,
    office_department_ids,
)
from departments.selectors import members_with_roles, office_reviewers
from governance.models import Dispute, DisputeStep
from governance.services.subjects import Subject, disputed_subject
from ledger.models import LedgerEntry
from ledger.services import text_sha256
from notifications.services import Localized, Text, notify
from rights.models import Grant
from sharing.models import Delivery
from workdays.deadlines import add_working_days
from workdays.models import ReviewPolicy
from workflow.engine import Workflow

S = Dispute.State
K = Dispute.SubjectKind

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
ACTION_PAST = {
    "statement": gettext_lazy("given a statement"),
    "settle": gettext_lazy("settled"),
    "escalate": gettext_lazy("escalated"),
    "refer": gettext_lazy("referred to the supervising authority"),
    "decide": gettext_lazy("decided"),
    "record_final": gettext_lazy("closed with the authority's decision"),
    "withdraw": gettext_lazy("withdrawn"),
}
DISPUTES = Workflow(
    model=Dispute,
    transitions=TRANSITIONS,
    noun=gettext_lazy("dispute"),
    past=ACTION_PAST,
    step_model=DisputeStep,
    step_link="dispute",
)
LEVEL: dict[str, int] = {
    S.NEGOTIATION: 1,
    S.SETTLED: 1,
    S.OFFICE_REVIEW: 2,
    S.DECIDED: 2,
    S.AUTHORITY_REVIEW: 3,
    S.CLOSED: 3,
}
OPEN_STATES = frozenset({S.NEGOTIATION, S.OFFICE_REVIEW, S.DECIDED, S.AUTHORITY_REVIEW})
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "csv", "txt"]


# --- the steps every transition takes (the decisions take them too) -------------------------


def locked(dispute: Dispute) -> Dispute:
    """The dispute re-read and locked (only its own row: the grant join is an outer join, since
    a refusal has no grant, and PostgreSQL cannot lock that)."""
    row: Dispute = DISPUTES.lock(
        dispute.pk,
        related=(
            "raised_by_department",
            "respondent_department",
            "resource__owner_department",
            "resource__management_right_holder",
            "grant__grantee_department",
            "grant__resource",
        ),
    )
    return row


def move(
    dispute: Dispute,
    action: str,
    actor: Any,
    department: Department | None,
    text: str,
    *,
    evidence: UploadedFile | None = None,
    due_date: datetime.date | None = None,
) -> DisputeStep:
    """One step through the engine: the level follows the state, and a new state gets its own
    due date (``due_date``, or none); the history's reason is the action alone."""
    DISPUTES.check(dispute, action)
    to_state = DISPUTES.target(action, dispute.state)
    dispute.level = LEVEL.get(to_state, dispute.level)
    if to_state != dispute.state:
        dispute.due_date = due_date
    step_fields: dict[str, Any] = {"level": dispute.level}
    if evidence:
        digest = hashlib.sha256()
        for chunk in evidence.chunks():
            digest.update(chunk)
        evidence.seek(0)
        step_fields.update(evidence=evidence, evidence_sha256=digest.hexdigest())
    step: DisputeStep = DISPUTES.move(
        dispute,
        action,
        actor=actor,
        department=department,
        reason=text,
        change_reason=action,
        **step_fields,
    )
    return step


def record(
    dispute: Dispute,
    step: DisputeStep,
    *,
    hashes: dict[str, str] | None = None,
    detail: dict[str, Any] | None = None,
) -> LedgerEntry:
    """The ledger entry of one step: ids, department codes and hashes, never the text."""
    resource = dispute.resource
    hashes = dict(hashes or {})
    if step.reason:
        hashes["text_sha256"] = text_sha256(step.reason)
    if step.evidence_sha256:
        hashes["evidence_sha256"] = step.evidence_sha256
    return DISPUTES.record(
        step,
        event=f"dispute.{step.action}",
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
        hashes=hashes,
        detail={
            "from": step.from_state,
            "to": step.to_state,
            "level": step.level,
            **(detail or {}),
        },
    )


def party_members(dispute: Dispute, only: int | None = None) -> Iterable[Any]:
    """The people acting for both parties, or for the party department ``only``."""
    ids = [only] if only else [dispute.raised_by_department_id, dispute.respondent_department_id]
    return members_with_roles(ids, DISPUTE_ACTING_ROLES)


def tell(users: Iterable[Any], dispute: Dispute, subject: str, body: Text = "") -> None:
    """Notify ``users`` (on commit); ``subject`` is a msgid (``gettext_noop``) that may name the
    dispute's ``id``, resource (``res``) and raising department (``dept``), worded in each
    recipient's language; a plain-text body (a statement, a reason) goes as written."""
    values = {
        "id": dispute.pk,
        "res": dispute.resource.title,
        "dept": dispute.raised_by_department.code,
    }
    notify(
        recipients=users,
        subject=Localized(subject, values),
        body=body or Localized(subject, values),
        url=dispute.get_absolute_url(),
    )


def acting_party(actor: Any, dispute: Dispute) -> Department:
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


def office_is_party(dispute: Dispute) -> bool:
    """The office cannot decide its own dispute: escalation then goes to the authority."""
    return bool(dispute.party_ids & office_department_ids())


# --- raising --------------------------------------------------------------------------------


def _required(text: str | None, field: str, message: str) -> str:
    stripped = (text or "").strip()
    if not stripped:
        raise ValidationError({field: message})
    return stripped


def _raiser(actor: Any, kind: str, subject: Subject, department: Department | None) -> Department:
    """The department the actor raises the dispute for: one involved in the subject (the
    claimant, the counterpart, the owner or the holder of the shared-management right)."""
    resource = subject.fields["resource"]
    candidates = (
        subject.claimant,
        subject.counterpart,
        resource.owner_department,
        resource.management_right_holder,
    )
    involved = {d.pk: d for d in candidates if d}
    acting = acting_department_ids(actor)
    mine = [d for pk, d in involved.items() if pk in acting]
    if department is not None:
        if department.pk not in {d.pk for d in mine}:
            raise PermissionDenied(
                _("You do not act for %(dept)s in this matter.") % {"dept": department.code}
            )
        return department
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
    return mine[0]


def _refuse_if_open(kind: str, subject: Subject, parties: list[Department]) -> None:
    """One open dispute per subject and pair of departments."""
    same_subject = {k: v for k, v in subject.fields.items() if k != "resource"}
    already = (
        Dispute.objects.filter(
            subject_kind=kind,
            raised_by_department__in=parties,
            respondent_department__in=parties,
            state__in=OPEN_STATES,
            **same_subject,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if already:
        raise ValidationError(
            _("Dispute #%(id)d on this is still open; add a statement there.") % {"id": already}
        )


@transaction.atomic
def dispute_raise(
    *,
    actor: Any,
    kind: str,
    disputed: str,
    asked: str,
    grant: Grant | None = None,
    delivery: Delivery | None = None,
    refusal: Request | None = None,
    quality_report_id: int | None = None,
    department: Department | None = None,
) -> Dispute:
    """A party to the subject raises a dispute; it opens at level 1, negotiation.

    The raiser is a department involved in the subject (the grantee or requester, the owner, or
    the holder of the shared-management right); the respondent is the other side. One open
    dispute per subject and pair of departments.
    """
    subject = disputed_subject(
        kind, grant=grant, delivery=delivery, refusal=refusal, quality_report_id=quality_report_id
    )
    department = _raiser(actor, kind, subject, department)
    claimant = subject.claimant
    respondent = subject.counterpart if department.pk == claimant.pk else claimant
    disputed = _required(disputed, "disputed", _("Say what is disputed."))
    asked = _required(asked, "asked", _("Say what you ask for."))
    _refuse_if_open(kind, subject, [department, respondent])
    dispute = Dispute(
        subject_kind=kind,
        raised_by_department=department,
        respondent_department=respondent,
        raised_by=actor,
        disputed=disputed,
        asked=asked,
        due_date=add_working_days(timezone.localdate(), settings.DISPUTE_NEGOTIATION_DAYS),
        **subject.fields,
    )
    dispute._history_user = actor  # type: ignore[attr-defined]
    dispute._change_reason = "raise"  # type: ignore[attr-defined]
    dispute.save()
    step = DISPUTES.step(
        dispute,
        "raise",
        S.NEGOTIATION,
        S.NEGOTIATION,
        actor=actor,
        department=department,
        reason=disputed,
        level=dispute.level,
    )
    record(dispute, step, hashes={"asked_sha256": text_sha256(asked)})
    tell(
        party_members(dispute, only=respondent.pk),
        dispute,
        gettext_noop("Dispute #%(id)d raised by %(dept)s on %(res)s"),
        Localized(
            gettext_noop("%(disputed)s\n\nAsked: %(asked)s"), {"disputed": disputed, "asked": asked}
        ),
    )
    return dispute


# --- the parties' steps ---------------------------------------------------------------------


def _check_evidence(evidence: UploadedFile | None) -> None:
    if not evidence:
        return
    FileExtensionValidator(EVIDENCE_EXTENSIONS)(evidence)
    limit = settings.REQUEST_DOCUMENT_MAX_BYTES
    if (evidence.size or 0) > limit:
        raise ValidationError(
            {"evidence": _("The evidence file is larger than %(n)d MB.") % {"n": limit // 2**20}}
        )


@transaction.atomic
def dispute_statement(
    *, actor: Any, dispute: Dispute, text: str, evidence: UploadedFile | None = None
) -> Dispute:
    """A party's statement, with an optional evidence file (stored with its SHA-256)."""
    text = _required(text, "text", _("Write the statement."))
    _check_evidence(evidence)
    dispute = locked(dispute)
    department = acting_party(actor, dispute)
    step = move(dispute, "statement", actor, department, text, evidence=evidence)
    record(dispute, step)
    other = dispute.party_ids - {department.pk}
    tell(
        party_members(dispute, only=other.pop() if other else None),
        dispute,
        gettext_noop("New statement in dispute #%(id)d on %(res)s"),
        text,
    )
    return dispute


@transaction.atomic
def dispute_escalate(*, actor: Any, dispute: Dispute, reason: str) -> Dispute:
    """One level up, by a party: negotiation → the office (or straight to the supervising
    authority when the office is itself a party), the office's decision → the authority."""
    reason = _required(reason, "reason", _("Give the reason for escalating."))
    dispute = locked(dispute)
    department = acting_party(actor, dispute)
    if dispute.state == S.DECIDED or office_is_party(dispute):
        step = move(dispute, "refer", actor, department, reason)
    else:
        due = add_working_days(timezone.localdate(), ReviewPolicy.current().office_review_days)
        step = move(dispute, "escalate", actor, department, reason, due_date=due)
    record(dispute, step)
    subject = (
        gettext_noop("Dispute #%(id)d on %(res)s is referred to the supervising authority")
        if step.action == "refer"
        else gettext_noop("Dispute #%(id)d on %(res)s awaits the office's decision")
    )
    # Office reviewers who are members of a party (other than the office) may not decide.
    parties = dispute.party_ids - office_department_ids()
    tell(office_reviewers(excluding_department_ids=parties), dispute, subject, reason)
    return dispute


@transaction.atomic
def dispute_withdraw(*, actor: Any, dispute: Dispute, reason: str = "") -> Dispute:
    """Negotiation or office review → withdrawn, by the department that raised it."""
    dispute = locked(dispute)
    if dispute.raised_by_department_id not in acting_department_ids(actor):
        raise PermissionDenied(
            _("Only %(dept)s, which raised the dispute, can withdraw it.")
            % {"dept": dispute.raised_by_department.code}
        )
    step = move(dispute, "withdraw", actor, dispute.raised_by_department, (reason or "").strip())
    record(dispute, step)
    tell(
        party_members(dispute, only=dispute.respondent_department_id),
        dispute,
        gettext_noop("Dispute #%(id)d on %(res)s was withdrawn"),
    )
    return dispute
