"""API throttles: failed token sign-ins per client address, and the data calls per user and per
grant (issue #12). They sit on top of each grant's own daily limits (rights, sharing.access),
which stay the rule; these only stop a client hammering the portal.

Counts live in Django's cache (``CACHES``): the local-memory default counts per process, so a
production site with several gunicorn workers needs a shared cache (README, "Configuration").
Rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, read at each call so tests can change
them.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _ConfiguredRateThrottle(SimpleRateThrottle):
    """A rate throttle whose rate is looked up in the settings when used, not when imported."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class FailedTokenThrottle(_ConfiguredRateThrottle):
    """Bad tokens per client address: ``failed_auth`` a minute, then 429 for every token."""

    scope = "failed_auth"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def blocked(self, request: Any) -> bool:
        """True when this address has used up its failures (counts nothing)."""
        if self.rate is None:
            return False
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        duration = self.duration  # type: ignore[attr-defined]  # set from the rate
        while self.history and self.history[-1] <= self.now - duration:
            self.history.pop()
        return len(self.history) >= self.num_requests  # type: ignore[attr-defined]

    def record_failure(self, request: Any) -> None:
        if self.rate is None:
            return
        self.blocked(request)
        self.throttle_success()


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the failures of each client address counted.

    Once an address has sent ``failed_auth`` bad tokens within the period, every token it sends
    (even a good one) is answered 429 with ``Retry-After`` until the period has passed: guessing
    tokens stops being worth it. Requests with no token are not counted.
    """

    def authenticate(self, request: Request) -> Any:
        throttle = FailedTokenThrottle()
        words = get_authorization_header(request).split()
        has_token = bool(words) and words[0].lower() == self.keyword.lower().encode()
        if has_token and throttle.blocked(request):
            raise Throttled(
                wait=throttle.wait(),
                detail=_("Too many failed sign-ins with a token from this address. Try later."),
            )
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure(request)
            raise


class DataUserThrottle(_ConfiguredRateThrottle):
    """Data calls (records, checks, downloads) per signed-in user."""

    scope = "data_user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # the view answers 401 anyway
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class DataGrantThrottle(_ConfiguredRateThrottle):
    """Data calls per grant, whoever makes them. The view names the grant a call is under with
    ``throttle_grant_id()`` (a download is under its delivery's grant); by default the ``pk``
    of the route."""

    scope = "data_grant"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        name = getattr(view, "throttle_grant_id", None)
        grant_id = name() if callable(name) else view.kwargs.get("pk")
        if grant_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": grant_id}


DATA_THROTTLES = [DataUserThrottle, DataGrantThrottle]
