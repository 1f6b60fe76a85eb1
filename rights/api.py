"""Grants over REST: visible to the grantee, the owner, the management-right holder and the
office (404 for anyone else). Each lifecycle endpoint calls exactly one service."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access_requests import services as request_services
from access_requests.api import request_response
from access_requests.serializers import RequestDetailSerializer
from core.api import LongListPagination
from core.serializers import RequiredReasonSerializer
from rights import attestations, selectors, services
from rights.models import Attestation, Grant
from rights.selectors import attestations_visible_to
from rights.serializers import AttestationSerializer, AttestSerializer, GrantSerializer

_View = TypeVar("_View", bound=Callable[..., Any])


def _lifecycle(description: str) -> Callable[[_View], _View]:
    return extend_schema(
        request=RequiredReasonSerializer, responses={200: GrantSerializer}, description=description
    )


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Usage rights created by approvals."""

    serializer_class = GrantSerializer

    # The schema generator reads the model (and the type of ``{id}``) here, without a user or a
    # database; the rows every call sees come from ``get_queryset``.
    queryset = Grant.objects.none()
    pagination_class = LongListPagination

    def get_queryset(self) -> QuerySet[Grant]:
        return selectors.grants_visible_to(self.request.user).select_related("approved_by")

    def _answer(self, grant: Grant) -> Response:
        return Response(GrantSerializer(self.get_queryset().get(pk=grant.pk)).data)

    def _reason(self) -> str:
        serializer = RequiredReasonSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["reason"]

    @_lifecycle("Active → suspended; the grantee loses the permission until resumed.")
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        grant = self.get_object()
        return self._answer(
            services.grant_suspend(actor=request.user, grant=grant, reason=self._reason())
        )

    @_lifecycle("Suspended → active, inside the validity period only.")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        grant = self.get_object()
        return self._answer(
            services.grant_resume(actor=request.user, grant=grant, reason=self._reason())
        )

    @_lifecycle("Active or suspended → revoked, for good.")
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        grant = self.get_object()
        return self._answer(
            services.grant_revoke(actor=request.user, grant=grant, reason=self._reason())
        )

    @extend_schema(
        request=None,
        responses={201: RequestDetailSerializer},
        description="File a new draft request prefilled from this grant (grantee's requester).",
    )
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str | None = None) -> Response:
        grant = self.get_object()
        renewal = request_services.request_renew(actor=request.user, grant=grant)
        return request_response(request.user, renewal, status.HTTP_201_CREATED)


class AttestationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """End-of-use attestations of ended grants: the grantee, the owner, the management-right
    holder and the office see them; the grantee's requesters attest."""

    queryset = Attestation.objects.none()
    serializer_class = AttestationSerializer

    def get_queryset(self) -> QuerySet[Attestation]:
        return attestations_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request=AttestSerializer,
        responses={200: AttestationSerializer},
        description="Attest that delivered copies were deleted or returned (grantee's requester).",
    )
    @action(detail=True, methods=["post"])
    def attest(self, request: Request, pk: str | None = None) -> Response:
        attestation = self.get_object()
        serializer = AttestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attestation = attestations.attestation_submit(
            actor=request.user, attestation=attestation, **serializer.validated_data
        )
        fresh = self.get_queryset().get(pk=attestation.pk)
        return Response(AttestationSerializer(fresh).data)
