"""End of use: when a grant ends, the grantee attests deletion or return of delivered copies.

``attestations_open_due`` (a periodic task) opens an attestation for every revoked or expired
grant that lacks one, due ``DUE_WORKING_DAYS`` working days later; ``attestation_submit`` is the
grantee's requester attesting; ``attestations_flag_overdue`` flags what is late and tells the
office once per attestation. Opening and attesting each write one ledger entry; the statement
goes in as its SHA-256.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import IllegalTransition
from departments.models import Department, Membership
from departments.permissions import can_attest_end_of_use
from ledger.services import ledger_append, text_sha256
from notifications.services import notify
from rights.models import Attestation, Grant
from workdays.deadlines import add_working_days

DUE_WORKING_DAYS = 10
ENDED = [Grant.Status.REVOKED, Grant.Status.EXPIRED]
TRANSITIONS = {"attest": ({Attestation.State.PENDING}, Attestation.State.ATTESTED)}


def _users(department_id, roles):
    return (
        get_user_model()
        .objects.filter(
            memberships__department_id=department_id, memberships__role__in=roles, is_active=True
        )
        .distinct()
    )


def _office_reviewers():
    return (
        get_user_model()
        .objects.filter(
            memberships__department__kind=Department.Kind.OFFICE,
            memberships__role=Membership.Role.REVIEWER,
            is_active=True,
        )
        .distinct()
    )


def _ledger(attestation, event, actor, *, hashes=None, detail=None):
    grant = attestation.grant
    return ledger_append(
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


def attestations_open_due(*, today=None):
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
                attestation._change_reason = f"opened: grant {grant.status}"
                attestation.save()
                entry = _ledger(
                    attestation,
                    "attestation.open",
                    None,
                    detail={"grant_status": grant.status, "due": due.isoformat()},
                )
                Attestation.objects.filter(pk=attestation.pk).update(ledger_index=entry.index)
                notify(
                    recipients=_users(grant.grantee_department_id, [Membership.Role.REQUESTER]),
                    subject=_("Grant #%(id)d has ended: attest deletion or return by %(due)s")
                    % {"id": grant.pk, "due": due},
                    body=_(
                        "Your use of %(res)s has ended. Delete or return every delivered copy, "
                        "then attest it on govshare by %(due)s."
                    )
                    % {"res": grant.resource.title, "due": due},
                    url=f"/attestations/{attestation.pk}/",
                )
        except IntegrityError:
            continue  # another run opened it meanwhile
        opened += 1
    return opened


@transaction.atomic
def attestation_submit(*, actor, attestation, kind, statement):
    """Pending → attested by a requester of the grantee department: copies deleted or returned,
    with a statement of what was done. An attestation past its due date is still accepted."""
    attestation = (
        Attestation.objects.select_for_update()
        .select_related(
            "grant__grantee_department",
            "grant__resource__owner_department",
            "grant__resource__management_right_holder",
        )
        .get(pk=attestation.pk)
    )
    if not can_attest_end_of_use(actor, attestation):
        raise PermissionDenied(
            _("Only a requester of %(dept)s, the grantee, can attest the end of use.")
            % {"dept": attestation.grant.grantee_department.code}
        )
    if attestation.state not in TRANSITIONS["attest"][0]:
        raise IllegalTransition(_("This end of use has already been attested."))
    errors = {}
    if kind not in Attestation.Kind.values:
        errors["kind"] = _("Say whether the copies were deleted or returned.")
    if not (statement or "").strip():
        errors["statement"] = _("Describe what was deleted or returned, and when.")
    if errors:
        raise ValidationError(errors)
    attestation.state = TRANSITIONS["attest"][1]
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
    attestation._history_user = actor
    attestation._change_reason = f"attested: {kind}"
    attestation.save()
    grant = attestation.grant
    notify(
        recipients=_users(grant.resource.owner_department_id, [Membership.Role.STEWARD]),
        subject=_("Grant #%(id)d: %(dept)s attested the end of use")
        % {"id": grant.pk, "dept": grant.grantee_department.code},
        body=f"{attestation.get_kind_display()}\n\n{attestation.statement}",
        url=f"/attestations/{attestation.pk}/",
    )
    return attestation


def attestations_flag_overdue(*, today=None):
    """Flag attestations past their due date and tell the office once per attestation."""
    today = today or timezone.localdate()
    late = Attestation.objects.filter(
        state=Attestation.State.PENDING, due_date__lt=today, overdue_since__isnull=True
    ).select_related("grant__grantee_department", "grant__resource")
    flagged = 0
    for attestation in late:
        with transaction.atomic():
            updated = Attestation.objects.filter(
                pk=attestation.pk, state=Attestation.State.PENDING, overdue_since__isnull=True
            ).update(overdue_since=timezone.now())
            if not updated:
                continue
            grant = attestation.grant
            notify(
                recipients=_office_reviewers(),
                subject=_("End of use not attested: grant #%(id)d (%(dept)s, due %(due)s)")
                % {
                    "id": grant.pk,
                    "dept": grant.grantee_department.code,
                    "due": attestation.due_date,
                },
                body=_(
                    "%(dept)s has not attested deletion or return of the copies of %(res)s "
                    "delivered under grant #%(id)d; it was due on %(due)s."
                )
                % {
                    "dept": grant.grantee_department.code,
                    "res": grant.resource.title,
                    "id": grant.pk,
                    "due": attestation.due_date,
                },
                url=f"/attestations/{attestation.pk}/",
                key=f"attestation:{attestation.pk}:overdue",
            )
            flagged += 1
    return flagged
