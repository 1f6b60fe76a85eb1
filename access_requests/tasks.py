from celery import shared_task

from access_requests import services


@shared_task
def mark_overdue_requests() -> int:
    return services.requests_mark_overdue()
