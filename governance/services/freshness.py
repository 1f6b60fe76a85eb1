"""Freshness: a published resource whose newest release is older than its update cycle is
flagged stale (one history row, one ledger entry, its stewards told once per stale period) and
cleared once a new release arrives or it leaves the cycle."""

import datetime

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.models import Resource
from departments.models import Membership
from departments.selectors import members_with_roles
from governance.models import ResourceFreshness
from ledger.models import LedgerEntry
from ledger.services import ledger_append
from notifications.services import Localized, lowercase, notify

# How old the newest release may be before a published resource is flagged stale. Real-time and
# irregular resources have no cycle to miss.
CYCLE_DAYS: dict[str, int] = {
    Resource.UpdateCycle.DAILY: 1,
    Resource.UpdateCycle.WEEKLY: 7,
    Resource.UpdateCycle.MONTHLY: 31,
    Resource.UpdateCycle.QUARTERLY: 92,
    Resource.UpdateCycle.YEARLY: 366,
}


def _freshness_ledger(
    resource: Resource, stale: bool, newest: datetime.datetime | None, days: int | None
) -> LedgerEntry:
    return ledger_append(
        event="resource.stale" if stale else "resource.fresh",
        departments=[resource.owner_department, resource.management_right_holder],
        subject={"resource": resource.pk},
        detail={
            "update_cycle": resource.update_cycle,
            "cycle_days": days,
            "newest_release_at": newest.isoformat() if newest else None,
        },
    )


def _stale_basis(
    resource: Resource, newest: datetime.datetime | None, days: int | None, now: datetime.datetime
) -> datetime.datetime | None:
    """When the published resource is older than its cycle, the moment its age counts from (its
    newest release or, with none yet, its publication); None while it is fresh."""
    basis = newest or resource.published_at
    if resource.status != Resource.Status.PUBLISHED or days is None or basis is None:
        return None
    return basis if now - basis > datetime.timedelta(days=days) else None


def resources_flag_stale(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Flag published resources whose newest release (or, with none yet, their publication) is
    older than their update cycle, and clear the flag once a new release arrives or the resource
    leaves the cycle. Each change is one history row and one ledger entry; the stewards are told
    once per stale period. Returns ``(flagged, cleared)``."""
    now = now or timezone.now()
    candidates = (
        Resource.objects.filter(Q(status=Resource.Status.PUBLISHED) | Q(freshness__stale=True))
        .select_related("owner_department", "management_right_holder")
        .annotate(newest=Max("releases__created_at"))
        .order_by("id")
    )
    flagged = cleared = 0
    for resource in candidates:
        days = CYCLE_DAYS.get(resource.update_cycle)
        basis = _stale_basis(resource, resource.newest, days, now)
        stale = basis is not None
        with transaction.atomic():
            freshness, _created = ResourceFreshness.objects.select_for_update().get_or_create(
                resource=resource
            )
            if freshness.stale == stale:
                # Only the bookkeeping moves: no history row for "still the same".
                ResourceFreshness.objects.filter(pk=freshness.pk).update(
                    checked_at=now, newest_release_at=resource.newest
                )
                continue
            freshness.stale = stale
            freshness.stale_since = now if stale else None
            freshness.newest_release_at = resource.newest
            freshness.checked_at = now
            freshness._change_reason = "stale" if stale else "fresh"  # type: ignore[attr-defined]
            freshness.save()
            _freshness_ledger(resource, stale, resource.newest, days)
            if basis is not None:
                flagged += 1
                _tell_stale(resource, basis, days)
            else:
                cleared += 1
    return flagged, cleared


def _tell_stale(resource: Resource, basis: datetime.datetime, days: int | None) -> None:
    values = {
        "res": resource.title,
        "cycle": lowercase(Resource.UpdateCycle(resource.update_cycle).label),
        "date": timezone.localtime(basis).date().isoformat(),
        "n": days,
    }
    notify(
        recipients=members_with_roles([resource.owner_department_id], [Membership.Role.STEWARD]),
        subject=Localized(gettext_noop("%(res)s is out of date"), values),
        body=Localized(
            gettext_noop(
                "%(res)s is updated %(cycle)s, but its newest release dates from %(date)s (more "
                "than %(n)d days ago). Upload a new release."
            ),
            values,
        ),
        url=resource.get_absolute_url(),
        # Once per stale period: a new release (or first publication) starts a new one.
        key=f"resource:{resource.pk}:stale:{basis.isoformat()}",
    )
