"""The access log: one row per access to shared data (download, real-time call, result-only
query, view of delivered data), and one per sign-in lockout and its clearing. Not in the ledger
(too many rows); deliveries' hashes are."""

from __future__ import annotations

import datetime
import ipaddress
from typing import TYPE_CHECKING, Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from audit.models import AccessLog

if TYPE_CHECKING:  # for annotations only: no import at run time
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest
    from rest_framework.request import Request

    from departments.models import Department
    from rights.models import Grant


def client_address(request: HttpRequest | Request) -> str | None:
    """The caller's address: the one rule for the access log and the sign-in lockout.

    With ``TRUSTED_PROXY_COUNT`` = 0 (the default) it is ``REMOTE_ADDR``, the peer of this
    process. Behind N proxies that each append the address they received from to
    ``X-Forwarded-For``, the N-th entry from the right is the address the outermost proxy saw;
    entries further left were written by the client and are never used. A request that did not
    come through the proxies (fewer entries) falls back to ``REMOTE_ADDR``. Anything that is not
    an IP address counts as unknown (``None``).
    """
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and header:
        forwarded = [part.strip() for part in header.split(",")]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def access_log_record(
    *,
    request: HttpRequest | Request,
    action: str,
    target: str,
    outcome: str,
    grant: Grant | None = None,
    department: Department | None = None,
    records: int = 0,
    detail: dict[str, Any] | None = None,
) -> AccessLog:
    user = request.user if request.user.is_authenticated else None
    return AccessLog.objects.create(
        user=user,
        department=department,
        action=action,
        grant=grant,
        target=target[:300],
        detail=detail or {},
        records=records,
        remote_addr=client_address(request),
        outcome=outcome,
    )


SIGNIN_LOCKED = "signin_locked"
SIGNIN_UNLOCKED = "signin_unlocked"


def signin_lockout_record(
    *,
    request: HttpRequest | Request,
    username: str | None,
    ip_address: str | None,
    failures: int | None,
) -> AccessLog | None:
    """Records that sign-in for ``username`` from ``ip_address`` has just been locked.

    django-axes reports a lockout on the failure that reaches the limit and again on every
    attempt refused while locked; only the first is a new lockout (``failures`` equals the
    limit), so one lockout is one row however long someone keeps trying (the attempts are
    counted on the lockout itself, in admin). Returns the row, or None when nothing was new.
    """
    limit = settings.AXES_FAILURE_LIMIT
    if failures is not None and failures != limit:
        return None
    username = (username or "")[:150]
    user = get_user_model().objects.filter(username=username).first() if username else None
    cool_off: datetime.timedelta = settings.AXES_COOLOFF_TIME
    return AccessLog.objects.create(
        user=user,
        action=SIGNIN_LOCKED,
        target=f"sign-in: {username}"[:300],
        detail={
            "username": username,
            "failures": limit,
            "cool_off_minutes": int(cool_off.total_seconds() // 60),
            "path": request.path[:200],
        },
        remote_addr=ip_address,
        outcome=AccessLog.Outcome.LIMITED,
    )


def signin_lockout_clear(
    *, actor: AbstractBaseUser, attempts: QuerySet[AccessAttempt], remote_addr: str | None
) -> int:
    """Clears the given sign-in lockouts (the office, in admin): the username may sign in again
    from that address at once. Each cleared lockout is recorded in the access log with who
    cleared it. Returns how many were cleared."""
    with transaction.atomic():
        cleared = list(attempts.select_for_update().order_by("pk"))
        users = {
            user.username: user
            for user in get_user_model().objects.filter(
                username__in={attempt.username for attempt in cleared if attempt.username}
            )
        }
        for attempt in cleared:
            AccessLog.objects.create(
                user=users.get(attempt.username or ""),
                action=SIGNIN_UNLOCKED,
                target=f"sign-in: {attempt.username or ''}"[:300],
                detail={
                    "username": attempt.username or "",
                    "ip_address": attempt.ip_address,
                    "failures": attempt.failures_since_start,
                    "cleared_by": actor.get_username(),
                },
                remote_addr=remote_addr,
                outcome=AccessLog.Outcome.ALLOWED,
            )
        AccessAttempt.objects.filter(pk__in=[attempt.pk for attempt in cleared]).delete()
    return len(cleared)
