"""The three-rights workflow: one function per transition (see STYLE.md).

Each transition locks the request row, checks the transition table and the actor, changes the
state, records a timeline step and history in the same transaction, and sends notifications after
commit. A refused transition raises ``IllegalTransition`` (API 409) and changes nothing.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from access_requests.models import Request, RequestItem, RequestStep
from access_requests.selectors import reviews_past_due
from access_requests.validation import (
    REQUEST_FIELDS,
    Item,
    _check_document,
    _check_request,
    _check_resource,
    _requester_department,
    _value,
)
from catalog.models import Resource, SharingType
from core.exceptions import IllegalTransition
from core.hooks import run_hook_once
from departments.models import Department, Membership
from departments.permissions import (
    can_decide,
    can_review_as_owner,
    decide_refusal,
    owner_review_refusal,
)
from departments.selectors import members_with_roles, office_reviewers
from ledger.models import LedgerEntry
from ledger.services import text_sha256
from notifications.services import Localized, Text, lowercase, notify
from workdays.deadlines import add_working_days
from workdays.models import ReviewPolicy
from workflow.engine import Workflow, overdue_mark, require_reason

S = Request.State
# action: (states it may start from, state it leads to)
TRANSITIONS = {
    "submit": ({S.DRAFT, S.RETURNED}, S.SUBMITTED),
    "route_to_owner": ({S.SUBMITTED}, S.OWNER_REVIEW),
    "route_to_office": ({S.SUBMITTED}, S.OFFICE_REVIEW),
    "endorse": ({S.OWNER_REVIEW}, S.OFFICE_REVIEW),
    "return": ({S.OWNER_REVIEW, S.OFFICE_REVIEW}, S.RETURNED),
    "reject": ({S.OWNER_REVIEW, S.OFFICE_REVIEW}, S.REJECTED),
    "approve": ({S.OFFICE_REVIEW}, S.APPROVED),
    "withdraw": ({S.DRAFT, S.SUBMITTED, S.OWNER_REVIEW, S.OFFICE_REVIEW, S.RETURNED}, S.WITHDRAWN),
    "appeal": ({S.REJECTED}, S.OFFICE_REVIEW),
}
EDITABLE = {S.DRAFT, S.RETURNED}


def _set_items(request: Request, items: Iterable[Item]) -> None:
    request.items.all().delete()
    RequestItem.objects.bulk_create(
        [RequestItem(request=request, name=i["name"], reason=i["reason"].strip()) for i in items]
    )


# --- creating and editing -------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    actor: Any,
    department: Department,
    resource: Resource,
    data: Mapping[str, Any],
    items: Sequence[Item],
    document: File | None = None,
) -> Request:
    """A draft request by a requester of ``department``; validated in full, nothing sent yet."""
    _requester_department(actor, department)
    _check_resource(resource, department)
    _check_request(resource, data, items)
    _check_document(document)
    request = Request(requesting_department=department, requested_by=actor, resource=resource)
    for field in REQUEST_FIELDS:
        setattr(request, field, _value(data, field))
    if document:
        request.supporting_document = document
    request.full_clean()
    request._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    request.save()
    _set_items(request, items)
    REQUESTS.step(request, "create", S.DRAFT, S.DRAFT, actor=actor, department=department)
    return request


@transaction.atomic
def request_update(
    *,
    actor: Any,
    request: Request,
    data: Mapping[str, Any],
    items: Sequence[Item] | None = None,
    document: File | None = None,
) -> Request:
    """Change a draft or returned request (only by a requester of the filing department)."""
    request = _locked(request)
    _requester_department(actor, request.requesting_department)
    if request.state not in EDITABLE:
        raise IllegalTransition(_("Only a draft or a returned request can be changed."))
    merged = {field: getattr(request, field) for field in REQUEST_FIELDS} | dict(data)
    if items is None:
        items = [{"name": i.name, "reason": i.reason} for i in request.items.all()]
    _check_request(request.resource, merged, items)
    _check_document(document)
    for field in REQUEST_FIELDS:
        setattr(request, field, _value(merged, field))
    if document:
        request.supporting_document = document
    request.full_clean()
    request._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    request.save()
    _set_items(request, items)
    REQUESTS.step(
        request,
        "edit",
        request.state,
        request.state,
        actor=actor,
        department=request.requesting_department,
    )
    return request


# --- transitions ----------------------------------------------------------------------------


def _locked(request: Request) -> Request:
    return REQUESTS.lock(
        request.pk,
        related=(
            "resource__owner_department",
            "resource__management_right_holder",
            "requesting_department",
        ),
    )


def _move(
    request: Request,
    action: str,
    actor: Any,
    department: Department | None,
    reason: str = "",
    due_days: int | None = None,
) -> RequestStep:
    """One step through the engine; a review stage starts its deadline in working days."""
    request.due_date = (
        add_working_days(timezone.localdate(), due_days) if due_days is not None else None
    )
    request.overdue_since = None
    return REQUESTS.move(request, action, actor=actor, department=department, reason=reason)


def _record(
    request: Request,
    first_step: RequestStep,
    last_step: RequestStep | None = None,
    *,
    grant: Model | None = None,
    detail: Mapping[str, Any] | None = None,
) -> LedgerEntry:
    """The ledger entry of one transition (one entry even when it took two steps), linked from
    its last timeline step. Reasons go in as hashes: the ledger holds no free text."""
    last_step = last_step or first_step
    resource = request.resource
    return REQUESTS.record(
        last_step,
        event=f"request.{first_step.action}",
        actor=first_step.actor,
        departments=[
            request.requesting_department,
            resource.owner_department,
            resource.management_right_holder,
            first_step.department,
        ],
        subject={
            "request": request.pk,
            "resource": resource.pk,
            "grant": grant.pk if grant else None,
        },
        hashes={"reason_sha256": text_sha256(first_step.reason)} if first_step.reason else None,
        detail={"from": first_step.from_state, "to": last_step.to_state, **(detail or {})},
    )


ACTION_PAST = {
    "submit": gettext_lazy("submitted"),
    "route_to_owner": gettext_lazy("routed"),
    "route_to_office": gettext_lazy("routed"),
    "endorse": gettext_lazy("endorsed"),
    "return": gettext_lazy("returned"),
    "reject": gettext_lazy("rejected"),
    "approve": gettext_lazy("approved"),
    "withdraw": gettext_lazy("withdrawn"),
    "appeal": gettext_lazy("appealed"),
}
REQUESTS = Workflow(
    model=Request,
    transitions=TRANSITIONS,
    noun=gettext_lazy("request"),
    past=ACTION_PAST,
    step_model=RequestStep,
    step_link="request",
)


def _deciders(request: Request) -> QuerySet[Any]:
    if request.appealed:
        return office_reviewers()
    holder = request.resource.management_right_holder
    roles = [Membership.Role.REVIEWER]
    if holder.kind != Department.Kind.OFFICE:
        roles.append(Membership.Role.STEWARD)
    return members_with_roles([holder.pk], roles)


def _tell(users: Iterable[Any], request: Request, subject: str, body: Text = "") -> None:
    """Notify ``users``; ``subject`` is a msgid (``gettext_noop``) that may name the request's
    ``id`` and resource (``res``), worded in each recipient's language, like a ``Localized``
    body. A body of plain text (a reviewer's reason) goes as it was written."""
    values = {"id": request.pk, "res": request.resource.title}
    notify(
        recipients=users,
        subject=Localized(subject, values),
        body=body or Localized(subject, values),
        url=request.get_absolute_url(),
    )


def _requesters(request: Request) -> QuerySet[Any]:
    return members_with_roles([request.requesting_department_id], [Membership.Role.REQUESTER])


@transaction.atomic
def request_submit(*, actor: Any, request: Request) -> Request:
    """Draft/returned → submitted → owner review (conditional) or management review.

    The request is validated again: the catalog entry may have changed since the draft.
    """
    request = _locked(request)
    _requester_department(actor, request.requesting_department)
    REQUESTS.check(request, "submit")
    _check_resource(request.resource, request.requesting_department)
    items = [{"name": i.name, "reason": i.reason} for i in request.items.all()]
    data = {field: getattr(request, field) for field in REQUEST_FIELDS}
    _check_request(request.resource, data, items, submitting=True)
    policy = ReviewPolicy.current()
    submitted = _move(request, "submit", actor, request.requesting_department)
    if request.resource.sharing_type == SharingType.UNCONDITIONAL:
        routed = _move(request, "route_to_office", None, None, due_days=policy.office_review_days)
        _tell(
            _deciders(request),
            request,
            gettext_noop("Request #%(id)d for %(res)s awaits your decision"),
        )
    else:
        routed = _move(request, "route_to_owner", None, None, due_days=policy.owner_review_days)
        owner = request.resource.owner_department_id
        _tell(
            members_with_roles([owner], [Membership.Role.STEWARD]),
            request,
            gettext_noop("Request #%(id)d for %(res)s awaits the owner's opinion"),
        )
    _record(request, submitted, routed)
    return request


@transaction.atomic
def request_endorse(*, actor: Any, request: Request, reason: str = "") -> Request:
    """Owner review → management review: the owner's steward supports the request."""
    request = _locked(request)
    if refusal := owner_review_refusal(actor, request):
        raise PermissionDenied(refusal)
    policy = ReviewPolicy.current()
    step = _move(
        request,
        "endorse",
        actor,
        request.resource.owner_department,
        reason.strip(),
        due_days=policy.office_review_days,
    )
    _record(request, step)
    _tell(
        _deciders(request),
        request,
        gettext_noop("Request #%(id)d for %(res)s awaits your decision"),
    )
    return request


def _reviewer_of_current_stage(actor: Any, request: Request) -> Department | None:
    """The department the actor reviews for at this stage, or PermissionDenied."""
    if request.state == S.OWNER_REVIEW:
        if refusal := owner_review_refusal(actor, request):
            raise PermissionDenied(refusal)
        return request.resource.owner_department
    if request.state == S.OFFICE_REVIEW:
        if refusal := decide_refusal(actor, request):
            raise PermissionDenied(refusal)
        if request.appealed:
            # The office in which the actor reviews (an appeal is heard by the office).
            return (
                Department.objects.filter(
                    kind=Department.Kind.OFFICE,
                    memberships__user=actor,
                    memberships__role=Membership.Role.REVIEWER,
                )
                .order_by("code")
                .first()
            )
        return request.resource.management_right_holder
    if can_decide(actor, request) or can_review_as_owner(actor, request):
        return None  # a reviewer, but not at this stage: the transition table refuses it (409)
    raise PermissionDenied(_("Only the reviewers of this request can do this."))


@transaction.atomic
def request_return(*, actor: Any, request: Request, reason: str) -> Request:
    """Owner or management review → returned to the requester for changes (reason required)."""
    reason = require_reason(reason, _("returning the request"))
    request = _locked(request)
    department = _reviewer_of_current_stage(actor, request)
    _record(request, _move(request, "return", actor, department, reason))
    _tell(
        _requesters(request),
        request,
        gettext_noop("Request #%(id)d for %(res)s was returned"),
        reason,
    )
    return request


@transaction.atomic
def request_reject(*, actor: Any, request: Request, reason: str) -> Request:
    """Owner or management review → rejected (reason required). The requester may appeal once."""
    reason = require_reason(reason, _("rejecting the request"))
    request = _locked(request)
    department = _reviewer_of_current_stage(actor, request)
    _record(request, _move(request, "reject", actor, department, reason))
    _tell(
        _requesters(request),
        request,
        gettext_noop("Request #%(id)d for %(res)s was rejected"),
        reason,
    )
    return request


@transaction.atomic
def request_approve(
    *,
    actor: Any,
    request: Request,
    reason: str = "",
    fields: Iterable[str] | None = None,
    max_records_per_day: int | None = None,
    max_calls_per_day: int | None = None,
) -> Request:
    """Management review → approved, creating the grant.

    ``fields`` may narrow the requested items (partial approval); the request keeps both sets.
    """
    request = _locked(request)
    if refusal := decide_refusal(actor, request):
        raise PermissionDenied(refusal)
    REQUESTS.check(request, "approve")
    department = _reviewer_of_current_stage(actor, request)
    requested = [item.name for item in request.items.all()]
    approved = requested if fields is None else list(dict.fromkeys(fields))
    unknown = [name for name in approved if name not in requested]
    if unknown:
        raise ValidationError(
            {
                "fields": _("Only requested items can be approved; not requested: %(n)s.")
                % {"n": ", ".join(unknown)}
            }
        )
    if not approved:
        raise ValidationError({"fields": _("Approve at least one item, or reject the request.")})
    step = _move(request, "approve", actor, department, reason.strip())
    for item in request.items.all():
        item.approved = item.name in approved
        item.save(update_fields=["approved"])
    # The usage right itself is the rights app's (rights.services.grant_create).
    grant = run_hook_once(
        "request_approved",
        request=request,
        approved_by=actor,
        fields=[name for name in requested if name in approved],
        max_records_per_day=max_records_per_day,
        max_calls_per_day=max_calls_per_day,
    )
    entry = _record(request, step, grant=grant, detail={"fields": grant.fields})
    grant.events.filter(action="grant").update(ledger_index=entry.index)
    _tell(
        _requesters(request),
        request,
        gettext_noop("Request #%(id)d for %(res)s was approved"),
        Localized(
            gettext_noop("Grant #%(g)d gives your department: %(items)s."),
            {"g": grant.pk, "items": ", ".join(grant.fields)},
        ),
    )
    return request


@transaction.atomic
def request_withdraw(*, actor: Any, request: Request, reason: str = "") -> Request:
    """Any state before a decision → withdrawn, by a requester of the filing department."""
    request = _locked(request)
    _requester_department(actor, request.requesting_department)
    _record(
        request, _move(request, "withdraw", actor, request.requesting_department, reason.strip())
    )
    return request


@transaction.atomic
def request_appeal(*, actor: Any, request: Request, reason: str) -> Request:
    """Rejected → management review by the office, once per request (reason required)."""
    reason = require_reason(reason, _("the appeal"))
    request = _locked(request)
    _requester_department(actor, request.requesting_department)
    if request.state == S.REJECTED and request.appealed:
        raise IllegalTransition(_("This request has already been appealed once."))
    request.appealed = True
    policy = ReviewPolicy.current()
    step = _move(
        request,
        "appeal",
        actor,
        request.requesting_department,
        reason,
        due_days=policy.office_review_days,
    )
    _record(request, step)
    _tell(
        office_reviewers(), request, gettext_noop("Appeal on request #%(id)d for %(res)s"), reason
    )
    return request


@transaction.atomic
def request_renew(*, actor: Any, grant: Any) -> Request:
    """A new draft request prefilled from a grant (same items, purpose, basis, method).

    A revoked grant is not renewed: revocation ends the right for cause. ``grant`` is a
    ``rights.models.Grant``, typed ``Any``: the rights app is above this one and is not imported.
    """
    if grant.status == grant.Status.REVOKED:
        raise IllegalTransition(_("A revoked grant cannot be renewed; file a new request."))
    period = (grant.valid_until - grant.valid_from).days
    start = max(grant.valid_until + datetime.timedelta(days=1), timezone.localdate())
    data = {
        "purpose": grant.purpose,
        "legal_basis_kind": grant.legal_basis.get("kind"),
        "legal_basis_citation": grant.legal_basis.get("citation"),
        "legal_basis_article": grant.legal_basis.get("article", ""),
        "legal_basis_text": grant.legal_basis.get("text", ""),
        "method": grant.method,
        "frequency": grant.frequency,
        "valid_from": start,
        "valid_until": start + datetime.timedelta(days=period),
    }
    reasons = {item.name: item.reason for item in grant.request.items.all()}
    items = [{"name": name, "reason": reasons.get(name, "")} for name in grant.fields]
    return request_create(
        actor=actor,
        department=grant.grantee_department,
        resource=grant.resource,
        data=data,
        items=items,
    )


def requests_mark_overdue(*, today: datetime.date | None = None) -> int:
    """Flag reviews past their due date and tell the office once per request."""
    today = today or timezone.localdate()
    late = reviews_past_due(today).filter(overdue_since__isnull=True).select_related("resource")
    return overdue_mark(
        late,
        same=("state",),
        recipients=lambda request: office_reviewers(),
        subject=lambda request: Localized(
            gettext_noop("Request #%(id)d is overdue (%(state)s, due %(due)s)"),
            {"id": request.pk, "state": S(request.state).label, "due": request.due_date},
        ),
        body=lambda request: Localized(
            gettext_noop("The %(state)s of request #%(id)d for %(res)s was due on %(due)s."),
            {
                "state": lowercase(S(request.state).label),
                "id": request.pk,
                "res": request.resource.title,
                "due": request.due_date,
            },
        ),
        url=lambda request: request.get_absolute_url(),
        key=lambda request: f"request:{request.pk}:overdue:{request.state}:{request.due_date}",
    )
