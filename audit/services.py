"""The access log: one row per access to shared data (download, real-time call, result-only
query, view of delivered data). Not in the ledger (too many rows); deliveries' hashes are."""

from audit.models import AccessLog


def client_address(request):
    """The caller's address as the server saw it (``REMOTE_ADDR``; a proxy sets it right via
    ``SECURE_PROXY_SSL_HEADER``-style middleware, never from a client-supplied header here)."""
    return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *, request, action, target, outcome, grant=None, department=None, records=0, detail=None
):
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
