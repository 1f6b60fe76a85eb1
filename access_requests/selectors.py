"""Reads for requests: permission-filtered querysets with their joins already chosen."""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from access_requests.models import Request, RequestStep
from catalog.selectors import resource_ids_involving
from departments.models import Membership
from departments.permissions import (
    department_ids,
    department_ids_with_role,
    is_office_member,
    office_ids_of,
)

AnyUser = AbstractBaseUser | AnonymousUser
_JOINS = (
    "requesting_department",
    "requested_by",
    "resource__owner_department",
    "resource__management_right_holder",
)


REVIEW_STATES = (Request.State.OWNER_REVIEW, Request.State.OFFICE_REVIEW)


def reviews_past_due(day: datetime.date) -> QuerySet[Request]:
    """Requests waiting at a review stage whose due date is before ``day``: the one rule of
    "overdue" for the deadline job (which flags them) and the scoreboard (which counts them as
    missed deadlines)."""
    return Request.objects.filter(state__in=REVIEW_STATES, due_date__lt=day)


def requests_visible_to(user: AnyUser) -> QuerySet[Request]:
    """The filing department sees its requests; the owner, the management-right holder and the
    office see them once submitted. Nobody else sees a request at all."""
    mine = department_ids(user)
    visible = Q(requesting_department_id__in=mine)
    involved = Q(resource_id__in=resource_ids_involving(mine))
    if is_office_member(user):
        involved = Q(pk__isnull=False)
    visible |= involved & ~Q(state=Request.State.DRAFT)
    return Request.objects.filter(visible).select_related(*_JOINS)


def request_for_user(user: AnyUser, pk: int) -> Request:
    return get_object_or_404(requests_visible_to(user), pk=pk)


def department_requests(user: AnyUser) -> QuerySet[Request]:
    """'My department's requests': those filed by the user's departments, newest first."""
    return (
        Request.objects.filter(requesting_department_id__in=department_ids(user))
        .select_related(*_JOINS)
        .order_by("-created_at", "-id")
    )


def review_queue(user: AnyUser) -> QuerySet[Request]:
    """What waits for the user: owner reviews for their stewarded departments, decisions for the
    management-right holders they review for, overdue first, then by due date."""
    stewards = department_ids_with_role(user, Membership.Role.STEWARD)
    reviewers = department_ids_with_role(user, Membership.Role.REVIEWER)
    office = office_ids_of(user)

    # Conditions across the join to the resource: the stage (state index) is the selective side,
    # and each of its rows finds its resource by primary key. An id subquery of the owner's
    # resources would read all of them, and an owner may hold a large part of the catalog.
    owner_stage = Q(state=Request.State.OWNER_REVIEW, resource__owner_department_id__in=stewards)
    # Reviewers decide for their department; stewards only where the holder is not the office
    # (the same rule as rights.permissions.can_decide).
    decision = Q(
        state=Request.State.OFFICE_REVIEW,
        appealed=False,
        resource__management_right_holder_id__in=reviewers | (stewards - office),
    )
    if reviewers & office:
        decision |= Q(state=Request.State.OFFICE_REVIEW, appealed=True) & ~Q(
            steps__action="reject", steps__actor=user
        )
    return (
        Request.objects.filter(owner_stage | decision)
        .exclude(requesting_department_id__in=department_ids(user))
        .select_related(*_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )


def requests_returned_to(user: AnyUser) -> QuerySet[Request]:
    """Requests returned for changes to a department the user files for (a requester there, who
    may change and resubmit them), the longest-waiting first."""
    filers = department_ids_with_role(user, Membership.Role.REQUESTER)
    if not filers:
        return Request.objects.none()
    return (
        Request.objects.filter(state=Request.State.RETURNED, requesting_department_id__in=filers)
        .select_related(*_JOINS)
        .order_by("updated_at", "id")
    )


UNDER_REVIEW_STATES = (
    Request.State.SUBMITTED,
    Request.State.OWNER_REVIEW,
    Request.State.OFFICE_REVIEW,
)


def department_requests_under_review(user: AnyUser) -> QuerySet[Request]:
    """The user's departments' requests waiting for someone else's review (the owner, or the
    management-right holder), overdue first, then by due date."""
    mine = department_ids(user)
    if not mine:
        return Request.objects.none()
    return (
        Request.objects.filter(state__in=UNDER_REVIEW_STATES, requesting_department_id__in=mine)
        .select_related(*_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )


def review_holder(request: Request) -> str:
    """Who holds a request under review, as a department code: the owner during the owner's
    review, the management-right holder during the decision, the office on appeal."""
    if request.state == Request.State.OWNER_REVIEW:
        return request.resource.owner_department.code
    if request.appealed:
        return str(gettext_lazy("the data management office"))
    return request.resource.management_right_holder.code


def timeline(request: Request) -> QuerySet[RequestStep]:
    return request.steps.select_related("actor", "department").order_by("at", "id")


STEP_LABELS = {
    "create": gettext_lazy("Created"),
    "edit": gettext_lazy("Changed"),
    "submit": gettext_lazy("Submitted"),
    "route_to_owner": gettext_lazy("Sent to the owner for review"),
    "route_to_office": gettext_lazy("Sent for decision"),
    "endorse": gettext_lazy("Endorsed by the owner"),
    "return": gettext_lazy("Returned for changes"),
    "reject": gettext_lazy("Rejected"),
    "approve": gettext_lazy("Approved"),
    "withdraw": gettext_lazy("Withdrawn"),
    "appeal": gettext_lazy("Appealed"),
}
