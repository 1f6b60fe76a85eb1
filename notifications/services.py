"""Sending notifications: an in-app row per person and an email, after the change commits."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext

from notifications.models import Notification

logger = logging.getLogger(__name__)

# send_mass_mail's (subject, message, from_email, recipient_list)
Mail = tuple[str, str, str | None, list[str]]


@dataclass(frozen=True)
class Localized:
    """A message to be worded in each recipient's own language: a msgid (marked with
    ``gettext_noop`` so makemessages finds it) and its values, translated per recipient. A lazy
    value (a choice's ``label``, ``lowercase(label)``) is worded in that language too; data
    (titles, codes, reasons people wrote) goes as it is."""

    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        text = gettext(self.msgid)
        values = {k: str(v) if isinstance(v, Promise) else v for k, v in self.values.items()}
        return text % values if values else text


Text = str | Localized


def lowercase(text: Promise | str) -> str:
    """A lazy text (a choice's label) in lower case, worded when the notification is: "Monthly"
    in a sentence reads "monthly". A Promise at run time (typed str, as django-stubs types lazy)."""
    return lazy(lambda: str(text).lower(), str)()


def _worded(text: Text) -> str:
    return text.render() if isinstance(text, Localized) else str(text)


def notify(
    *, recipients: Iterable[Any], subject: Text, body: Text, url: str = "", key: str = ""
) -> list[Notification]:
    """Record a notification for each recipient and email them once the transaction commits.

    ``subject`` and ``body`` given as ``Localized`` are worded in each recipient's language.

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
    languages = _languages(recipients)
    worded: dict[int, tuple[str, str]] = {}
    for pk in recipients:
        # Each person's own language (their profile), else the site's default.
        with translation.override(languages.get(pk) or settings.LANGUAGE_CODE):
            worded[pk] = (_worded(subject)[:200], _worded(body))
    created = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user, subject=worded[pk][0], body=worded[pk][1], url=url, key=key
            )
            for pk, user in recipients.items()
        ]
    )
    link = f"\n\n{settings.SITE_URL.rstrip('/')}{url}" if url else ""
    messages: list[Mail] = [
        (
            f"[govshare] {worded[pk][0]}",
            worded[pk][1] + link,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        for pk, user in recipients.items()
        if user.email
    ]
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return created


def _languages(recipients: Mapping[int, Any]) -> dict[int, str]:
    from departments.models import Profile

    return dict(
        Profile.objects.filter(user_id__in=list(recipients))
        .exclude(language="")
        .values_list("user_id", "language")
    )


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
