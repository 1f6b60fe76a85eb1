"""The access log: one row per access to shared data (download, real-time call, result-only
query, view of delivered data). Not in the ledger (too many rows); deliveries' hashes are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.models import AccessLog

if TYPE_CHECKING:  # for annotations only: no import at run time
    from django.http import HttpRequest
    from rest_framework.request import Request

    from departments.models import Department
    from rights.models import Grant


def client_address(request: HttpRequest | Request) -> str | None:
    """The caller's address as the server saw it (``REMOTE_ADDR``; a proxy sets it right via
    ``SECURE_PROXY_SSL_HEADER``-style middleware, never from a client-supplied header here)."""
    return request.META.get("REMOTE_ADDR") or None


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
