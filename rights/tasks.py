from celery import shared_task

from rights import deliveries, services


@shared_task
def expire_grants():
    return services.grants_expire_due()


@shared_task
def warn_grant_expiry():
    return services.grants_warn_expiry()


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
def deliver(self, delivery_id):
    return deliveries.delivery_build(delivery_id).status


@shared_task
def dispatch_deliveries():
    return len(deliveries.deliveries_dispatch())


@shared_task
def sweep_deliveries():
    return deliveries.deliveries_sweep()


@shared_task
def open_attestations():
    from rights.attestations import attestations_open_due

    return attestations_open_due()


@shared_task
def flag_overdue_attestations():
    from rights.attestations import attestations_flag_overdue

    return attestations_flag_overdue()
