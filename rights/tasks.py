from celery import shared_task

from rights import services


@shared_task
def expire_grants() -> int:
    return services.grants_expire_due()


@shared_task
def warn_grant_expiry() -> int:
    return services.grants_warn_expiry()


@shared_task
def open_attestations() -> int:
    from rights.attestations import attestations_open_due

    return attestations_open_due()


@shared_task
def flag_overdue_attestations() -> int:
    from rights.attestations import attestations_flag_overdue

    return attestations_flag_overdue()
