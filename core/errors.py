"""The error pages (``handler400/403/404/500``, the upload limit's 411 and 413), JSON under /api/.

Each page says what happened and what to do next, in the site's layout. Under ``/api/`` the same
sentence comes back as JSON ``{"detail": ...}`` with the same status (DRF's own views already
answer so; this covers URLs that match no view and errors raised outside DRF).

A 403 shows the ``PermissionDenied`` message: the services and views raise it with a sentence
written for the person refused ("The audit search is for auditors ..."). 400 and 404 messages
are Django's or a parser's (technical, or naming objects the visitor may not see): never shown.
The 500 page is rendered without the request, so no context processor or database is touched.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

API_PREFIX = "/api/"
# Machine-facing paths answered in JSON even when the error comes before their views (a NUL in
# the query, a bad request line): the REST API and the Dataspace Protocol endpoints.
JSON_PREFIXES = (API_PREFIX, "/dsp/", "/.well-known/dspace-version")

PAGES: dict[int, tuple[Promise, Promise, tuple[Promise, ...]]] = {
    400: (
        gettext_lazy("The request could not be understood"),
        gettext_lazy("What the browser sent was incomplete or malformed, so nothing was changed."),
        (gettext_lazy("Go back, reload the form and try again."),),
    ),
    403: (
        gettext_lazy("You cannot open this page"),
        gettext_lazy("Your account is signed in, but its roles do not allow this page or action."),
        (
            gettext_lazy(
                "If your work needs it, ask the data management office to give your account the "
                "role."
            ),
            gettext_lazy(
                "If you have another account with that role, sign out and sign in with it."
            ),
        ),
    ),
    404: (
        gettext_lazy("Page not found"),
        gettext_lazy(
            "There is no page at this address, or it shows something your department may not see."
        ),
        (
            gettext_lazy("Check the address, or follow the links from the catalog."),
            gettext_lazy(
                "If someone sent you this link, ask them whether your department is a party."
            ),
        ),
    ),
    411: (
        gettext_lazy("The upload did not say its size"),
        gettext_lazy(
            "Files are accepted here only with their length declared first (no chunked upload), "
            "so that a file over the limit is refused before it is sent. Nothing was saved."
        ),
        (gettext_lazy("Upload the file again from the form, or send it with a Content-Length."),),
    ),
    413: (
        gettext_lazy("The file is too large"),
        gettext_lazy("The upload was stopped before it was stored; nothing was saved."),
        (gettext_lazy("Split the data into smaller files, or ask the office to raise the limit."),),
    ),
    500: (
        gettext_lazy("Something went wrong on our side"),
        gettext_lazy(
            "The portal could not complete this request. The error is logged; nothing you did "
            "caused it."
        ),
        (
            gettext_lazy(
                "Try again in a few minutes; if it keeps happening, tell the data management "
                "office."
            ),
        ),
    ),
}


def _is_api(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith(JSON_PREFIXES)


def _context(status: int, reason: str = "") -> dict[str, Any]:
    heading, explanation, advice = PAGES[status]
    return {
        "status": status,
        "heading": heading,
        "explanation": explanation,
        "advice_list": advice,
        "reason": reason,
    }


def error_response(
    request: HttpRequest,
    status: int,
    reason: str = "",
    *,
    back_url: str = "",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The error page for ``status`` (with ``reason`` first, if any, and a link back to
    ``back_url``), or JSON ``{"detail": ..., **extra}`` under /api/."""
    if _is_api(request):
        detail = reason or str(PAGES[status][0]) + "."
        return JsonResponse({"detail": detail, **(extra or {})}, status=status)
    context = _context(status, reason) | {"back_url": back_url}
    body = loader.render_to_string(f"{status}.html", context, request=request)
    return HttpResponse(body, status=status)


def _user_message(exception: Exception | None) -> str:
    """The message a ``PermissionDenied`` was raised with, when it has one."""
    if isinstance(exception, PermissionDenied) and exception.args:
        message = exception.args[0]
        if isinstance(message, str | Promise):
            return str(message)
    return ""


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403, _user_message(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Minimal on purpose: no request context (no context processor, no database, no session),
    and a plain page if even the template cannot be rendered."""
    if _is_api(request):
        return JsonResponse({"detail": _("A server error occurred; it is logged.")}, status=500)
    try:
        body = loader.get_template("500.html").render(_context(500))
    except Exception:  # the last resort must not fail in turn
        body = (
            '<!DOCTYPE html><html lang="en"><title>Server error</title>'
            "<h1>Something went wrong on our side</h1>"
            "<p>The portal could not complete this request. Try again in a few minutes.</p></html>"
        )
    return HttpResponse(body, status=500)
