"""The home page: what waits for the signed-in person, what they wait on, and what happened.

Each kind of task is one selector of the app whose rule it is (the review queue in
access_requests, signatures in standards, attestations in rights, disputes, quality reports and
demands in governance, deliveries in sharing); this module only words them as ``Task`` items,
each linking to the page where it is done, and orders them: overdue first, then by due date.
A fixed number of queries whatever the data: one per kind, one for the holiday calendar.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import QuerySet
from django.db.models.query import EmptyQuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access_requests import selectors as requests
from access_requests.models import Request
from departments.permissions import department_ids
from governance import selectors as governance
from governance.models import Demand, Dispute, QualityReport
from notifications.models import Notification
from rights import selectors as rights
from rights.models import Attestation
from sharing import selectors as sharing
from sharing.models import Delivery
from standards import selectors as standards
from standards.models import Agreement
from workdays.deadlines import holidays_between, working_days_between

RECENT_ACTIVITY = 10


@dataclass(frozen=True)
class Task:
    """One line of the task list: what to do (or what is awaited), where, and by when."""

    kind: str  # a short tag: "Review", "Signature", ...
    title: str
    url: str
    due: datetime.date | None = None
    overdue: bool = False
    detail: str = ""
    # Working days from today to ``due``, negative once past it (set by ``_order``).
    days_left: int | None = None

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    @property
    def late(self) -> bool:
        """Flagged overdue by its app, or past its due date."""
        return self.overdue or self.days_overdue > 0


# --- what waits for me ---------------------------------------------------------------------


def _review(request: Request) -> Task:
    values = {
        "id": request.pk,
        "res": request.resource.title,
        "dept": request.requesting_department.code,
    }
    if request.state == Request.State.OWNER_REVIEW:
        title = _("Give the owner's opinion on request #%(id)d (%(res)s) from %(dept)s")
    elif request.appealed:
        title = _("Hear the appeal of request #%(id)d (%(res)s) from %(dept)s")
    else:
        title = _("Decide on request #%(id)d (%(res)s) from %(dept)s")
    return Task(
        kind=_("Review"),
        title=title % values,
        url=request.get_absolute_url(),
        due=request.due_date,
        overdue=request.overdue_since is not None,
    )


def _returned(request: Request) -> Task:
    return Task(
        kind=_("Returned"),
        title=_("Change and resubmit request #%(id)d (%(res)s), returned for changes")
        % {"id": request.pk, "res": request.resource.title},
        url=request.get_absolute_url(),
    )


def _signature(agreement: Agreement) -> Task:
    grant = agreement.grant
    return Task(
        kind=_("Signature"),
        title=_("Sign the data-sharing agreement of grant #%(id)d (%(res)s)")
        % {"id": grant.pk, "res": grant.resource.title},
        url=reverse("agreements:agreement_detail", args=[grant.pk]),
        detail=_("%(owner)s provides, %(grantee)s receives")
        % {
            "owner": grant.resource.owner_department.code,
            "grantee": grant.grantee_department.code,
        },
    )


def _attestation(attestation: Attestation) -> Task:
    grant = attestation.grant
    return Task(
        kind=_("End of use"),
        title=_("Attest the deletion or return of the data of grant #%(id)d (%(res)s)")
        % {"id": grant.pk, "res": grant.resource.title},
        url=attestation.get_absolute_url(),
        due=attestation.due_date,
        overdue=attestation.overdue_since is not None,
    )


def _dispute_values(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "a": dispute.raised_by_department.code,
        "b": dispute.respondent_department.code,
        "res": dispute.resource.title,
    }


def _dispute_statement(dispute: Dispute) -> Task:
    return Task(
        kind=_("Dispute"),
        title=_("Answer dispute #%(id)d (%(a)s against %(b)s, on %(res)s)")
        % _dispute_values(dispute),
        url=dispute.get_absolute_url(),
        due=dispute.due_date,
    )


def _dispute_decision(dispute: Dispute) -> Task:
    if dispute.state == Dispute.State.AUTHORITY_REVIEW:
        title = _(
            "Record the supervising authority's decision on dispute #%(id)d (%(a)s against "
            "%(b)s, on %(res)s)"
        )
    else:
        title = _("Decide dispute #%(id)d (%(a)s against %(b)s, on %(res)s)")
    return Task(
        kind=_("Dispute"),
        title=title % _dispute_values(dispute),
        url=dispute.get_absolute_url(),
        due=dispute.due_date,
    )


def _quality_report(report: QualityReport) -> Task:
    return Task(
        kind=_("Quality report"),
        title=_("Answer quality report #%(id)d on %(res)s from %(dept)s")
        % {
            "id": report.pk,
            "res": report.resource.title,
            "dept": report.reporting_department.code,
        },
        url=report.get_absolute_url(),
        due=report.due_date,
        overdue=report.overdue_since is not None,
    )


def _demand_answer(demand: Demand) -> Task:
    return Task(
        kind=_("Demand"),
        title=_("Answer demand #%(id)d from %(dept)s: %(title)s")
        % {"id": demand.pk, "dept": demand.requesting_department.code, "title": demand.title},
        url=demand.get_absolute_url(),
        due=demand.due_date,
        overdue=demand.overdue_since is not None,
    )


def _demand_route(demand: Demand) -> Task:
    return Task(
        kind=_("Demand"),
        title=_("Route demand #%(id)d from %(dept)s to a likely owner: %(title)s")
        % {"id": demand.pk, "dept": demand.requesting_department.code, "title": demand.title},
        url=demand.get_absolute_url(),
    )


def _delivery_failed(delivery: Delivery) -> Task:
    return Task(
        kind=_("Delivery"),
        title=_("Delivery %(period)s of grant #%(id)d (%(res)s) failed")
        % {
            "period": delivery.period_key,
            "id": delivery.grant_id,
            "res": delivery.grant.resource.title,
        },
        url=delivery.grant.get_absolute_url(),
        detail=delivery.error,
    )


def _delivery_retry(delivery: Delivery) -> Task:
    return Task(
        kind=_("Delivery"),
        title=_("Retry delivery %(period)s of grant #%(id)d (%(res)s, %(dept)s), which failed")
        % {
            "period": delivery.period_key,
            "id": delivery.grant_id,
            "res": delivery.grant.resource.title,
            "dept": delivery.grant.grantee_department.code,
        },
        url=reverse("admin:sharing_delivery_change", args=[delivery.pk]),
        detail=delivery.error,
    )


def _deliveries_to_retry(user: Any) -> QuerySet[Delivery]:
    """The office retries in admin, which only staff open; a failed delivery of the user's own
    department's grant is already listed as such."""
    if not user.is_staff:
        return Delivery.objects.none()
    return sharing.failed_deliveries_to_retry(user).exclude(
        grant__grantee_department_id__in=department_ids(user)
    )


