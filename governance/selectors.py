"""Reads for quality reports and the demand list: permission-filtered querysets with their joins
already chosen, so list pages and API lists cost a fixed number of queries."""

import re

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from catalog.models import Resource
from departments.models import Membership
from departments.permissions import (
    acting_department_ids,
    department_ids,
    department_ids_with_role,
    is_office_member,
    office_ids_of,
)
from governance.models import (
    Demand,
    DemandStep,
    DemandSupporter,
    Dispute,
    DisputeDecision,
    DisputeStep,
    QualityReport,
    QualityReportStep,
    ResourceFreshness,
)

AnyUser = AbstractBaseUser | AnonymousUser
_TERM = re.compile(r"[^\W_]+", re.UNICODE)

_REPORT_JOINS = (
    "resource__owner_department",
    "resource__management_right_holder",
    "reporting_department",
    "reported_by",
    "release",
    "resolution_release",
)
_DEMAND_JOINS = ("requesting_department", "requested_by", "routed_to", "resource")


# --- quality reports ------------------------------------------------------------------------


def quality_reports_visible_to(user: AnyUser) -> QuerySet[QualityReport]:
    """The reporting department, the owner and the management-right holder see a report; the
    office sees them all. Any other department does not see it at all (404)."""
    queryset = QualityReport.objects.select_related(*_REPORT_JOINS)
    if is_office_member(user):
        return queryset
    mine = department_ids(user)
    return queryset.filter(
        Q(reporting_department_id__in=mine)
        | Q(resource__owner_department_id__in=mine)
        | Q(resource__management_right_holder_id__in=mine)
    )


def quality_report_for_user(user: AnyUser, pk: int) -> QualityReport:
    return get_object_or_404(quality_reports_visible_to(user), pk=pk)


def quality_report_list(
    user: AnyUser, *, state: str | None = None, resource_id: int | None = None
) -> QuerySet[QualityReport]:
    """Visible reports, those waiting longest past their deadline first, then the newest."""
    queryset = quality_reports_visible_to(user)
    if state:
        queryset = queryset.filter(state=state)
    if resource_id:
        queryset = queryset.filter(resource_id=resource_id)
    return queryset.order_by(F("overdue_since").asc(nulls_last=True), "-created_at", "-id")


# The one definition of an open report, for the resource page and the scoreboard alike: the owner
# still owes an outcome (open, acknowledged) or has answered without a correction that the
# reporter has not yet accepted (answered). A resolved report counts as resolved, even before the
# reporter confirms it; a reopen makes it open again.
QUALITY_OPEN_STATES = frozenset(
    {QualityReport.State.OPEN, QualityReport.State.ACKNOWLEDGED, QualityReport.State.ANSWERED}
)


def quality_reports_open(
    queryset: QuerySet[QualityReport] | None = None,
) -> QuerySet[QualityReport]:
    """The open reports (``QUALITY_OPEN_STATES``) among ``queryset`` (all reports by default)."""
    if queryset is None:
        queryset = QualityReport.objects.all()
    return queryset.filter(state__in=QUALITY_OPEN_STATES)


def quality_reports_resolved(
    queryset: QuerySet[QualityReport] | None = None,
) -> QuerySet[QualityReport]:
    """The reports among ``queryset`` that are no longer open (resolved or closed)."""
    if queryset is None:
        queryset = QualityReport.objects.all()
    return queryset.exclude(state__in=QUALITY_OPEN_STATES)


def open_quality_reports(user: AnyUser, resource: Resource) -> QuerySet[QualityReport]:
    """What the resource page lists: the visible open reports on it."""
    return quality_reports_open(
        quality_reports_visible_to(user).filter(resource=resource)
    ).order_by("-created_at", "-id")


def open_quality_report_count(resource: Resource) -> int:
    """How many reports on the resource are open (a number every reader may see)."""
    return quality_reports_open(QualityReport.objects.filter(resource=resource)).count()


def quality_timeline(report: QualityReport) -> QuerySet[QualityReportStep]:
    return report.steps.select_related("actor", "department").order_by("at", "id")


def freshness_of(resource: Resource) -> ResourceFreshness | None:
    return ResourceFreshness.objects.filter(resource=resource).first()


# --- the demand list ------------------------------------------------------------------------


def _supporters() -> Prefetch:
    return Prefetch(
        "supporters",
        queryset=DemandSupporter.objects.select_related("department").order_by("joined_at", "id"),
    )


