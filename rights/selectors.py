"""Reads for grants: only the grantee, the owner, the management-right holder and the office."""

from django.db.models import F, Q
from django.shortcuts import get_object_or_404

from departments.permissions import department_ids, is_office_member
from rights.models import Attestation, Grant

_JOINS = (
    "grantee_department",
    "resource__owner_department",
    "resource__management_right_holder",
    "request",
)


def grants_visible_to(user):
    if is_office_member(user):
        return Grant.objects.select_related(*_JOINS)
    mine = department_ids(user)
    return Grant.objects.filter(
        Q(grantee_department_id__in=mine)
        | Q(resource__owner_department_id__in=mine)
        | Q(resource__management_right_holder_id__in=mine)
    ).select_related(*_JOINS)


def grant_for_user(user, pk):
    return get_object_or_404(grants_visible_to(user), pk=pk)


def department_grants(user):
    """'My department's grants': usage rights the user's departments hold."""
    return (
        Grant.objects.filter(grantee_department_id__in=department_ids(user))
        .select_related(*_JOINS)
        .order_by("-created_at", "-id")
    )


def grant_timeline(grant):
    """The grant's events (granted, suspended, resumed, revoked, expired), oldest first."""
    return grant.events.select_related("actor").order_by("at", "id")


_ATTESTATION_JOINS = (
    "grant__grantee_department",
    "grant__resource__owner_department",
    "grant__resource__management_right_holder",
    "attested_by",
)


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
