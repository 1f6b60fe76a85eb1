"""Who is told: the people who hold a role in a department, and the office's reviewers.

Every notification of the portal picks its recipients here, so "the office" means the same
people everywhere: active reviewers of active management-office departments.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from departments.models import Department, Membership


def members_with_roles(department_ids: Iterable[int], roles: Iterable[str]) -> QuerySet[Any]:
    """Active users holding one of ``roles`` in one of the departments."""
    return (
        get_user_model()
        .objects.filter(
            memberships__department_id__in=list(department_ids),
            memberships__role__in=list(roles),
            is_active=True,
        )
        .distinct()
    )


def office_reviewers(*, excluding_department_ids: Iterable[int] = ()) -> QuerySet[Any]:
    """Active reviewers of the active management offices, optionally without the members of
    some departments (the parties of a dispute, who may not decide it)."""
    users = get_user_model().objects.filter(
        memberships__department__kind=Department.Kind.OFFICE,
        memberships__department__is_active=True,
        memberships__role=Membership.Role.REVIEWER,
        is_active=True,
    )
    excluded = list(excluding_department_ids)
    if excluded:
        users = users.exclude(memberships__department_id__in=excluded)
    return users.distinct()


def auditors() -> QuerySet[Any]:
    """Active users holding the auditor role in an active department."""
    return (
        get_user_model()
        .objects.filter(
            memberships__department__is_active=True,
            memberships__role=Membership.Role.AUDITOR,
            is_active=True,
        )
        .distinct()
    )


def language_of(user: Any) -> str:
    """The language a person chose ('' when they chose none, or for a visitor)."""
    from departments.models import Profile

    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    found = Profile.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return found or ""
