"""Reads for data-sharing agreements: which ones wait for a signature, and whose."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from departments.permissions import department_ids_with_role
from standards.agreements import ENDED, SIGNING_ROLES
from standards.models import Agreement, AgreementSignature

AnyUser = AbstractBaseUser | AnonymousUser
Role = AgreementSignature.Role
_JOINS = (
    "grant__grantee_department",
    "grant__resource__owner_department",
)


def _signed(role: str) -> Exists:
    return Exists(AgreementSignature.objects.filter(agreement=OuterRef("pk"), role=role))


def _open_agreements() -> QuerySet[Agreement]:
    return (
        Agreement.objects.filter(signed_at__isnull=True)
        .exclude(grant__status__in=ENDED)
        .select_related(*_JOINS)
        .order_by("generated_at", "id")
    )


def _role_departments(user: AnyUser) -> dict[str, frozenset[int]]:
    """For each signing role, the departments the user may sign for in it."""
    return {
        role: department_ids_with_role(user, membership_role)
        for role, membership_role in SIGNING_ROLES.items()
    }


def agreements_awaiting_signature(user: AnyUser) -> QuerySet[Agreement]:
    """Unsigned agreements of live grants that the user may sign now: a side their department
    signs for (``agreement_sign``'s rule: stewards of the owner as the provider, requesters of
    the grantee as the recipient) that nobody has signed yet, and not one the user signed
    already for the other side (a person never signs both)."""
    roles = _role_departments(user)
    provider, recipient = roles[Role.PROVIDER], roles[Role.RECIPIENT]
    if not (provider or recipient):
        return Agreement.objects.none()
    mine = Q(Q(grant__resource__owner_department_id__in=provider), ~_signed(Role.PROVIDER)) | Q(
        Q(grant__grantee_department_id__in=recipient), ~_signed(Role.RECIPIENT)
    )
    signed_by_me = Exists(
        AgreementSignature.objects.filter(agreement=OuterRef("pk"), signer_id=user.pk)
    )
    return _open_agreements().filter(mine).exclude(signed_by_me)


def agreements_awaiting_other_side(user: AnyUser) -> QuerySet[Agreement]:
    """Unsigned agreements of live grants that a department of the user has signed, waiting for
    the other department's signature; each annotated ``provider_signed`` (which side is in)."""
    mine = frozenset().union(*_role_departments(user).values())
    if not mine:
        return Agreement.objects.none()
    ours = Exists(
        AgreementSignature.objects.filter(agreement=OuterRef("pk"), department_id__in=mine)
    )
    return (
        _open_agreements()
        .filter(ours)
        .exclude(pk__in=agreements_awaiting_signature(user).values("pk"))
        .annotate(provider_signed=_signed(Role.PROVIDER))
    )
