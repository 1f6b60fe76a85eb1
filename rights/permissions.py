"""Who may do what: the one module that holds the rules.

Roles come from memberships; rights over objects come from django-guardian object permissions held
by department groups. A rule usually needs both: the department holds the right, and the person
holds the role that exercises it.
"""

from rights.models import Department, Membership

_CACHE_ATTR = "_govshare_roles"


def _roles(user):
    """``{role: {department_id, ...}}`` for the user, cached on the user object per request."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        for role, department_id in Membership.objects.filter(user=user).values_list(
            "role", "department_id"
        ):
            cached.setdefault(role, set()).add(department_id)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user):
    """Drop the cached roles (after memberships change during the same request or test)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def department_ids_with_role(user, role):
    return frozenset(_roles(user).get(role, ()))


def steward_departments(user):
    ids = department_ids_with_role(user, Membership.Role.STEWARD)
    return Department.objects.filter(pk__in=ids, is_active=True).order_by("code")


def is_steward_of(user, department_id):
    return department_id in department_ids_with_role(user, Membership.Role.STEWARD)


def can_manage_resource(user, resource, perm="catalog.change_resource"):
    """A steward of the owning department, whose department holds the object permission."""
    return is_steward_of(user, resource.owner_department_id) and user.has_perm(perm, resource)
