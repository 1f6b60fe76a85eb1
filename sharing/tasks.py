from celery import Task, shared_task

from sharing import deliveries


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=deliveries.MAX_ATTEMPTS,
)
def deliver(self: Task, delivery_id: int) -> str:
    return deliveries.delivery_build(delivery_id).status


@shared_task
def dispatch_deliveries() -> int:
    return len(deliveries.deliveries_dispatch())


@shared_task
def sweep_deliveries() -> int:
    return deliveries.deliveries_sweep()
