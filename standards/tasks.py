from celery import shared_task

from standards import agreements


@shared_task
def remind_unsigned_agreements() -> int:
    return agreements.agreements_remind_unsigned()