def demands_visible_to(user: AnyUser) -> QuerySet[Demand]:
    """Every signed-in user sees the demand list, so departments can find and join a demand
    instead of filing it twice; a withdrawn demand only its filer, the department it was routed
    to and the office see."""
    queryset = Demand.objects.select_related(*_DEMAND_JOINS).prefetch_related(_supporters())
    if is_office_member(user):
        return queryset
    mine = department_ids(user)
    return queryset.filter(
        ~Q(state=Demand.State.WITHDRAWN)
        | Q(requesting_department_id__in=mine)
        | Q(routed_to_id__in=mine)
    )


def demand_for_user(user: AnyUser, pk: int) -> Demand:
    return get_object_or_404(demands_visible_to(user), pk=pk)


def search_demands(queryset: QuerySet[Demand], text: str | None) -> QuerySet[Demand]:
    """Every word must occur in the title, description or items (case-insensitive)."""
    for term in _TERM.findall(text or ""):
        queryset = queryset.filter(search_text__contains=term.lower())
    return queryset


def demand_list(
    user: AnyUser,
    *,
    text: str | None = "",
    state: str | None = None,
    department_id: int | None = None,
) -> QuerySet[Demand]:
    queryset = search_demands(demands_visible_to(user), text)
    if state:
        queryset = queryset.filter(state=state)
    if department_id:
        queryset = queryset.filter(
            Q(requesting_department_id=department_id)
            | Q(routed_to_id=department_id)
            | Q(supporters__department_id=department_id)
        ).distinct()
    return queryset.order_by("-created_at", "-id")


def similar_demands(user: AnyUser, text: str | None, *, limit: int = 10) -> QuerySet[Demand]:
    """Open demands sharing the words of ``text`` (any word of four letters or more), so a
    department about to file can join one instead."""
    words = {w.lower() for w in _TERM.findall(text or "") if len(w) >= 4}
    if not words:
        return Demand.objects.none()
    match = Q()
    for word in sorted(words)[:10]:
        match |= Q(search_text__contains=word)
    return (
        demands_visible_to(user)
        .filter(match, state__in=[Demand.State.SUBMITTED, Demand.State.ROUTED])
        .order_by("-created_at", "-id")[:limit]
    )


def demand_timeline(demand: Demand) -> QuerySet[DemandStep]:
    return demand.steps.select_related("actor", "department").order_by("at", "id")


_DISPUTE_JOINS = (
    "raised_by_department",
    "respondent_department",
    "raised_by",
    "resource__owner_department",
    "resource__management_right_holder",
)


def disputes_visible_to(user: AnyUser) -> QuerySet[Dispute]:
    """The two parties, the resource's owner and management-right holder, and the office."""
    if is_office_member(user):
        return Dispute.objects.select_related(*_DISPUTE_JOINS)
    mine = department_ids(user)
    return Dispute.objects.filter(
        Q(raised_by_department_id__in=mine)
        | Q(respondent_department_id__in=mine)
        | Q(resource__owner_department_id__in=mine)
        | Q(resource__management_right_holder_id__in=mine)
    ).select_related(*_DISPUTE_JOINS)


def dispute_for_user(user: AnyUser, pk: int) -> Dispute:
    return get_object_or_404(disputes_visible_to(user), pk=pk)


def department_disputes(user: AnyUser) -> QuerySet[Dispute]:
    """'My department's disputes': those the user's departments raised or answer, newest first."""
    mine = department_ids(user)
    return (
        Dispute.objects.filter(
            Q(raised_by_department_id__in=mine) | Q(respondent_department_id__in=mine)
        )
        .select_related(*_DISPUTE_JOINS)
        .order_by("-created_at", "-id")
    )


def dispute_office_queue(user: AnyUser) -> QuerySet[Dispute]:
    """Escalated disputes waiting for the office (to decide, or to record the authority's
    decision), earliest due first; empty for anyone but an office reviewer."""
    if not department_ids_with_role(user, Membership.Role.REVIEWER) & office_ids_of(user):
        return Dispute.objects.none()
    return (
        Dispute.objects.filter(
            state__in=[Dispute.State.OFFICE_REVIEW, Dispute.State.AUTHORITY_REVIEW]
        )
        .select_related(*_DISPUTE_JOINS)
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id")
    )


def dispute_timeline(dispute: Dispute) -> QuerySet[DisputeStep]:
    return dispute.steps.select_related("actor", "department").order_by("at", "id")


def dispute_decisions(dispute: Dispute) -> QuerySet[DisputeDecision]:
    return dispute.decisions.select_related(
        "responsible_department", "decided_by", "step"
    ).order_by("level", "id")


