"""Who may do what: the one module that holds the rules.

Roles come from memberships; rights over objects come from django-guardian object permissions held
by department groups. A rule usually needs both: the department holds the right, and the person
holds the role that exercises it.
"""

from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext as _

from departments.models import Department, Membership

_CACHE_ATTR = "_govshare_roles"

# The objects the rules read belong to apps above this one (catalog, access_requests, rights,
# governance, ledger), which it may not import: each is typed by the attributes its rule reads.
# Users are ``Any``: the signed-in user, or AnonymousUser where a rule checks ``is_authenticated``.


class _OwnedResource(Protocol):
    @property
    def owner_department_id(self) -> int: ...


class _ManagedResource(_OwnedResource, Protocol):
    @property
    def management_right_holder(self) -> Department: ...


class _Steps(Protocol):
    def filter(self, *args: Any, **kwargs: Any) -> models.QuerySet[Any]: ...


class _AccessRequest(Protocol):
    @property
    def resource(self) -> _ManagedResource: ...
    @property
    def requesting_department_id(self) -> int: ...
    @property
    def appealed(self) -> bool: ...
    @property
    def steps(self) -> _Steps: ...


class _Grantee(Protocol):
    @property
    def grantee_department_id(self) -> int: ...


class _Grant(_Grantee, Protocol):
    @property
    def resource(self) -> _ManagedResource: ...


class _Attestation(Protocol):
    @property
    def grant(self) -> _Grantee: ...


class _Dispute(Protocol):
    @property
    def raised_by_department_id(self) -> int: ...
    @property
    def respondent_department_id(self) -> int: ...
    @property
    def party_ids(self) -> set[int]: ...


class _QualityReport(Protocol):
    @property
    def resource(self) -> _OwnedResource: ...
    @property
    def reporting_department_id(self) -> int: ...


class _Demand(Protocol):
    @property
    def requesting_department_id(self) -> int: ...
    @property
    def routed_to_id(self) -> int | None: ...


class _LedgerEntry(Protocol):
    @property
    def departments(self) -> str: ...  # the department codes, space-separated


def _memberships(user: Any) -> tuple[dict[str, set[int]], frozenset[int]]:
    """``({role: {department_id, ...}}, {the user's active office departments})`` for the user,
    in one query, cached on the user object per request."""
    if not user.is_authenticated:
        return {}, frozenset()
    cached: tuple[dict[str, set[int]], frozenset[int]] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        roles: dict[str, set[int]] = {}
        offices: set[int] = set()
        for role, department_id, kind, active in Membership.objects.filter(user=user).values_list(
            "role", "department_id", "department__kind", "department__is_active"
        ):
            roles.setdefault(role, set()).add(department_id)
            if kind == Department.Kind.OFFICE and active:
                offices.add(department_id)
        cached = (roles, frozenset(offices))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def _roles(user: Any) -> dict[str, set[int]]:
    """``{role: {department_id, ...}}`` for the user, cached on the user object per request."""
    return _memberships(user)[0]


