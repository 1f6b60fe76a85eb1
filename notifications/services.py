"""Sending notifications: an in-app row per person and an email, after the change commits."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from notifications.models import Notification

logger = logging.getLogger(__name__)


def notify(*, recipients, subject, body, url="", key=""):
    """Record a notification for each recipient and email them once the transaction commits.

    With ``key``, a person who already has a notification with that key gets nothing new, so
    periodic jobs can call this repeatedly.
    """
    recipients = {user.pk: user for user in recipients if user.is_active}
    if key:
        already = set(
            Notification.objects.filter(recipient_id__in=recipients, key=key).values_list(
                "recipient_id", flat=True
            )
        )
        recipients = {pk: user for pk, user in recipients.items() if pk not in already}
    if not recipients:
        return []
    created = Notification.objects.bulk_create(
        [
            Notification(recipient=user, subject=subject, body=body, url=url, key=key)
            for user in recipients.values()
        ]
    )
    link = f"\n\n{settings.SITE_URL.rstrip('/')}{url}" if url else ""
    messages = [
        (f"[govshare] {subject}", body + link, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in recipients.values()
        if user.email
    ]
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return created


def _send(messages):
    # The in-app notification is the record; a mail server that is down must not turn a
    # committed decision into an error page.
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("could not email %d notification(s)", len(messages))


def notification_mark_read(*, user, notification_ids):
    from django.utils import timezone

    return Notification.objects.filter(
        recipient=user, pk__in=notification_ids, read_at__isnull=True
    ).update(read_at=timezone.now())
