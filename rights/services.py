"""Write paths for departments, memberships and grants.

A department's auth group mirrors its memberships: a user is in the group exactly while they hold
at least one role in the department. These functions are the only place that changes either.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from core.exceptions import IllegalTransition
from departments.permissions import can_manage_grant
from ledger.services import ledger_append, text_sha256
from rights.models import Grant, GrantEvent

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
USE_GRANT = "rights.use_grant"


def grant_create(*, request, approved_by, fields, max_records_per_day=None, max_calls_per_day=None):
    """Snapshot an approved request into an active grant and give the grantee its permission.

    Called by ``access_requests.services.request_approve`` inside its transaction.
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
    grant._history_user = approved_by
    grant._change_reason = "granted"
    grant.save()
    assign_perm(USE_GRANT, grant.grantee_department.group, grant)
    GrantEvent.objects.create(
        grant=grant,
        action="grant",
        from_status=Grant.Status.ACTIVE,
        to_status=Grant.Status.ACTIVE,
        actor=approved_by,
    )
    return grant


def _grant_transition(grant_id, action, actor, reason, check_actor=True):
    grant = (
        Grant.objects.select_for_update()
        .select_related(
            "resource__management_right_holder",
            "resource__owner_department",
            "grantee_department",
        )
        .get(pk=grant_id)
    )
    allowed_from, to = GRANT_TRANSITIONS[action]
    if check_actor and not can_manage_grant(actor, grant):
        raise PermissionDenied(
            _("Only the holder of the shared-management right of %(res)s can do this.")
            % {"res": grant.resource.identifier}
        )
    if grant.status not in allowed_from:
        raise IllegalTransition(
            _("This grant is %(status)s; it cannot be %(action)s.")
            % {"status": grant.get_status_display().lower(), "action": GRANT_ACTION_PAST[action]}
        )
    from_status = grant.status
    grant.status = to
    if to in (Grant.Status.REVOKED, Grant.Status.EXPIRED):
        grant.ended_at = timezone.now()
    grant._history_user = actor
    grant._change_reason = f"{action}: {reason}"[:100] if reason else action
    grant.save()
    if to == Grant.Status.ACTIVE:
        assign_perm(USE_GRANT, grant.grantee_department.group, grant)
    else:
        remove_perm(USE_GRANT, grant.grantee_department.group, grant)
    entry = ledger_append(
        event=f"grant.{action}",
        actor=actor,
        departments=[
            grant.grantee_department,
            grant.resource.owner_department_id and grant.resource.owner_department,
            grant.resource.management_right_holder,
        ],
        subject={"grant": grant.pk, "request": grant.request_id, "resource": grant.resource_id},
        hashes={"reason_sha256": text_sha256(reason)} if reason else None,
        detail={"from": from_status, "to": to},
    )
    GrantEvent.objects.create(
        grant=grant,
        action=action,
        from_status=from_status,
        to_status=to,
        actor=actor,
        reason=reason,
        ledger_index=entry.index,
    )
    return grant


def _require_reason(reason):
    if not (reason or "").strip():
        raise ValidationError(
            {"reason": _("Give the reason; it is recorded and sent to the grantee.")}
        )
    return reason.strip()


def _tell_grantee(grant, subject, body):
    from notifications.services import notify

    notify(
        recipients=grant.grantee_department.group.user_set.all(),
        subject=subject,
        body=body,
        url=f"/grants/{grant.pk}/",
    )


@transaction.atomic
def grant_suspend(*, actor, grant, reason):
    """Active → suspended; the grantee loses the permission to use it until resumed."""
    reason = _require_reason(reason)
    grant = _grant_transition(grant.pk, "suspend", actor, reason)
    _tell_grantee(grant, _("Grant #%(id)d suspended") % {"id": grant.pk}, reason)
    return grant


@transaction.atomic
def grant_resume(*, actor, grant, reason):
    """Suspended → active, only while the grant is inside its validity period."""
    reason = _require_reason(reason)
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    if locked.valid_until < timezone.localdate():
        raise IllegalTransition(_("The grant's validity period has ended; file a renewal."))
    grant = _grant_transition(grant.pk, "resume", actor, reason)
    _tell_grantee(grant, _("Grant #%(id)d resumed") % {"id": grant.pk}, reason)
    return grant


@transaction.atomic
def grant_revoke(*, actor, grant, reason):
    """Active or suspended → revoked, for good."""
    reason = _require_reason(reason)
    grant = _grant_transition(grant.pk, "revoke", actor, reason)
    _tell_grantee(grant, _("Grant #%(id)d revoked") % {"id": grant.pk}, reason)
    return grant


def grants_expire_due(*, today=None):
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


def grants_warn_expiry(*, today=None, days_before=(14, 3)):
    """Warn grantees 14 and 3 days before the end; each warning goes once per grant and person."""
    from notifications.services import notify

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
                        subject=_("Grant #%(id)d ends in %(days)d days")
                        % {"id": grant.pk, "days": days},
                        body=_("Your use of %(res)s ends on %(date)s. Renew it in time.")
                        % {"res": grant.resource.title, "date": grant.valid_until},
                        url=f"/grants/{grant.pk}/",
                        key=f"grant:{grant.pk}:expiry:{days}",
                    )
                )
    return sent
