"""Sending notifications: an in-app row per person and an email, after the change commits."""

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet

from notifications.models import Notification

logger = logging.getLogger(__name__)

# send_mass_mail's (subject, message, from_email, recipient_list)
Mail = tuple[str, str, str | None, list[str]]


def notify(
    *, recipients: Iterable[Any], subject: str, body: str, url: str = "", key: str = ""
) -> list[Notification]:
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
    messages: list[Mail] = [
        (f"[govshare] {subject}", body + link, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in recipients.values()
        if user.email
    ]
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return created


def _send(messages: Sequence[Mail]) -> None:
    # The in-app notification is the record; a mail server that is down must not turn a
    # committed decision into an error page.
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("could not email %d notification(s)", len(messages))


def notification_mark_read(
    *, user: Any, notification_ids: Iterable[int] | QuerySet[Notification, Any]
) -> int:
    from django.utils import timezone

    return Notification.objects.filter(
        recipient=user, pk__in=notification_ids, read_at__isnull=True
    ).update(read_at=timezone.now())