# Each kind of task: the selector that finds them for the user, and how one is worded. The
# home page lists them, the navigation counts them: the same querysets.
WAITING_FOR_ME: tuple[tuple[Callable[[Any], QuerySet[Any]], Callable[[Any], Task]], ...] = (
    (requests.review_queue, _review),
    (requests.requests_returned_to, _returned),
    (standards.agreements_awaiting_signature, _signature),
    (rights.attestations_due, _attestation),
    (governance.disputes_awaiting_statement, _dispute_statement),
    (governance.disputes_awaiting_decision, _dispute_decision),
    (governance.quality_reports_to_answer, _quality_report),
    (governance.demands_to_answer, _demand_answer),
    (governance.demands_to_route, _demand_route),
    (sharing.failed_deliveries_of_department_grants, _delivery_failed),
    (_deliveries_to_retry, _delivery_retry),
)


def task_count(user: Any) -> int:
    """How many tasks wait for the user (the length of ``tasks_for(user)``), in one query on
    every page that shows the navigation: the kinds' primary keys as one UNION ALL, counted. A
    kind the user's roles cannot hold is an empty queryset, which the union leaves out."""
    kinds = [selector(user).order_by().values_list("pk") for selector, _word in WAITING_FOR_ME]
    live = [kind for kind in kinds if not isinstance(kind, EmptyQuerySet)]
    if not live:
        return 0
    if len(live) == 1:
        return live[0].count()
    return live[0].union(*live[1:], all=True).count()


