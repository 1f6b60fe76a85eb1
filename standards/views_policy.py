"""``GET /api/v1/grants/{id}/policy/``: a grant as an ODRL 2.2 agreement (standards.odrl).

Visible to the grant's parties exactly as the grant is (rights.selectors.grant_for_user): the
grantee, the owner, the management-right holder and the office; 404 for anyone else.
"""

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rights.selectors import grant_for_user
from standards.odrl import grant_policy

JSON_LD = "application/ld+json"


class _JSONAlways(BaseContentNegotiation):
    """JSON whatever the client accepts: the agreement says application/ld+json itself, errors
    are the API's JSON (a client asking for JSON-LD only is not refused with 406)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class GrantPolicyView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONAlways

    @extend_schema(
        operation_id="grants_policy_retrieve",
        responses={
            (200, JSON_LD): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description=(
                    "The grant as an ODRL 2.2 odrl:Agreement in compacted JSON-LD, also a "
                    "Dataspace Protocol 2025-1 Agreement: assigner (owning department), assignee "
                    "(grantee), target (the dataset), one use permission constrained by purpose, "
                    "data items, method, period and daily volume, with its duties."
                ),
            )
        },
        description="The grant's usage boundaries as an ODRL agreement (JSON-LD).",
        tags=["grants"],
    )
    def get(self, request: Request, pk: int) -> Response:
        grant = grant_for_user(request.user, pk)
        return Response(grant_policy(grant), content_type=JSON_LD)
