"""Write paths for grants, the usage right: created by an approval, then suspended, resumed,
revoked or expired through the workflow engine (``GRANTS``).

The grantee department's group holds ``rights.use_grant`` on the grant exactly while the grant
is active; these functions are the only place that gives or takes it.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from guardian.shortcuts import assign_perm, remove_perm

from access_requests.models import Request
from core.exceptions import IllegalTransition
from core.hooks import run_hooks
from departments.permissions import can_manage_grant
from ledger.services import text_sha256
from notifications.services import Localized, notify
from rights.models import Grant, GrantEvent
from workflow.engine import Workflow

# --- Grants: the usage right ----------------------------------------------------------------

GRANT_TRANSITIONS = {
    "suspend": ({Grant.Status.ACTIVE}, Grant.Status.SUSPENDED),
    "resume": ({Grant.Status.SUSPENDED}, Grant.Status.ACTIVE),
    "revoke": ({Grant.Status.ACTIVE, Grant.Status.SUSPENDED}, Grant.Status.REVOKED),
    "expire": ({Grant.Status.ACTIVE, Grant.Status.SUSPENDED}, Grant.Status.EXPIRED),
}
GRANT_ACTION_PAST = {
    "suspend": gettext_lazy("suspended"),
    "resume": gettext_lazy("resumed"),
    "revoke": gettext_lazy("revoked"),
    "expire": gettext_lazy("expired"),
}
GRANTS = Workflow(
    model=Grant,
    transitions=GRANT_TRANSITIONS,
    state_field="status",
    noun=gettext_lazy("grant"),
    past=GRANT_ACTION_PAST,
    step_model=GrantEvent,
    step_link="grant",
    refusal=gettext_lazy("This grant is %(state)s; it cannot be %(action)s."),
)
USE_GRANT = "rights.use_grant"
_LOCK_JOINS = (
    "resource__management_right_holder",
    "resource__owner_department",
    "grantee_department",
)


def grant_create(
    *,
    request: Request,
    approved_by: Any,
    fields: Iterable[str],
    max_records_per_day: int | None = None,
    max_calls_per_day: int | None = None,
) -> Grant:
    """Snapshot an approved request into an active grant and give the grantee its permission.

    The ``request_approved`` hook: ``access_requests.services.request_approve`` calls it inside
    its transaction, and links the approval's ledger entry from the "grant" event. Its own
    ``grant_created`` hook (the data-sharing agreement, standards.agreements) runs in the same
    transaction.
    """
    resource = request.resource
    grant = Grant(
        request=request,
        grantee_department=request.requesting_department,
        resource=resource,
        resource_version=resource.version,
        fields=list(fields),
        purpose=request.purpose,
        legal_basis=request.legal_basis,
        method=request.method,
        frequency=request.frequency,
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        max_records_per_day=max_records_per_day,
        max_calls_per_day=max_calls_per_day,
        approved_by=approved_by,
    )
    grant._history_user = approved_by  # type: ignore[attr-defined]
    grant._change_reason = "granted"  # type: ignore[attr-defined]
    grant.save()
    assign_perm(USE_GRANT, grant.grantee_department.group, grant)
    GRANTS.step(grant, "grant", Grant.Status.ACTIVE, Grant.Status.ACTIVE, actor=approved_by)
    run_hooks("grant_created", grant=grant, actor=approved_by)
    return grant


def grant_agreement_record(
    *,
    grant: Grant,
    signed_at: datetime.datetime,
    actor: Any = None,
    ledger_index: int | None = None,
) -> Grant:
    """Record that both departments signed the grant's data-sharing agreement at ``signed_at``.

    Called by standards.agreements inside the signing transaction (the agreement is the
    standards app's; rights only keeps the moment, which ``usable_grants`` reads). Idempotent:
    a grant keeps the first moment recorded. The grant's timeline gets an "agreement" step
    linked to the ledger entry of the signature that completed it.
    """
    locked: Grant = GRANTS.lock(grant.pk)
    if locked.agreement_signed_at is not None:
        return locked
    locked.agreement_signed_at = signed_at
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "agreement signed"  # type: ignore[attr-defined]
    locked.save(update_fields=["agreement_signed_at"])
    GRANTS.step(
        locked, "agreement", locked.status, locked.status, actor=actor, ledger_index=ledger_index
    )
    grant.agreement_signed_at = signed_at
    return locked


def _grant_transition(
    grant_id: int, action: str, actor: Any, reason: str, check_actor: bool = True
) -> Grant:
    """Lock, check the actor and the table, move, give or take the permission, record."""
    grant: Grant = GRANTS.lock(grant_id, related=_LOCK_JOINS)
    if check_actor and not can_manage_grant(actor, grant):
        raise PermissionDenied(
            _("Only the holder of the shared-management right of %(res)s can do this.")
            % {"res": grant.resource.identifier}
        )
    GRANTS.check(grant, action)
    if GRANTS.target(action, grant.status) in (Grant.Status.REVOKED, Grant.Status.EXPIRED):
        grant.ended_at = timezone.now()
    event = GRANTS.move(grant, action, actor=actor, reason=reason)
    if grant.status == Grant.Status.ACTIVE:
        assign_perm(USE_GRANT, grant.grantee_department.group, grant)
    else:
        remove_perm(USE_GRANT, grant.grantee_department.group, grant)
    GRANTS.record(
        event,
        event=f"grant.{action}",
        departments=[
            grant.grantee_department,
            grant.resource.owner_department_id and grant.resource.owner_department,
            grant.resource.management_right_holder,
        ],
        subject={"grant": grant.pk, "request": grant.request_id, "resource": grant.resource_id},
        hashes={"reason_sha256": text_sha256(reason)} if reason else None,
        detail={"from": event.from_state, "to": event.to_state},
    )
    return grant


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError(
            {"reason": _("Give the reason; it is recorded and sent to the grantee.")}
        )
    return reason.strip()


def _tell_grantee(grant: Grant, subject: str, reason: str) -> None:
    """``subject`` is a msgid (``gettext_noop``) naming the grant's ``id``, worded in each
    grantee's language; the body is the office's reason as written."""
    notify(
        recipients=grant.grantee_department.group.user_set.all(),
        subject=Localized(subject, {"id": grant.pk}),
        body=reason,
        url=grant.get_absolute_url(),
    )


@transaction.atomic
def grant_suspend(*, actor: Any, grant: Grant, reason: str) -> Grant:
    """Active → suspended; the grantee loses the permission to use it until resumed."""
    reason = _require_reason(reason)
    grant = _grant_transition(grant.pk, "suspend", actor, reason)
    _tell_grantee(grant, gettext_noop("Grant #%(id)d suspended"), reason)
    return grant


@transaction.atomic
def grant_resume(*, actor: Any, grant: Grant, reason: str) -> Grant:
    """Suspended → active, only while the grant is inside its validity period."""
    reason = _require_reason(reason)
    locked: Grant = GRANTS.lock(grant.pk)
    if locked.valid_until < timezone.localdate():
        raise IllegalTransition(_("The grant's validity period has ended; file a renewal."))
    grant = _grant_transition(grant.pk, "resume", actor, reason)
    _tell_grantee(grant, gettext_noop("Grant #%(id)d resumed"), reason)
    return grant


@transaction.atomic
def grant_revoke(*, actor: Any, grant: Grant, reason: str) -> Grant:
    """Active or suspended → revoked, for good."""
    reason = _require_reason(reason)
    grant = _grant_transition(grant.pk, "revoke", actor, reason)
    _tell_grantee(grant, gettext_noop("Grant #%(id)d revoked"), reason)
    return grant


def grants_expire_due(*, today: datetime.date | None = None) -> int:
    """Expire every grant whose validity has ended; returns how many. Safe to run repeatedly."""
    today = today or timezone.localdate()
    due = Grant.objects.filter(
        status__in=[Grant.Status.ACTIVE, Grant.Status.SUSPENDED], valid_until__lt=today
    ).values_list("pk", flat=True)
    expired = 0
    for grant_id in list(due):
        with transaction.atomic():
            try:
                grant = _grant_transition(grant_id, "expire", None, "", check_actor=False)
            except IllegalTransition:
                continue  # changed meanwhile
            _tell_grantee(
                grant,
                _("Grant #%(id)d expired") % {"id": grant.pk},
                _("The validity period ended on %(date)s.") % {"date": grant.valid_until},
            )
            expired += 1
    return expired


def grants_warn_expiry(
    *, today: datetime.date | None = None, days_before: Iterable[int] = (14, 3)
) -> int:
    """Warn grantees 14 and 3 days before the end; each warning goes once per grant and person."""
    today = today or timezone.localdate()
    sent = 0
    for days in days_before:
        ending = today + datetime.timedelta(days=days)
        grants = Grant.objects.filter(
            status=Grant.Status.ACTIVE, valid_until=ending
        ).select_related("grantee_department__group", "resource")
        for grant in grants:
            with transaction.atomic():
                sent += len(
                    notify(
                        recipients=grant.grantee_department.group.user_set.all(),
                        subject=Localized(
                            gettext_noop("Grant #%(id)d ends in %(days)d days"),
                            {"id": grant.pk, "days": days},
                        ),
                        body=Localized(
                            gettext_noop("Your use of %(res)s ends on %(date)s. Renew it in time."),
                            {"res": grant.resource.title, "date": grant.valid_until},
                        ),
                        url=grant.get_absolute_url(),
                        key=f"grant:{grant.pk}:expiry:{days}",
                    )
                )
    return sent
