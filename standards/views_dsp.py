"""The Dataspace Protocol endpoints (HTTPS binding): thin views over standards.dsp.

Every answer is ``application/json``; every refusal a ``CatalogError`` with its status, whatever
DRF or the message check refused (401, 403, 405, 413, 415, 429, 400, 404). The views are out of
the OpenAPI schema: the DSP's own JSON schemas describe them, and tests/test_dsp.py checks every
answer against those.

Callers are department systems with a DRF token (``Authorization: Token ...``); the session is
not read, so no CSRF check applies. ``/.well-known/dspace-version`` is public, as the protocol
requires.
"""

import math
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttling import ThrottledTokenAuthentication
from standards import dsp

# DRF's refusals, as CatalogError codes and reasons.
_DRF_ERRORS: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotAuthenticated: (
        dsp.Code.UNAUTHORIZED,
        "Authenticate with a department system's token: Authorization: Token <key>.",
    ),
    exceptions.AuthenticationFailed: (
        dsp.Code.UNAUTHORIZED,
        "The token is not valid, or its user is inactive.",
    ),
    exceptions.MethodNotAllowed: (dsp.Code.METHOD_NOT_ALLOWED, "This method is not allowed here."),
    exceptions.Throttled: (
        dsp.Code.TOO_MANY_REQUESTS,
        "Too many failed sign-ins with a token from this address. Try later.",
    ),
}


def error_response(error: dsp.DspError) -> Response:
    document = dsp.catalog_error(error.code, error.reasons)
    return Response(document, status=error.status, headers=error.headers)


class _DspView(APIView):
    """Token authentication, JSON whatever the Accept header, every error a CatalogError."""

    authentication_classes = [ThrottledTokenAuthentication]
    permission_classes: list[Any] = []
    parser_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    requires_participant = True

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return (JSONRenderer(), JSONRenderer.media_type)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.requires_participant:
            return
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not dsp.is_participant(request.user):
            raise dsp.DspError(
                403,
                dsp.Code.NOT_A_PARTICIPANT,
                ["The token's user holds no role in an active department, so is no participant."],
            )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, dsp.DspError):
            return error_response(exc)
        if isinstance(exc, exceptions.APIException):
            code, reason = _DRF_ERRORS.get(type(exc), (dsp.Code.INVALID_MESSAGE, str(exc.detail)))
            headers: dict[str, str] = {}
            if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
                headers["WWW-Authenticate"] = "Token"
            wait = getattr(exc, "wait", None)
            if isinstance(exc, exceptions.Throttled) and wait is not None:
                headers["Retry-After"] = str(math.ceil(wait))
            return error_response(dsp.DspError(exc.status_code, code, [reason], headers))
        return super().handle_exception(exc)


class CatalogRequestView(_DspView):
    http_method_names = ["post"]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        page = dsp.page_number(request.query_params.get("page"))
        dsp.message_precheck(request.content_type or "", request.META.get("CONTENT_LENGTH") or "")
        dsp.catalog_request_read(request.body)
        datasets = dsp.dsp_datasets(request.user)
        size = dsp.page_size()
        last_page = max(1, math.ceil(datasets.count() / size))
        if page > last_page:
            raise dsp.DspError(
                400, dsp.Code.INVALID_PAGE, [f"There is no page {page}: the last is {last_page}."]
            )
        resources = list(datasets[(page - 1) * size : page * size])
        document = dsp.catalog_document(resources, dsp.catalog_participant_id())
        links = dsp.page_links(page, last_page)
        return Response(document, headers={"Link": links} if links else None)


class DatasetView(_DspView):
    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)
    def get(self, request: Request, dataset_id: str) -> Response:
        return Response(dsp.dataset_document(dsp.dsp_dataset(request.user, dataset_id)))


class VersionsView(_DspView):
    """Unversioned and unauthenticated, as the protocol requires: a token is not even read."""

    authentication_classes: list[Any] = []
    requires_participant = False
    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(dsp.versions_document())


class NotFoundView(_DspView):
    """Any other path under /dsp/: 404 as a CatalogError, never the HTML page."""

    authentication_classes: list[Any] = []
    requires_participant = False
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise dsp.DspError(
            404,
            dsp.Code.NOT_FOUND,
            [
                "No DSP endpoint here: use POST /dsp/catalog/request or "
                "GET /dsp/catalog/datasets/<id>."
            ],
        )

    get = post = put = patch = delete = head = extend_schema(exclude=True)(_not_found)
