"""Telling people about the witnesses: an alarm when one refuses an honest checkpoint, an alert
when the latest checkpoints stay unwitnessed longer than ``LEDGER_WITNESS_ALERT_AFTER``."""

import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from departments.selectors import auditors, office_reviewers
from ledger import witnesses
from ledger.models import LedgerCheckpoint, LedgerWitness
from notifications.services import Localized, notify


def _office_and_auditors() -> list[Any]:
    return list({user.pk: user for user in [*office_reviewers(), *auditors()]}.values())


def witness_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """Notify the office and the auditors once per alarm and once per stalled size."""
    now = now or timezone.now()
    sent = 0
    for witness in LedgerWitness.objects.exclude(alarm_at=None).order_by("pk"):
        assert witness.alarm_at is not None
        sent += len(
            notify(
                recipients=_office_and_auditors(),
                subject=Localized(
                    gettext_noop("Witness %(w)s refused a checkpoint the portal signed"),
                    {"w": witness.name},
                ),
                body=Localized(
                    gettext_noop(
                        "%(alarm)s\n\nThe portal checked this checkpoint's consistency before "
                        "signing it, so the refusal is a bug or an attack: compare the witness's "
                        "state with the log (manage.py ledger_verify --witness ...)."
                    ),
                    {"alarm": witness.alarm},
                ),
                key=f"witness-alarm:{witness.pk}:{witness.alarm_at.isoformat()}",
            )
        )
    if not settings.LEDGER_WITNESSES:
        return sent
    witnessed = witnesses.witnessed_size()
    waiting = LedgerCheckpoint.objects.filter(tree_size__gt=witnessed).order_by("tree_size").first()
    late = now - datetime.timedelta(seconds=settings.LEDGER_WITNESS_ALERT_AFTER)
    if waiting is not None and waiting.created_at <= late:
        latest = LedgerCheckpoint.objects.order_by("-tree_size").first()
        sent += len(
            notify(
                recipients=_office_and_auditors(),
                subject=Localized(
                    gettext_noop("The ledger is witnessed up to size %(n)d only"),
                    {"n": witnessed},
                ),
                body=Localized(
                    gettext_noop(
                        "The latest checkpoint has size %(m)d; fewer than %(q)d witnesses have "
                        "cosigned anything since size %(n)d (checkpoint %(w)d is waiting since "
                        "%(at)s). Check the witnesses in admin."
                    ),
                    {
                        "m": latest.tree_size if latest else waiting.tree_size,
                        "q": witnesses.quorum(),
                        "n": witnessed,
                        "w": waiting.tree_size,
                        "at": waiting.created_at,
                    },
                ),
                key=f"ledger-unwitnessed:{witnessed}",
            )
        )
    return sent


@shared_task
def witness_alerts() -> int:
    return witness_alerts_send()
