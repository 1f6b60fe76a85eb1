"""The department scoreboard: how each department answers requests and delivers.

Figures per department for a period ``[start, end)``:
- ``answered``: review steps the department took (owner opinions and management decisions);
- ``median_days`` / ``p90_days``: working days from the start of that review stage (the step
  before) to the answer, with the office's holiday calendar;
- ``deadlines_met``: answers given on or before the stage's due date (same working-day rule);
- ``open_overdue``: reviews waiting on the department that are still open and past their due
  date at the end of the period (or today, for a period that has not ended): the owner review on
  its resources, the management review by the management-right holder (an appeal: by the office);
- ``deadlines_met_rate``: ``deadlines_met`` among the answers *and* the open overdue reviews, so
  a review left unanswered past its deadline counts as missed, not as absent;
- ``approval_rate``: approvals among the department's management decisions;
- ``deliveries_made`` / ``deliveries_failed``: deliveries of the department's resources;
- ``quality_open``: quality reports on its resources still open at the end of the period;
  ``quality_resolved``: reports on its resources resolved or closed during the period;
- ``attestations_overdue``: end-of-use attestations its grants owe past their due date.
"""

import math
from collections import Counter, defaultdict

from django.db.models import Count, Q
from django.utils import timezone

from access_requests.models import Request, RequestStep
from access_requests.selectors import reviews_past_due
from departments.models import Department
from governance.models import QualityReport
from governance.selectors import quality_reports_open, quality_reports_resolved
from rights.models import Attestation
from sharing.models import Delivery
from workdays.deadlines import working_days_between
from workdays.models import Holiday, ReviewPolicy

ANSWERS = ("endorse", "return", "reject", "approve")
OWNER_STAGE = Request.State.OWNER_REVIEW


def _percentile(values, fraction):
    """Nearest-rank percentile (no interpolation: a figure someone actually waited)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _answer_figures(start, end):
    answers = list(
        RequestStep.objects.filter(
            action__in=ANSWERS, at__date__gte=start, at__date__lt=end, department__isnull=False
        ).values("id", "request_id", "action", "from_state", "department_id", "at")
    )
    request_ids = {a["request_id"] for a in answers}
    previous = defaultdict(list)
    for step in (
        RequestStep.objects.filter(request_id__in=request_ids)
        .order_by("at", "id")
        .values("id", "request_id", "at")
    ):
        previous[step["request_id"]].append(step)
    policy = ReviewPolicy.current()
    holidays = set(Holiday.objects.values_list("date", flat=True))
    figures = defaultdict(lambda: {"days": [], "met": 0, "approved": 0, "rejected": 0})
    for answer in answers:
        earlier = [s for s in previous[answer["request_id"]] if s["id"] < answer["id"]]
        if not earlier:
            continue
        began = earlier[-1]["at"].date()
        days = working_days_between(began, answer["at"].date(), holidays)
        allowed = (
            policy.owner_review_days
            if answer["from_state"] == OWNER_STAGE
            else policy.office_review_days
        )
        row = figures[answer["department_id"]]
        row["days"].append(days)
        row["met"] += days <= allowed
        if answer["from_state"] != OWNER_STAGE and answer["action"] in ("approve", "reject"):
            row["approved" if answer["action"] == "approve" else "rejected"] += 1
    return figures


def _counts(queryset, department_field):
    rows = queryset.order_by().values(department_field).annotate(n=Count("pk"))
    return {row[department_field]: row["n"] for row in rows}


def _delivery_figures(start, end):
    return {
        row["grant__resource__owner_department"]: row
        for row in Delivery.objects.filter(created_at__date__gte=start, created_at__date__lt=end)
        .values("grant__resource__owner_department")
        .annotate(
            made=Count("pk", filter=Q(status=Delivery.Status.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        )
    }


def _quality_figures(start, end):
    """Open and resolved reports per owning department; "open" is the resource page's rule
    (governance.selectors.QUALITY_OPEN_STATES)."""
    opened = _counts(
        quality_reports_open(QualityReport.objects.filter(created_at__date__lt=end)),
        "resource__owner_department",
    )
    resolved = _counts(
        quality_reports_resolved(
            QualityReport.objects.filter(updated_at__date__gte=start, updated_at__date__lt=end)
        ),
        "resource__owner_department",
    )
    return opened, resolved


def _open_overdue(end):
    """Reviews still open and past their due date (the attestations' rule: due before the
    period's end, or before today while the period runs), per department that owes the answer
    (access_requests.services._reviewer_of_current_stage: the owner at owner review, the
    management-right holder at management review, the office for an appeal)."""
    late = reviews_past_due(min(end, timezone.localdate()))
    office_review = late.filter(state=Request.State.OFFICE_REVIEW)
    owed = Counter(_counts(late.filter(state=OWNER_STAGE), "resource__owner_department"))
    owed.update(_counts(office_review.filter(appealed=False), "resource__management_right_holder"))
    appeals = office_review.filter(appealed=True).count()
    office = Department.objects.filter(kind=Department.Kind.OFFICE).order_by("code").first()
    if appeals and office is not None:
        owed[office.pk] += appeals
    return owed


def scoreboard(*, start, end):
    answers = _answer_figures(start, end)
    deliveries = _delivery_figures(start, end)
    quality_open, quality_resolved = _quality_figures(start, end)
    overdue = _counts(
        Attestation.objects.filter(
            state=Attestation.State.PENDING, due_date__lt=min(end, timezone.localdate())
        ),
        "grant__grantee_department",
    )
    open_overdue = _open_overdue(end)
    table = []
    for department in Department.objects.filter(is_active=True).order_by("code"):
        row = answers.get(department.pk, {"days": [], "met": 0, "approved": 0, "rejected": 0})
        decided = row["approved"] + row["rejected"]
        delivered = deliveries.get(department.pk, {"made": 0, "failed": 0})
        days = row["days"]
        late_open = open_overdue.get(department.pk, 0)
        judged = len(days) + late_open
        table.append(
            {
                "department": department.code,
                "name": department.name,
                "answered": len(days),
                "median_days": _percentile(days, 0.5),
                "p90_days": _percentile(days, 0.9),
                "deadlines_met": row["met"],
                "open_overdue": late_open,
                "deadlines_met_rate": round(row["met"] / judged, 3) if judged else None,
                "approval_rate": round(row["approved"] / decided, 3) if decided else None,
                "deliveries_made": delivered["made"],
                "deliveries_failed": delivered["failed"],
                "quality_open": quality_open.get(department.pk, 0),
                "quality_resolved": quality_resolved.get(department.pk, 0),
                "attestations_overdue": overdue.get(department.pk, 0),
            }
        )
    return table


CSV_COLUMNS = [
    "department",
    "name",
    "answered",
    "median_days",
    "p90_days",
    "deadlines_met",
    "open_overdue",
    "deadlines_met_rate",
    "approval_rate",
    "deliveries_made",
    "deliveries_failed",
    "quality_open",
    "quality_resolved",
    "attestations_overdue",
]
