"""Reads for grants: only the grantee, the owner, the management-right holder and the office."""

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from catalog.selectors import resource_ids_involving
from core.hooks import run_hooks
from departments.models import Membership
from departments.permissions import department_ids, department_ids_with_role, is_office_member
from rights.models import Attestation, Grant, GrantEvent

AnyUser = AbstractBaseUser | AnonymousUser
_JOINS = (
    "grantee_department",
    "resource__owner_department",
    "resource__management_right_holder",
    "request",
)


def grants_visible_to(user: AnyUser) -> QuerySet[Grant]:
    if is_office_member(user):
        return Grant.objects.select_related(*_JOINS)
    mine = department_ids(user)
    return Grant.objects.filter(
        Q(grantee_department_id__in=mine) | Q(resource_id__in=resource_ids_involving(mine))
    ).select_related(*_JOINS)


def grant_for_user(user: AnyUser, pk: int) -> Grant:
    return get_object_or_404(grants_visible_to(user), pk=pk)


def department_grants(user: AnyUser) -> QuerySet[Grant]:
    """'My department's grants': usage rights the user's departments hold."""
    return (
        Grant.objects.filter(grantee_department_id__in=department_ids(user))
        .select_related(*_JOINS)
        .order_by("-created_at", "-id")
    )


def grant_timeline(grant: Grant) -> QuerySet[GrantEvent]:
    """The grant's events (granted, suspended, resumed, revoked, expired), oldest first."""
    return grant.events.select_related("actor").order_by("at", "id")


_ATTESTATION_JOINS = (
    "grant__grantee_department",
    "grant__resource__owner_department",
    "grant__resource__management_right_holder",
    "attested_by",
)


def attestations_visible_to(user: AnyUser) -> QuerySet[Attestation]:
    """The grantee, the owner, the management-right holder and the office."""
    if is_office_member(user):
        return Attestation.objects.select_related(*_ATTESTATION_JOINS)
    mine = department_ids(user)
    return Attestation.objects.filter(
        Q(grant__grantee_department_id__in=mine)
        | Q(grant__resource_id__in=resource_ids_involving(mine))
    ).select_related(*_ATTESTATION_JOINS)


def attestation_for_user(user: AnyUser, pk: int) -> Attestation:
    return get_object_or_404(attestations_visible_to(user), pk=pk)


def department_attestations(user: AnyUser) -> QuerySet[Attestation]:
    """What the user's departments must attest, or watch being attested: pending first,
    overdue first among them, then by due date."""
    return attestations_visible_to(user).order_by(
        "state", F("overdue_since").asc(nulls_last=True), "due_date", "-id"
    )


def attestations_due(user: AnyUser) -> QuerySet[Attestation]:
    """End-of-use attestations the user must give: pending ones of grants their department held,
    where they are a requester (``can_attest_end_of_use``), overdue first, then by due date."""
    attesters = department_ids_with_role(user, Membership.Role.REQUESTER)
    if not attesters:
        return Attestation.objects.none()
    return (
        Attestation.objects.filter(
            state=Attestation.State.PENDING, grant__grantee_department_id__in=attesters
        )
        .select_related(*_ATTESTATION_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )


# --- "usable now": one rule for every data path (downloads, real-time, result-only, deliveries,
# the public register) ------------------------------------------------------------------------


def usable_grants(day: datetime.date | None = None) -> QuerySet[Grant]:
    """Grants that may be used on ``day`` (today by default): active, inside their period and,
    while ``GRANT_AGREEMENT_REQUIRED``, with their data-sharing agreement signed by both."""
    day = day or timezone.localdate()
    grants = Grant.objects.filter(
        status=Grant.Status.ACTIVE, valid_from__lte=day, valid_until__gte=day
    )
    if settings.GRANT_AGREEMENT_REQUIRED:
        grants = grants.filter(agreement_signed_at__isnull=False)
    return grants


def grant_unusable_because(grant: Grant, day: datetime.date | None = None) -> str | None:
    """Why ``grant`` may not be used on ``day`` ("the grant is suspended", ...), or None.

    The same rule as ``usable_grants``; callers put the phrase into their own sentence.
    """
    day = day or timezone.localdate()
    if grant.status != Grant.Status.ACTIVE:
        return _("the grant is %(s)s") % {"s": grant.get_status_display().lower()}
    if not grant.valid_from <= day <= grant.valid_until:
        return _("the grant is outside its validity period")
    if settings.GRANT_AGREEMENT_REQUIRED and grant.agreement_signed_at is None:
        return _("the grant's data-sharing agreement is not yet signed by both departments")
    return None


def grant_use_refusal(grant: Grant, day: datetime.date | None = None) -> str | None:
    """The sentence that tells a grantee's member why ``grant`` may not be used on ``day``
    (suspended, revoked, expired, not yet started, ended), or None when it may.

    The same rule as ``usable_grants`` and ``grant_unusable_because``, each case in words of
    its own so the person refused knows what happened and what to do.
    """
    day = day or timezone.localdate()
    if grant.status == Grant.Status.SUSPENDED:
        return _(
            "This grant is suspended: its data cannot be used until the holder of the "
            "shared-management right resumes it."
        )
    if grant.status == Grant.Status.REVOKED:
        return _("This grant was revoked: its data can no longer be used.")
    if grant.status == Grant.Status.EXPIRED:
        return _("This grant has expired: file a renewal request to use the data again.")
    if day < grant.valid_from:
        return _("This grant starts on %(date)s: its data cannot be used before then.") % {
            "date": date_format(grant.valid_from)
        }
    if day > grant.valid_until:
        return _("This grant ended on %(date)s: file a renewal request to use the data again.") % {
            "date": date_format(grant.valid_until)
        }
    if settings.GRANT_AGREEMENT_REQUIRED and grant.agreement_signed_at is None:
        # Who has still to sign is the standards app's to say (the agreement is its model).
        waiting = [
            name for names in run_hooks("grant_agreement_waiting", grant=grant) for name in names
        ]
        return _(
            "This grant's data-sharing agreement has not been signed by both departments yet "
            "(waiting for: %(who)s). Its data can be used once a data steward of the owning "
            "department and a requester of the grantee department have both signed it on the "
            "grant's page."
        ) % {"who": ", ".join(waiting) or _("both departments")}
    return None
