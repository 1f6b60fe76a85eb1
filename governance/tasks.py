"""Periodic jobs of the governance loop; each one calls a service (see settings' beat schedule)."""

from celery import shared_task

from governance.services import demands as demand_services
from governance.services import freshness as freshness_services
from governance.services import quality as services


@shared_task
def flag_stale_resources():
    """Flag resources whose newest release is older than their update cycle; tell stewards."""
    flagged, cleared = freshness_services.resources_flag_stale()
    return {"flagged": flagged, "cleared": cleared}


@shared_task
def mark_overdue_quality_reports():
    return services.quality_reports_mark_overdue()


@shared_task
def mark_overdue_demands():
    return demand_services.demands_mark_overdue()
