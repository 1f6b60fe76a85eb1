"""Reads for deliveries: permission-filtered querysets with their joins already chosen."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from departments.permissions import department_ids, is_office_reviewer
from rights.models import Grant
from sharing.models import Delivery

AnyUser = AbstractBaseUser | AnonymousUser
_JOINS = ("grant__resource", "grant__grantee_department")


def _failed() -> QuerySet[Delivery]:
    # A delivery refused because its grant ended stays failed for good: only live grants count.
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED, grant__status=Grant.Status.ACTIVE)
        .select_related(*_JOINS)
        .order_by("-created_at", "-id")
    )


def failed_deliveries_of_department_grants(user: AnyUser) -> QuerySet[Delivery]:
    """Failed deliveries under active grants the user's departments hold (shown on the grant's
    page), the most recent first."""
    mine = department_ids(user)
    if not mine:
        return Delivery.objects.none()
    return _failed().filter(grant__grantee_department_id__in=mine)


def failed_deliveries_to_retry(user: AnyUser) -> QuerySet[Delivery]:
    """Failed deliveries under active grants, for an office reviewer (the office retries them
    in admin: ``delivery_retry``); empty for anyone else."""
    if not is_office_reviewer(user):
        return Delivery.objects.none()
    return _failed()
