"""Reads for disputes and end-of-use attestations: permission-filtered querysets with their joins
already chosen. Nobody outside the matter sees it at all (404, not 403)."""

from django.db.models import F, Q
from django.shortcuts import get_object_or_404

from rights.models import Attestation, Dispute, Membership
from rights.permissions import (
    department_ids,
    department_ids_with_role,
    is_office_member,
    office_department_ids,
)

_DISPUTE_JOINS = (
    "raised_by_department",
    "respondent_department",
    "raised_by",
    "resource__owner_department",
    "resource__management_right_holder",
)
_ATTESTATION_JOINS = (
    "grant__grantee_department",
    "grant__resource__owner_department",
    "grant__resource__management_right_holder",
    "attested_by",
)


def disputes_visible_to(user):
    """The two parties, the resource's owner and management-right holder, and the office."""
    if is_office_member(user):
        return Dispute.objects.select_related(*_DISPUTE_JOINS)
    mine = department_ids(user)
    return Dispute.objects.filter(
        Q(raised_by_department_id__in=mine)
        | Q(respondent_department_id__in=mine)
        | Q(resource__owner_department_id__in=mine)
        | Q(resource__management_right_holder_id__in=mine)
    ).select_related(*_DISPUTE_JOINS)


def dispute_for_user(user, pk):
    return get_object_or_404(disputes_visible_to(user), pk=pk)


def department_disputes(user):
    """'My department's disputes': those the user's departments raised or answer, newest first."""
    mine = department_ids(user)
    return (
        Dispute.objects.filter(
            Q(raised_by_department_id__in=mine) | Q(respondent_department_id__in=mine)
        )
        .select_related(*_DISPUTE_JOINS)
        .order_by("-created_at", "-id")
    )


def dispute_office_queue(user):
    """Escalated disputes waiting for the office (to decide, or to record the authority's
    decision), earliest due first; empty for anyone but an office reviewer."""
    if not department_ids_with_role(user, Membership.Role.REVIEWER) & office_department_ids():
        return Dispute.objects.none()
    return (
        Dispute.objects.filter(
            state__in=[Dispute.State.OFFICE_REVIEW, Dispute.State.AUTHORITY_REVIEW]
        )
        .select_related(*_DISPUTE_JOINS)
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id")
    )


def dispute_timeline(dispute):
    return dispute.steps.select_related("actor", "department").order_by("at", "id")


def dispute_decisions(dispute):
    return dispute.decisions.select_related(
        "responsible_department", "decided_by", "step"
    ).order_by("level", "id")


def attestations_visible_to(user):
    """The grantee, the owner, the management-right holder and the office."""
    if is_office_member(user):
        return Attestation.objects.select_related(*_ATTESTATION_JOINS)
    mine = department_ids(user)
    return Attestation.objects.filter(
        Q(grant__grantee_department_id__in=mine)
        | Q(grant__resource__owner_department_id__in=mine)
        | Q(grant__resource__management_right_holder_id__in=mine)
    ).select_related(*_ATTESTATION_JOINS)


def attestation_for_user(user, pk):
    return get_object_or_404(attestations_visible_to(user), pk=pk)


def department_attestations(user):
    """What the user's departments must attest, or watch being attested: pending first,
    overdue first among them, then by due date."""
    return attestations_visible_to(user).order_by(
        "state", F("overdue_since").asc(nulls_last=True), "due_date", "-id"
    )
