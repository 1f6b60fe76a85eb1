"""REST framework glue shared by every app: pagination and the JSON error format."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError

# The largest id a URL or a query parameter may name: 18 digits, below 2**63, so a lookup can
# never overflow a PostgreSQL bigint (core/routing.py uses the same bound for ``{id}``).
MAX_ID_DIGITS = 18


def id_param(params: Any, name: str) -> int | None:
    """The whole-number id in query parameter ``name``, or None when it is absent or empty.

    Anything else ("abc", "-1", 2**63) is a 400 naming the parameter, never a database error.
    """
    raw = params.get(name, "")
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
        raise ValidationError({name: [_("Give the id as a whole number, for example 12.")]})
    return int(raw)


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def validation_error_body(exc: DjangoValidationError) -> dict[str, Any]:
    """``{"detail": ..., "errors": {field: [messages]}}`` for a Django ValidationError."""
    if hasattr(exc, "error_dict"):
        errors = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
        return {"detail": _("The input is not valid."), "errors": errors}
    return {"detail": " ".join(exc.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the domain exceptions services raise.

    Every error body is JSON with a ``detail`` message; validation errors keep their per-field
    messages.
    """
    response: Response | None
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message)}
        body.update(getattr(exc, "extra", {}) or {})
        response = Response(body, status=exc.status_code)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, (Http404, DjangoPermissionDenied)) or "detail" in (response.data or {}):
        return response
    # Serializer field errors: keep them, with a readable summary beside them.
    response.data = {"detail": _("The input is not valid."), "errors": response.data}
    return response