# --- what waits for the user (the home page) -------------------------------------------------


def _last_word_department() -> Subquery:
    """The department that spoke last in a dispute: raised it, or gave the latest statement."""
    return Subquery(
        DisputeStep.objects.filter(dispute=OuterRef("pk"), action__in=["raise", "statement"])
        .order_by("-at", "-id")
        .values("department_id")[:1]
    )


def disputes_awaiting_statement(user: AnyUser) -> QuerySet[Dispute]:
    """Disputes in negotiation where the other party spoke last, so the user's department (one
    the user acts for, ``can_act_as_dispute_party``) owes an answer; earliest due first."""
    acting = acting_department_ids(user)
    if not acting:
        return Dispute.objects.none()
    return (
        Dispute.objects.filter(state=Dispute.State.NEGOTIATION)
        .filter(Q(raised_by_department_id__in=acting) | Q(respondent_department_id__in=acting))
        .alias(last_word=_last_word_department())
        .exclude(last_word__in=acting)
        .select_related(*_DISPUTE_JOINS)
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id")
    )


def disputes_awaiting_decision(user: AnyUser) -> QuerySet[Dispute]:
    """The office queue (``dispute_office_queue``) less the disputes the user may not decide:
    at level 2 none of the user's departments may be a party (``can_decide_dispute``), at level
    3 none but the office itself (``can_record_authority_decision``)."""
    mine = department_ids(user)
    others = mine - office_ids_of(user)
    parties = Q(raised_by_department_id__in=mine) | Q(respondent_department_id__in=mine)
    other_parties = Q(raised_by_department_id__in=others) | Q(respondent_department_id__in=others)
    return dispute_office_queue(user).exclude(
        (Q(state=Dispute.State.OFFICE_REVIEW) & parties)
        | (Q(state=Dispute.State.AUTHORITY_REVIEW) & other_parties)
    )


def quality_reports_to_answer(user: AnyUser) -> QuerySet[QualityReport]:
    """Reports on resources of a department the user stewards, from another department, that
    still wait for the owner's answer (``can_answer_quality_report``); overdue first."""
    stewards = department_ids_with_role(user, Membership.Role.STEWARD)
    if not stewards:
        return QualityReport.objects.none()
    return (
        QualityReport.objects.filter(
            state__in=[QualityReport.State.OPEN, QualityReport.State.ACKNOWLEDGED],
            resource__owner_department_id__in=stewards,
        )
        .exclude(reporting_department_id__in=department_ids(user))
        .select_related(*_REPORT_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )


def demands_to_answer(user: AnyUser) -> QuerySet[Demand]:
    """Demands routed to a department the user stewards, from another department, waiting for
    its answer (``can_answer_demand``); overdue first."""
    stewards = department_ids_with_role(user, Membership.Role.STEWARD)
    if not stewards:
        return Demand.objects.none()
    return (
        Demand.objects.filter(state=Demand.State.ROUTED, routed_to_id__in=stewards)
        .exclude(requesting_department_id__in=department_ids(user))
        .select_related(*_DEMAND_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )


def demands_to_route(user: AnyUser) -> QuerySet[Demand]:
    """New demands waiting for the office to route them, for an office reviewer who is not of
    the filing department (``can_route_demand``); the oldest first."""
    if not department_ids_with_role(user, Membership.Role.REVIEWER) & office_ids_of(user):
        return Demand.objects.none()
    return (
        Demand.objects.filter(state=Demand.State.SUBMITTED)
        .exclude(requesting_department_id__in=department_ids(user))
        .select_related(*_DEMAND_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "created_at", "id")
    )


def department_disputes_escalated(user: AnyUser) -> QuerySet[Dispute]:
    """The user's departments' disputes waiting for the office or the supervising authority."""
    return (
        department_disputes(user)
        .filter(state__in=[Dispute.State.OFFICE_REVIEW, Dispute.State.AUTHORITY_REVIEW])
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id")
    )


def department_quality_reports_awaiting_owner(user: AnyUser) -> QuerySet[QualityReport]:
    """Reports the user's departments filed that still wait for the owner's answer."""
    mine = department_ids(user)
    if not mine:
        return QualityReport.objects.none()
    return (
        QualityReport.objects.filter(
            state__in=[QualityReport.State.OPEN, QualityReport.State.ACKNOWLEDGED],
            reporting_department_id__in=mine,
        )
        .select_related(*_REPORT_JOINS)
        .order_by(F("overdue_since").asc(nulls_last=True), "due_date", "id")
    )
