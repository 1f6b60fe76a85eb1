"""REST framework glue shared by every app: pagination and the JSON error format."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError
from core.paging import (
    EXACT_COUNT_UP_TO,
    BadCursor,
    CheapCountPaginator,
    KeysetCursor,
    cheap_count,
    page_of,
)

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


class LongListPagination(StandardPagination):
    """``StandardPagination`` for lists of 10,000 and more (issue #16), same answer shape.

    - ``?page=N`` still works: the page is fetched ids first (core.paging.page_of) and the
      count is exact up to ``EXACT_COUNT_UP_TO``, the planner's estimate above
      (``count_is_estimate`` says which);
    - ``?cursor=`` (empty for the first page) pages by keyset: ``next`` and ``previous`` carry
      the ordering values of the page's last and first rows, so a deep page costs what the
      first does.
    """

    django_paginator_class = CheapCountPaginator
    cursor_query_param = "cursor"

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],  # type: ignore[override]
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        self.request = request
        self.cursor_mode = self.cursor_query_param in request.query_params
        if not self.cursor_mode:
            return super().paginate_queryset(queryset, request, view)
        size = self.get_page_size(request) or self.page_size
        keyset = KeysetCursor(queryset)
        token = request.query_params.get(self.cursor_query_param, "")
        forward, rows = True, queryset
        if token:
            try:
                forward, values = keyset.decode(token)
            except BadCursor as exc:
                raise ValidationError({self.cursor_query_param: [str(exc)]}) from None
            rows = keyset.after(values, forward)
        fetched = list(page_of(rows, 0, size + 1))
        more = len(fetched) > size
        fetched = fetched[:size]
        if not forward:
            fetched.reverse()
        self.count, self.count_is_estimate = cheap_count(queryset)
        self.next_token = self.previous_token = None
        if fetched:
            if forward and more or not forward and token:
                self.next_token = keyset.encode(fetched[-1], forward=True)
            if (not forward and more) or (forward and token):
                self.previous_token = keyset.encode(fetched[0], forward=False)
        return fetched

    def _cursor_link(self, token: str | None) -> str | None:
        if token is None:
            return None
        assert self.request is not None  # set by paginate_queryset
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def get_paginated_response(self, data: Any) -> Response:
        if self.cursor_mode:
            count, estimate = self.count, self.count_is_estimate
            links = self._cursor_link(self.next_token), self._cursor_link(self.previous_token)
        else:
            assert self.page is not None  # set by paginate_queryset
            paginator = self.page.paginator
            count, estimate = paginator.count, getattr(paginator, "estimated", False)
            links = self.get_next_link(), self.get_previous_link()
        return Response(
            {
                "count": count,
                "count_is_estimate": estimate,
                "next": links[0],
                "previous": links[1],
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": f"True when count is the planner's estimate (above "
            f"{EXACT_COUNT_UP_TO:,} rows on PostgreSQL); exact otherwise.",
        }
        answer["required"] = [*answer.get("required", ["count", "results"]), "count_is_estimate"]
        return answer

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset paging: empty for the first page, then the token in "
                "next or previous. Takes the place of page.",
                "schema": {"type": "string"},
            },
        ]


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
