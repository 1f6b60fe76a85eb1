"""Response headers that Django has no setting for, the absolute session lifetime, and the
refusal of NUL characters in addresses."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.errors import error_response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` as ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY`` on every response.

    The portal uses no camera, microphone, location, payment or device API; denying them means a
    script that slipped in (or a framed page, which X-Frame-Options and frame-ancestors already
    refuse) cannot ask the browser for them either.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


SIGNED_IN_AT = "_govshare_signed_in_at"


def session_stamp_sign_in(sender: object, *, request: HttpRequest | None, **kwargs: object) -> None:
    """``user_logged_in``: the session remembers when its user signed in."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


class SessionLifetimeMiddleware:
    """Ends a signed-in session ``SESSION_COOKIE_AGE`` seconds after sign-in, however often it
    has been saved since.

    Django's own expiry restarts whenever the session is written (a message that overflows its
    cookie, a password change); this one counts from the sign-in, stamped in the session by
    ``session_stamp_sign_in`` (a session from before this stamp gets it on its next request).
    Past it, the user is signed out before the view runs, so the page asks for a new sign-in.
    Must come after the session and authentication middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The session's own sign-in, not request.user: an API call with a token has a user but
        # no session, and must not get one.
        if SESSION_KEY in request.session:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if not isinstance(signed_in_at, int):
                request.session[SIGNED_IN_AT] = int(time.time())
            elif time.time() - signed_in_at > settings.SESSION_COOKIE_AGE:
                logout(request)
        return self.get_response(request)


class NulCharacterMiddleware:
    """Refuses a path or query string with a NUL character (``%00``): 400, before any view.

    PostgreSQL cannot hold NUL in text, so a filter such as ``?department=%00`` would otherwise
    reach the database as a DataError, a 500. No page or operation takes NUL anywhere; forms'
    text fields refuse it themselves and the API's parsers refuse it in bodies (core/parsers.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return error_response(
                request, 400, _("The address contains a NUL character, which no page takes.")
            )
        return self.get_response(request)
