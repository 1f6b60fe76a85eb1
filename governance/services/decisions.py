"""The decision of each level of a dispute: the parties' agreement (1), the office's decision (2)
and the supervising authority's final decision, recorded by an office reviewer (3).

Each is one transition of ``governance.services.disputes.DISPUTES``, taken the same way as the
parties' steps. The decision is validated before anything changes. It may order a grant
suspended or revoked: that runs through ``rights.services`` with the decider as actor, so its
own rules apply, and a refusal there refuses the whole decision.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from departments.models import Department, Membership
from departments.permissions import (
    can_decide_dispute,
    can_record_authority_decision,
    department_ids_with_role,
    office_department_ids,
)
from governance.models import Dispute, DisputeDecision
from governance.services.disputes import (
    DISPUTES,
    acting_party,
    locked,
    move,
    party_members,
    record,
    tell,
)
from ledger.services import text_sha256
from notifications.services import Localized
from rights import services as grant_services

Outcome = DisputeDecision.Outcome
Order = DisputeDecision.Order

# Outcomes and orders each level may record.
SETTLE_ORDERS = frozenset({Order.NONE, Order.CORRECT_DATA})
DECISION_OUTCOMES = frozenset({Outcome.UPHELD, Outcome.PARTLY_UPHELD, Outcome.DISMISSED})
ALL_ORDERS = frozenset(Order.values)
GRANT_ORDERS: dict[str, Callable[..., Any]] = {
    Order.SUSPEND_GRANT: grant_services.grant_suspend,
    Order.REVOKE_GRANT: grant_services.grant_revoke,
}


def _stripped(data: Mapping[str, Any], key: str) -> str:
    return (data.get(key) or "").strip()


def _decision(
    dispute: Dispute,
    actor: Any,
    data: Mapping[str, Any],
    *,
    outcomes: frozenset[str],
    orders: frozenset[str],
    responsible_required: bool,
    authority_required: bool = False,
) -> DisputeDecision:
    """The validated decision, not saved yet: checked before anything changes."""
    outcome: str = data.get("outcome") or ""
    order = data.get("order") or Order.NONE
    errors = {}
    reasons = _stripped(data, "reasons")
    if not reasons:
        errors["reasons"] = _("Give the reasons for the decision.")
    if outcome not in outcomes:
        errors["outcome"] = _("Choose the outcome: %(o)s.") % {
            "o": ", ".join(str(Outcome(o).label).lower() for o in sorted(outcomes))
        }
    responsible: Department | None = data.get("responsible_department")
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
    order_text = _stripped(data, "order_text")
    if order == Order.CORRECT_DATA and not order_text:
        errors["order_text"] = _("Say which data is to be corrected, and how.")
    if authority_required and not _stripped(data, "authority"):
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
        authority=_stripped(data, "authority"),
        authority_reference=_stripped(data, "authority_reference"),
        decided_by=actor,
    )


def _decide(
    dispute: Dispute,
    action: str,
    actor: Any,
    department: Department | None,
    data: Mapping[str, Any],
    *,
    outcomes: frozenset[str],
    orders: frozenset[str],
    responsible_required: bool,
    authority_required: bool = False,
) -> DisputeDecision:
    """One decision step: check it, move, store it, record the ledger entry, run the order."""
    DISPUTES.check(dispute, action)
    decision = _decision(
        dispute,
        actor,
        data,
        outcomes=outcomes,
        orders=orders,
        responsible_required=responsible_required,
        authority_required=authority_required,
    )
    step = move(dispute, action, actor, department, decision.reasons)
    decision.step, decision.level = step, step.level
    decision._history_user = actor  # type: ignore[attr-defined]
    decision.save()
    responsible = decision.responsible_department
    record(
        dispute,
        step,
        hashes={"order_sha256": text_sha256(decision.order_text)} if decision.order_text else None,
        detail={
            "outcome": decision.outcome,
            "responsible": responsible.code if responsible else None,
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
    values = {
        "outcome": Outcome(decision.outcome).label,
        "reasons": decision.reasons,
        "order": Order(decision.order).label,
        "text": decision.order_text,
    }
    if decision.order == Order.NONE:
        body = Localized(gettext_noop("Decision: %(outcome)s\n\n%(reasons)s"), values)
    elif decision.order_text:
        body = Localized(
            gettext_noop("Decision: %(outcome)s\n\n%(reasons)s\n\nOrder: %(order)s: %(text)s"),
            values,
        )
    else:
        body = Localized(
            gettext_noop("Decision: %(outcome)s\n\n%(reasons)s\n\nOrder: %(order)s"), values
        )
    tell(
        party_members(dispute),
        dispute,
        gettext_noop("Dispute #%(id)d on %(res)s: decision recorded"),
        body,
    )
    return decision


@transaction.atomic
def dispute_settle(
    *, actor: Any, dispute: Dispute, outcome: str = Outcome.AGREED, reasons: str, **data: Any
) -> Dispute:
    """Negotiation → settled: a party records the agreement (what was agreed, optionally the
    party held responsible and a data correction agreed on)."""
    dispute = locked(dispute)
    department = acting_party(actor, dispute)
    _decide(
        dispute,
        "settle",
        actor,
        department,
        {**data, "outcome": outcome, "reasons": reasons},
        outcomes=frozenset({Outcome.AGREED}),
        orders=SETTLE_ORDERS,
        responsible_required=False,
    )
    return dispute


def _office_department(actor: Any) -> Department | None:
    """The office the actor reviews for (the first by code if several)."""
    ids = department_ids_with_role(actor, Membership.Role.REVIEWER) & office_department_ids()
    return Department.objects.filter(pk__in=ids).order_by("code").first()


@transaction.atomic
def dispute_decide(*, actor: Any, dispute: Dispute, **data: Any) -> Dispute:
    """Office review → decided (level 2) by an office reviewer from neither party.

    ``data``: ``outcome``, ``reasons``, ``responsible_department`` (a party), ``order`` and
    ``order_text``. A grant order runs through ``grant_suspend`` / ``grant_revoke``.
    """
    dispute = locked(dispute)
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
        orders=ALL_ORDERS,
        responsible_required=True,
    )
    return dispute


@transaction.atomic
def dispute_record_final(*, actor: Any, dispute: Dispute, **data: Any) -> Dispute:
    """Authority review → closed: an office reviewer records the supervising authority's final
    decision (its name and reference too) with the same fields as the office's decision."""
    dispute = locked(dispute)
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
        orders=ALL_ORDERS,
        responsible_required=True,
        authority_required=True,
    )
    return dispute