# --- what I wait on ------------------------------------------------------------------------


def _awaited(user: Any) -> Iterable[Task]:
    for request in requests.department_requests_under_review(user):
        yield Task(
            kind=_("Request"),
            title=_("Request #%(id)d (%(res)s)")
            % {"id": request.pk, "res": request.resource.title},
            url=request.get_absolute_url(),
            due=request.due_date,
            overdue=request.overdue_since is not None,
            detail=_("%(state)s, held by %(holder)s")
            % {"state": request.get_state_display(), "holder": requests.review_holder(request)},
        )
    for agreement in standards.agreements_awaiting_other_side(user):
        grant = agreement.grant
        provider = grant.resource.owner_department
        signed = agreement.provider_signed  # type: ignore[attr-defined]  # the selector's annotation
        other = grant.grantee_department if signed else provider
        yield Task(
            kind=_("Signature"),
            title=_("Data-sharing agreement of grant #%(id)d (%(res)s)")
            % {"id": grant.pk, "res": grant.resource.title},
            url=reverse("agreements:agreement_detail", args=[grant.pk]),
            detail=_("waiting for the signature of %(dept)s") % {"dept": other.code},
        )
    for dispute in governance.department_disputes_escalated(user):
        if dispute.state == Dispute.State.AUTHORITY_REVIEW:
            holder = _("the supervising authority")
        else:
            holder = _("the data management office")
        yield Task(
            kind=_("Dispute"),
            title=_("Dispute #%(id)d (%(a)s against %(b)s, on %(res)s)") % _dispute_values(dispute),
            url=dispute.get_absolute_url(),
            due=dispute.due_date,
            detail=_("escalated, with %(holder)s") % {"holder": holder},
        )
    for report in governance.department_quality_reports_awaiting_owner(user):
        yield Task(
            kind=_("Quality report"),
            title=_("Quality report #%(id)d on %(res)s")
            % {"id": report.pk, "res": report.resource.title},
            url=report.get_absolute_url(),
            due=report.due_date,
            overdue=report.overdue_since is not None,
            detail=_("%(state)s, waiting for the answer of %(dept)s")
            % {"state": report.get_state_display(), "dept": report.resource.owner_department.code},
        )


# --- ordering and working days -------------------------------------------------------------


def _order(tasks: list[Task], today: datetime.date) -> list[Task]:
    """Working days left on each, then overdue first, then by due date; undated last. The sort
    is stable, so items without a date keep their kind's order."""
    dues = [task.due for task in tasks if task.due is not None]
    holidays = holidays_between(min([*dues, today]), max([*dues, today])) if dues else set()

    def days_left(due: datetime.date) -> int:
        if due >= today:
            return working_days_between(today, due, holidays)
        return -working_days_between(due, today, holidays)

    dated = [
        replace(task, days_left=days_left(task.due)) if task.due is not None else task
        for task in tasks
    ]
    return sorted(
        dated,
        key=lambda t: (not t.late, t.due is None, t.due or today),
    )


def tasks_for(user: Any, today: datetime.date | None = None) -> list[Task]:
    """What waits for the user, overdue first, then by due date."""
    tasks = [word(item) for selector, word in WAITING_FOR_ME for item in selector(user)]
    return _order(tasks, today or timezone.localdate())


def awaited_by(user: Any, today: datetime.date | None = None) -> list[Task]:
    """What the user's departments wait on others for, overdue first, then by due date."""
    return _order(list(_awaited(user)), today or timezone.localdate())


def recent_activity(user: Any) -> QuerySet[Notification]:
    """The latest notifications to the user: the steps that concern them and their department."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[
        :RECENT_ACTIVITY
    ]
