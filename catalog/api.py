from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from catalog import selectors, services
from catalog.filters import ResourceFilter
from catalog.serializers import (
    ReleaseSerializer,
    ReleaseUploadSerializer,
    ResourceSerializer,
    RetireSerializer,
)
from core.api import LongListPagination
from core.openapi import error, paginated
from core.parsers import FormParser, JSONParser, MultiPartParser
from departments.permissions import can_manage_resource


class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The catalog. Everyone signed in reads published entries; the owner's stewards write."""

    serializer_class = ResourceSerializer
    pagination_class = LongListPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ResourceFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.catalog_queryset(self.request.user).prefetch_related(
            "data_items", "related_resources"
        )

    def filter_queryset(self, queryset):
        # Catalog filters (and the default "hide retired") apply to the list, not to one entry.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def _fresh(self, resource):
        return self.get_serializer(self.get_queryset().get(pk=resource.pk)).data

    def _for_steward(self, perm):
        resource = self.get_object()
        if not can_manage_resource(self.request.user, resource, perm):
            raise PermissionDenied(_("Only the owning department's data stewards can do this."))
        return resource

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resource = services.resource_create(
            actor=request.user,
            owner_department=serializer.validated_data["owner_department"],
            **serializer.service_kwargs(),
        )
        return Response(self._fresh(resource), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        resource = self._for_steward("catalog.change_resource")
        serializer = self.get_serializer(resource, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        resource = services.resource_update(
            actor=request.user, resource=resource, **serializer.service_kwargs()
        )
        return Response(self._fresh(resource))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        resource = self._for_steward("catalog.publish_resource")
        resource = services.resource_publish(actor=request.user, resource=resource)
        return Response(self._fresh(resource))

    @extend_schema(request=RetireSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        resource = self._for_steward("catalog.publish_resource")
        serializer = RetireSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resource = services.resource_retire(
            actor=request.user, resource=resource, reason=serializer.validated_data["reason"]
        )
        return Response(self._fresh(resource))

    @extend_schema(methods=["GET"], responses=paginated(ReleaseSerializer, "PaginatedReleaseList"))
    @extend_schema(
        methods=["POST"],
        request=ReleaseUploadSerializer,
        responses={
            201: ReleaseSerializer,
            411: error("The body was sent without a Content-Length."),
            413: error("The file is over RELEASE_MAX_BYTES; nothing was saved."),
        },
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def releases(self, request, pk=None):
        if request.method == "GET":
            resource = self.get_object()
            page = self.paginate_queryset(selectors.releases_of(resource))
            return self.get_paginated_response(ReleaseSerializer(page, many=True).data)
        resource = self._for_steward("catalog.upload_release")
        serializer = ReleaseUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        release = services.release_ingest(
            actor=request.user, resource=resource, upload=serializer.validated_data["file"]
        )
        return Response(ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)
