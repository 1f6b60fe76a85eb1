from celery import shared_task

from sharing import deliveries, upkeep


# Acknowledged on receipt, not late: the delivery row, not the message, is the work to do. A
# worker killed mid-build leaves no message behind in Redis's unacknowledged set; the sweeper
# sees the heartbeat stop and sends the delivery again within a minute. Failed attempts are sent
# again by the sweeper after their backoff (``retry_at``), so no task waits in the broker with an
# ETA either.
@shared_task(acks_late=False)
def deliver(delivery_id: int) -> str:
    return deliveries.delivery_build(delivery_id).status


@shared_task
def dispatch_deliveries() -> int:
    return len(deliveries.deliveries_dispatch())


@shared_task
def sweep_deliveries() -> int:
    return deliveries.deliveries_sweep()


@shared_task
def remove_orphan_delivery_files() -> int:
    return upkeep.orphan_files_remove()


@shared_task
def purge_retained_deliveries() -> int:
    return upkeep.deliveries_purge_retained()
