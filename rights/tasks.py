from celery import shared_task

from rights import services


@shared_task
def expire_grants():
    return services.grants_expire_due()


@shared_task
def warn_grant_expiry():
    return services.grants_warn_expiry()
