"""A signed-in person's chosen language wins over the cookie and Accept-Language.

The choice lives in their profile; it is copied into the session when they sign in or switch
(``SESSION_LANGUAGE_KEY``), so pages cost no extra query.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation

SESSION_LANGUAGE_KEY = "govshare_language"


def remember_in_session(request: HttpRequest, language: str) -> None:
    if hasattr(request, "session"):
        request.session[SESSION_LANGUAGE_KEY] = language


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: only copies the profile's choice into the session."""
    from departments.selectors import language_of

    if request is not None:
        remember_in_session(request, language_of(user))


class UserLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: activate the person's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = ""
        if hasattr(request, "session") and request.user.is_authenticated:
            language = request.session.get(SESSION_LANGUAGE_KEY, "")
        if language and language != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
