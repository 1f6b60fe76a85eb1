"""Receivers for other packages' signals: each only hands over to a service."""

from typing import Any

from audit.services import signin_lockout_record


def record_signin_lockout(
    sender: object, *, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    """django-axes' ``user_locked_out``."""
    signin_lockout_record(
        request=request,
        username=username,
        ip_address=ip_address,
        failures=getattr(request, "axes_failures_since_start", None),
    )
