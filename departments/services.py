from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from departments.models import Department, Membership, Profile


def _group_name(code: str) -> str:
    return f"department:{code}"


@transaction.atomic
def department_create(*, code: str, name: str, kind: str = Department.Kind.ORDINARY) -> Department:
    """Create a department with its own auth group; refuses a code already in use."""
    department = Department(code=code, name=name, kind=kind)
    department.group = Group(name=_group_name(code))
    department.full_clean(exclude=["group"])
    if Group.objects.filter(name=department.group.name).exists():
        raise ValidationError(
            {"code": _("A group for department %(code)s already exists.") % {"code": code}}
        )
    department.group.save()
    department.save()
    return department


@transaction.atomic
def department_update(
    *, department: Department, name: str, kind: str, is_active: bool
) -> Department:
    department = Department.objects.select_for_update().get(pk=department.pk)
    department.name = name
    department.kind = kind
    department.is_active = is_active
    department.full_clean(exclude=["group"])
    department.save()
    return department


@transaction.atomic
def membership_grant(*, user: Any, department: Department, role: str) -> Membership:
    """Give ``user`` a role in ``department`` (idempotent) and put them in its group."""
    membership, _created = Membership.objects.get_or_create(
        user=user, department=department, role=role
    )
    user.groups.add(department.group)
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership) -> None:
    """Remove one role; the user leaves the department's group with their last role there."""
    user, department = membership.user, membership.department
    membership.delete()
    if not Membership.objects.filter(user=user, department=department).exists():
        user.groups.remove(department.group)


def profile_set_language(*, user: Any, language: str) -> Profile:
    """Remember the language a person chose (pages, emails and notifications); '' forgets it."""
    from django.conf import settings

    codes = {code for code, _name in settings.LANGUAGES}
    if language and language not in codes:
        raise ValidationError(
            {"language": _("Choose one of: %(codes)s.") % {"codes": ", ".join(sorted(codes))}}
        )
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"language": language})
    return profile
