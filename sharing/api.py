from typing import NoReturn

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.openapi import error, paginated
from core.throttling import DATA_THROTTLES
from rights import selectors
from rights.models import Grant
from sharing import access
from sharing.models import Delivery
from sharing.serializers import DeliverySerializer, VerifySerializer


class RecordsPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _logged_not_found(
    request: Request, action: str, target: str, grant: Grant | None = None
) -> NoReturn:
    """An outsider's attempt is refused with 404 (nothing to see) and still logged."""
    access.log_not_visible(http_request=request, action=action, target=target, grant=grant)
    raise NotFound()


class GrantDataViewSet(viewsets.GenericViewSet):
    """The data side of a grant: deliveries, real-time records, result-only checks."""

    queryset = Grant.objects.none()
    serializer_class = DeliverySerializer

    def _grant(self, pk: str | None, action: str) -> Grant:
        # ``pk`` is None only in the signature: a detail route always has it.
        grant = selectors.grants_visible_to(self.request.user).filter(pk=pk).first()  # type: ignore[misc]
        if grant is None:
            _logged_not_found(
                self.request,
                action,
                f"grant {pk} {action}",
                Grant.objects.filter(pk=pk).first(),  # type: ignore[misc]
            )
        return grant

    @extend_schema(responses=paginated(DeliverySerializer, "PaginatedDeliveryList"))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        grant = selectors.grants_visible_to(request.user).filter(pk=pk).first()  # type: ignore[misc]  # a detail route
        if grant is None:
            raise NotFound()
        queryset = grant.deliveries.order_by("-created_at", "-id")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("ITEM", str, description="any approved item = value")],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], throttle_classes=DATA_THROTTLES)
    def records(self, request: Request, pk: str | None = None) -> Response:
        grant = self._grant(pk, "records")
        paginator = RecordsPagination()
        try:
            page = max(1, int(request.query_params.get("page", 1)))
            size = min(
                paginator.max_page_size,
                max(1, int(request.query_params.get("page_size", paginator.page_size))),
            )
        except ValueError:
            raise ValidationError({"page": "Give whole numbers for page and page_size."}) from None
        filters = {k: v for k, v in request.query_params.items() if k not in access.RESERVED_PARAMS}
        count, results = access.records_lookup(
            user=request.user,
            grant=grant,
            filters=filters,
            page=page,
            page_size=size,
            http_request=request,
        )
        base = request.build_absolute_uri(request.path)
        query = request.query_params.copy()

        def link(number: int) -> str:
            query["page"] = str(number)
            return f"{base}?{query.urlencode()}"

        return Response(
            {
                "count": count,
                "next": link(page + 1) if page * size < count else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": results,
            }
        )

    @extend_schema(request=VerifySerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], throttle_classes=DATA_THROTTLES)
    def verify(self, request: Request, pk: str | None = None) -> Response:
        grant = self._grant(pk, "verify")
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = access.result_verify(
            user=request.user,
            grant=grant,
            match=serializer.validated_data["match"],
            check=serializer.validated_data.get("check") or {},
            http_request=request,
        )
        return Response({"result": result})


class DeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Delivery.objects.none()
    serializer_class = DeliverySerializer

    def get_queryset(self) -> QuerySet[Delivery]:
        grants = selectors.grants_visible_to(self.request.user).values("pk")
        return Delivery.objects.filter(grant_id__in=grants).select_related("grant")

    def throttle_grant_id(self) -> int | None:
        """Downloads count against the delivery's grant (core.throttling.DataGrantThrottle)."""
        return (
            Delivery.objects.filter(pk=self.kwargs["pk"]).values_list("grant_id", flat=True).first()
        )

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            410: error("The stored copy was deleted after the grant ended (retention)."),
        }
    )
    @action(detail=True, methods=["get"], throttle_classes=DATA_THROTTLES)
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        delivery = self.get_queryset().filter(pk=pk).first()  # type: ignore[misc]  # a detail route
        if delivery is None:
            existing = Delivery.objects.filter(pk=pk).select_related("grant").first()  # type: ignore[misc]
            _logged_not_found(
                request, "download", f"delivery {pk}", existing.grant if existing else None
            )
        handle = access.delivery_open(user=request.user, delivery=delivery, http_request=request)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"govshare-delivery-{delivery.pk}.zip",
            content_type="application/zip",
        )