def forget_roles(user: Any) -> None:
    """Drop the cached roles (after memberships change during the same request or test)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def department_ids_with_role(user: Any, role: str) -> frozenset[int]:
    return frozenset(_roles(user).get(role, ()))


def steward_departments(user: Any) -> models.QuerySet[Department]:
    ids = department_ids_with_role(user, Membership.Role.STEWARD)
    return Department.objects.filter(pk__in=ids, is_active=True).order_by("code")


def is_steward_of(user: Any, department_id: int) -> bool:
    return department_id in department_ids_with_role(user, Membership.Role.STEWARD)


def can_manage_resource(
    user: Any, resource: _OwnedResource, perm: str = "catalog.change_resource"
) -> bool:
    """A steward of the owning department, whose department holds the object permission."""
    return is_steward_of(user, resource.owner_department_id) and user.has_perm(perm, resource)


def department_ids(user: Any) -> frozenset[int]:
    """Every department in which the user holds any role."""
    return frozenset().union(*_roles(user).values()) if _roles(user) else frozenset()


def is_member_of(user: Any, department_id: int) -> bool:
    return department_id in department_ids(user)


def office_department_ids() -> frozenset[int]:
    return frozenset(
        Department.objects.filter(kind=Department.Kind.OFFICE, is_active=True).values_list(
            "pk", flat=True
        )
    )


def office_ids_of(user: Any) -> frozenset[int]:
    """The active office departments the user belongs to: ``department_ids(user) &
    office_department_ids()``, without a query of its own (it comes with the roles)."""
    return _memberships(user)[1]


def is_office_member(user: Any) -> bool:
    return bool(office_ids_of(user))


def is_requester_for(user: Any, department_id: int) -> bool:
    return department_id in department_ids_with_role(user, Membership.Role.REQUESTER)


def _holds_management_right(user: Any, holder: Department) -> bool:
    """Reviewers of the holder decide; where the holder is not the office, its stewards too."""
    if holder.pk in department_ids_with_role(user, Membership.Role.REVIEWER):
        return True
    return holder.kind != Department.Kind.OFFICE and is_steward_of(user, holder.pk)


def can_review_as_owner(user: Any, request: _AccessRequest) -> bool:
    """A steward of the owning department, from outside the requesting department."""
    return owner_review_refusal(user, request) is None


def owner_review_refusal(user: Any, request: _AccessRequest) -> str | None:
    """Why the user may not give the owner's opinion on the request, or None when they may."""
    if not is_steward_of(user, request.resource.owner_department_id):
        return _("Only a data steward of the owning department can give the owner's opinion.")
    if is_member_of(user, request.requesting_department_id):
        return _(
            "You cannot give the owner's opinion on this request: your own department filed it, "
            "and nobody reviews a request from their own department."
        )
    return None


def can_decide(user: Any, request: _AccessRequest) -> bool:
    """The holder of the shared-management right (the office on appeal), never the requester's
    own department (separation of duties)."""
    return decide_refusal(user, request) is None


def decide_refusal(user: Any, request: _AccessRequest) -> str | None:
    """Why the user may not decide on the request, in words for them, or None when they may.

    The rule of ``can_decide``, each reason named: the requester's own department, the first
    decider of an appeal, an appeal outside the office, not the management-right holder.
    """
    if is_member_of(user, request.requesting_department_id):
        return _(
            "You cannot decide on this request: your own department filed it, and nobody "
            "decides on a request from their own department."
        )
    if request.appealed:
        # An appeal is heard by someone else than whoever rejected the request.
        if request.steps.filter(action="reject", actor=user).exists():
            return _(
                "You cannot hear this appeal: you rejected the request, and an appeal is heard "
                "by another reviewer of the data management office."
            )
        if not (office_ids_of(user) & department_ids_with_role(user, Membership.Role.REVIEWER)):
            return _("An appeal is heard by a reviewer of the data management office.")
        return None
    holder = request.resource.management_right_holder
    if not _holds_management_right(user, holder):
        return _(
            "Only the holder of the shared-management right on this resource (%(dept)s) can "
            "decide on this request."
        ) % {"dept": holder.code}
    return None


def can_manage_grant(user: Any, grant: _Grant) -> bool:
    """Suspend, resume, revoke: the management-right holder, outside the grantee department."""
    if is_member_of(user, grant.grantee_department_id):
        return False
    return _holds_management_right(user, grant.resource.management_right_holder)


def is_auditor(user: Any) -> bool:
    return bool(department_ids_with_role(user, Membership.Role.AUDITOR))


def department_codes(user: Any) -> frozenset[str]:
    ids = department_ids(user)
    if not ids:
        return frozenset()
    return frozenset(Department.objects.filter(pk__in=ids).values_list("code", flat=True))


def can_read_ledger_entry(user: Any, entry: _LedgerEntry) -> bool:
    """Auditors and the office read every entry; a department reads the entries naming it."""
    if is_auditor(user) or is_office_member(user):
        return True
    return bool(department_codes(user) & set(entry.departments.split()))


def can_read_access_log(user: Any) -> bool:
    return is_auditor(user)


def can_clear_signin_lockouts(user: Any) -> bool:
    """The office's reviewers unlock a sign-in locked after too many wrong passwords (in admin);
    auditors and other office members only see the lockouts."""
    return bool(department_ids_with_role(user, Membership.Role.REVIEWER) & office_ids_of(user))


def can_edit_office_settings(user: Any) -> bool:
    """The settings the office runs the portal by (the review policy, the holiday calendar, the
    periodic jobs' schedules) are edited in admin by the office's reviewers."""
    return is_office_reviewer(user)


