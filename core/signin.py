"""The sign-in page's answer when django-axes refuses a locked-out sign-in."""

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page again, with the lockout explained, as 429.

    The form is unbound (no error list that would suggest the password was wrong: while locked,
    even the right password is refused, and saying which it was would help a guesser).
    """
    username = str((credentials or {}).get("username") or "")[:150]
    response = TemplateResponse(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": username}),
            "locked_out": True,
            "cool_off_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "next": request.POST.get("next", ""),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response.render()
    return response
