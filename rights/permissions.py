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


def department_ids(user):
    """Every department in which the user holds any role."""
    return frozenset().union(*_roles(user).values()) if _roles(user) else frozenset()


def is_member_of(user, department_id):
    return department_id in department_ids(user)


def office_department_ids():
    return frozenset(
        Department.objects.filter(kind=Department.Kind.OFFICE, is_active=True).values_list(
            "pk", flat=True
        )
    )


def is_office_member(user):
    return bool(department_ids(user) & office_department_ids())


def is_requester_for(user, department_id):
    return department_id in department_ids_with_role(user, Membership.Role.REQUESTER)


def _holds_management_right(user, holder):
    """Reviewers of the holder decide; where the holder is not the office, its stewards too."""
    if holder.pk in department_ids_with_role(user, Membership.Role.REVIEWER):
        return True
    return holder.kind != Department.Kind.OFFICE and is_steward_of(user, holder.pk)


def can_review_as_owner(user, request):
    """A steward of the owning department, from outside the requesting department."""
    return is_steward_of(user, request.resource.owner_department_id) and not is_member_of(
        user, request.requesting_department_id
    )


def can_decide(user, request):
    """The holder of the shared-management right (the office on appeal), never the requester's
    own department (separation of duties)."""
    if is_member_of(user, request.requesting_department_id):
        return False
    if request.appealed:
        # An appeal is heard by someone else than whoever rejected the request.
        if request.steps.filter(action="reject", actor=user).exists():
            return False
        office = office_department_ids()
        reviewer_in = department_ids_with_role(user, Membership.Role.REVIEWER)
        return bool(office & reviewer_in)
    return _holds_management_right(user, request.resource.management_right_holder)


def can_manage_grant(user, grant):
    """Suspend, resume, revoke: the management-right holder, outside the grantee department."""
    if is_member_of(user, grant.grantee_department_id):
        return False
    return _holds_management_right(user, grant.resource.management_right_holder)


def is_auditor(user):
    return bool(department_ids_with_role(user, Membership.Role.AUDITOR))


def department_codes(user):
    ids = department_ids(user)
    if not ids:
        return frozenset()
    return frozenset(Department.objects.filter(pk__in=ids).values_list("code", flat=True))


def can_read_ledger_entry(user, entry):
    """Auditors and the office read every entry; a department reads the entries naming it."""
    if is_auditor(user) or is_office_member(user):
        return True
    return bool(department_codes(user) & set(entry.departments.split()))


def can_read_access_log(user):
    return is_auditor(user)