def can_read_office_settings(user: Any) -> bool:
    """The office and the auditors read those settings; nobody else sees them."""
    return is_office_member(user) or is_auditor(user)


def can_open_audit_search(user: Any) -> bool:
    """The audit search page (and its link in the navigation): auditors and the office."""
    return can_read_access_log(user) or is_office_member(user)


def has_review_queue(user: Any) -> bool:
    """Whether anything can ever wait in the user's review queue: stewards (owner reviews) and
    reviewers (decisions). The page and its link in the navigation are for them."""
    return bool(
        department_ids_with_role(user, Membership.Role.STEWARD)
        or department_ids_with_role(user, Membership.Role.REVIEWER)
    )


# --- Disputes and end-of-use attestations ---------------------------------------------------

# The roles through which a department acts in a dispute (an auditor only reads).
DISPUTE_ACTING_ROLES = (
    Membership.Role.REQUESTER,
    Membership.Role.STEWARD,
    Membership.Role.REVIEWER,
)


def acting_department_ids(user: Any) -> frozenset[int]:
    """Departments in which the user holds a role that lets them act for the department."""
    return frozenset().union(*(department_ids_with_role(user, r) for r in DISPUTE_ACTING_ROLES))


def is_office_reviewer(user: Any) -> bool:
    return bool(department_ids_with_role(user, Membership.Role.REVIEWER) & office_ids_of(user))


def dispute_party_department_id(user: Any, dispute: _Dispute) -> int | None:
    """The party department the user acts for in ``dispute``, or None (raiser's side first)."""
    acting = acting_department_ids(user)
    for department_id in (dispute.raised_by_department_id, dispute.respondent_department_id):
        if department_id in acting:
            return department_id
    return None


def can_act_as_dispute_party(user: Any, dispute: _Dispute) -> bool:
    """Statements, settlement, escalation: members of the two party departments only."""
    return dispute_party_department_id(user, dispute) is not None


def can_decide_dispute(user: Any, dispute: _Dispute) -> bool:
    """Level 2: an office reviewer who is a member of neither party (separation of duties)."""
    return is_office_reviewer(user) and not (department_ids(user) & dispute.party_ids)


def can_record_authority_decision(user: Any, dispute: _Dispute) -> bool:
    """Level 3: an office reviewer records the authority's decision. A reviewer who is also a
    member of a party department other than the office itself may not."""
    if not is_office_reviewer(user):
        return False
    return not (department_ids(user) & (dispute.party_ids - office_department_ids()))


def can_attest_end_of_use(user: Any, attestation: _Attestation) -> bool:
    """The grantee department's requesters attest deletion or return of delivered copies."""
    return is_requester_for(user, attestation.grant.grantee_department_id)


# --- the governance loop: quality reports and the demand list (catalog/governance_services.py) --


def quality_reporter_department_ids(user: Any) -> frozenset[int]:
    """Departments for which the user files and follows up quality reports: as a requester or a
    steward of the department, or as a reviewer of the office."""
    ids = department_ids_with_role(user, Membership.Role.REQUESTER) | department_ids_with_role(
        user, Membership.Role.STEWARD
    )
    office_reviewer = department_ids_with_role(user, Membership.Role.REVIEWER)
    return ids | (office_reviewer & office_ids_of(user))


def can_answer_quality_report(user: Any, report: _QualityReport) -> bool:
    """Acknowledge, answer, resolve: a steward of the owning department, from outside the
    reporting department."""
    return is_steward_of(user, report.resource.owner_department_id) and not is_member_of(
        user, report.reporting_department_id
    )


def can_follow_up_quality_report(user: Any, report: _QualityReport) -> bool:
    """Confirm or reopen: whoever may file reports for the reporting department."""
    return report.reporting_department_id in quality_reporter_department_ids(user)


def can_route_demand(user: Any, demand: _Demand) -> bool:
    """An office reviewer, never for a demand their own department filed."""
    return is_office_reviewer(user) and not is_member_of(user, demand.requesting_department_id)


def can_answer_demand(user: Any, demand: _Demand) -> bool:
    """A steward of the department the demand is routed to, from outside the filing department."""
    return (
        demand.routed_to_id is not None
        and is_steward_of(user, demand.routed_to_id)
        and not is_member_of(user, demand.requesting_department_id)
    )
