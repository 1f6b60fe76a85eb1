"""End of use: when a grant ends, the grantee attests deletion or return of delivered copies.

``attestations_open_due`` (a periodic task) opens an attestation for every revoked or expired
grant that lacks one, due ``DUE_WORKING_DAYS`` working days later; ``attestation_submit`` is the
grantee's requester attesting; ``attestations_flag_overdue`` flags what is late and tells the
office once per attestation. Opening and attesting each write one ledger entry; the statement
goes in as its SHA-256.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from departments.models import Membership
from departments.permissions import can_attest_end_of_use
from departments.selectors import members_with_roles, office_reviewers
from ledger.models import LedgerEntry
from ledger.services import text_sha256
from notifications.services import Localized, notify
from rights.models import Attestation, Grant
from workdays.deadlines import add_working_days
from workflow.engine import Workflow, overdue_mark

DUE_WORKING_DAYS = 10
ENDED = [Grant.Status.REVOKED, Grant.Status.EXPIRED]
TRANSITIONS = {"attest": ({Attestation.State.PENDING}, Attestation.State.ATTESTED)}
ATTESTATIONS = Workflow(
    model=Attestation,
    transitions=TRANSITIONS,
    noun=gettext_lazy("attestation"),
    past={"attest": gettext_lazy("attested")},
    refusals={"attest": gettext_lazy("This end of use has already been attested.")},
)


def _ledger(
    attestation: Attestation,
    event: str,
    actor: Any,
    *,
    hashes: dict[str, str] | None = None,
    detail: dict[str, Any] | None = None,
) -> LedgerEntry:
    grant = attestation.grant
    return ATTESTATIONS.record(
        None,
        event=event,
        actor=actor,
        departments=[
            grant.grantee_department,
            grant.resource.owner_department,
            grant.resource.management_right_holder,
        ],
        subject={
            "attestation": attestation.pk,
            "grant": grant.pk,
            "resource": grant.resource_id,
        },
        hashes=hashes,
        detail=detail,
    )


def attestations_open_due(*, today: datetime.date | None = None) -> int:
    """Open an attestation for every ended grant that lacks one; returns how many were opened.

    Safe to run repeatedly and concurrently: a grant has at most one attestation (one-to-one).
    """
    today = today or timezone.localdate()
    due = add_working_days(today, DUE_WORKING_DAYS)
    lacking = (
        Grant.objects.filter(status__in=ENDED, attestation__isnull=True)
        .select_related(
            "grantee_department",
            "resource__owner_department",
            "resource__management_right_holder",
        )
        .order_by("pk")
    )
    opened = 0
    for grant in lacking:
        try:
            with transaction.atomic():
                attestation = Attestation(grant=grant, due_date=due)
                attestation._change_reason = f"opened: grant {grant.status}"  # type: ignore[attr-defined]
                attestation.save()
                entry = _ledger(
                    attestation,
                    "attestation.open",
                    None,
                    detail={"grant_status": grant.status, "due": due.isoformat()},
                )
                Attestation.objects.filter(pk=attestation.pk).update(ledger_index=entry.index)
                notify(
                    recipients=members_with_roles(
                        [grant.grantee_department_id], [Membership.Role.REQUESTER]
                    ),
                    subject=Localized(
                        gettext_noop(
                            "Grant #%(id)d has ended: attest deletion or return by %(due)s"
                        ),
                        {"id": grant.pk, "due": due},
                    ),
                    body=Localized(
                        gettext_noop(
                            "Your use of %(res)s has ended. Delete or return every delivered "
                            "copy, then attest it on govshare by %(due)s."
                        ),
                        {"res": grant.resource.title, "due": due},
                    ),
                    url=attestation.get_absolute_url(),
                )
        except IntegrityError:
            continue  # another run opened it meanwhile
        opened += 1
    return opened


@transaction.atomic
def attestation_submit(
    *, actor: Any, attestation: Attestation, kind: str, statement: str
) -> Attestation:
    """Pending → attested by a requester of the grantee department: copies deleted or returned,
    with a statement of what was done. An attestation past its due date is still accepted."""
    attestation = ATTESTATIONS.lock(
        attestation.pk,
        related=(
            "grant__grantee_department",
            "grant__resource__owner_department",
            "grant__resource__management_right_holder",
        ),
    )
    if not can_attest_end_of_use(actor, attestation):
        raise PermissionDenied(
            _("Only a requester of %(dept)s, the grantee, can attest the end of use.")
            % {"dept": attestation.grant.grantee_department.code}
        )
    ATTESTATIONS.check(attestation, "attest")
    errors = {}
    if kind not in Attestation.Kind.values:
        errors["kind"] = _("Say whether the copies were deleted or returned.")
    if not (statement or "").strip():
        errors["statement"] = _("Describe what was deleted or returned, and when.")
    if errors:
        raise ValidationError(errors)
    attestation.kind = kind
    attestation.statement = statement.strip()
    attestation.attested_by = actor
    attestation.attested_at = timezone.now()
    entry = _ledger(
        attestation,
        "attestation.attest",
        actor,
        hashes={"statement_sha256": text_sha256(attestation.statement)},
        detail={"kind": kind, "late": attestation.overdue_since is not None},
    )
    attestation.ledger_index = entry.index
    ATTESTATIONS.move(attestation, "attest", actor=actor, change_reason=f"attested: {kind}")
    grant = attestation.grant
    notify(
        recipients=members_with_roles(
            [grant.resource.owner_department_id], [Membership.Role.STEWARD]
        ),
        subject=Localized(
            gettext_noop("Grant #%(id)d: %(dept)s attested the end of use"),
            {"id": grant.pk, "dept": grant.grantee_department.code},
        ),
        body=Localized(
            gettext_noop("What was done: %(kind)s\n\n%(statement)s"),
            {"kind": Attestation.Kind(kind).label, "statement": attestation.statement},
        ),
        url=attestation.get_absolute_url(),
    )
    return attestation


def attestations_flag_overdue(*, today: datetime.date | None = None) -> int:
    """Flag attestations past their due date and tell the office once per attestation."""
    today = today or timezone.localdate()
    late = Attestation.objects.filter(
        state=Attestation.State.PENDING, due_date__lt=today, overdue_since__isnull=True
    ).select_related("grant__grantee_department", "grant__resource")
    return overdue_mark(
        late,
        same=("state",),
        recipients=lambda attestation: office_reviewers(),
        subject=lambda attestation: Localized(
            gettext_noop("End of use not attested: grant #%(id)d (%(dept)s, due %(due)s)"),
            {
                "id": attestation.grant.pk,
                "dept": attestation.grant.grantee_department.code,
                "due": attestation.due_date,
            },
        ),
        body=lambda attestation: Localized(
            gettext_noop(
                "%(dept)s has not attested deletion or return of the copies of %(res)s "
                "delivered under grant #%(id)d; it was due on %(due)s."
            ),
            {
                "dept": attestation.grant.grantee_department.code,
                "res": attestation.grant.resource.title,
                "id": attestation.grant.pk,
                "due": attestation.due_date,
            },
        ),
        url=lambda attestation: attestation.get_absolute_url(),
        key=lambda attestation: f"attestation:{attestation.pk}:overdue",
    )
