"""The request workflow over REST. Each endpoint fetches what the caller may see (404 otherwise)
and calls exactly one service; the services decide who may do what (403) and when (409)."""

from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request as APIRequest
from rest_framework.response import Response

from access_requests import selectors, services
from access_requests.models import Request, RequestStep
from access_requests.selectors import AnyUser
from access_requests.serializers import (
    ApproveSerializer,
    RequestDetailSerializer,
    RequestSerializer,
    RequestWriteSerializer,
)
from core.api import LongListPagination
from core.parsers import JSONParser
from core.serializers import ReasonSerializer, RequiredReasonSerializer
from core.viewsets import transition_schema

_View = TypeVar("_View", bound=Callable[..., Any])


def _transition(serializer_class: type[serializers.Serializer] | None, description: str) -> Any:
    return transition_schema(serializer_class, RequestDetailSerializer, description)


def requests_for_api(user: AnyUser, *, with_steps: bool = True) -> QuerySet[Request]:
    """Visible requests with everything the serializers read chosen up front (fixed queries)."""
    queryset = selectors.requests_visible_to(user).select_related("grant").prefetch_related("items")
    if with_steps:
        steps = RequestStep.objects.select_related("actor", "department")
        queryset = queryset.prefetch_related(Prefetch("steps", queryset=steps))
    return queryset


def request_response(
    user: AnyUser, request_obj: Request, code: int = status.HTTP_200_OK
) -> Response:
    """The request as it now stands, with its timeline."""
    fresh = requests_for_api(user).get(pk=request_obj.pk)
    return Response(RequestDetailSerializer(fresh).data, status=code)


class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Requests for usage rights: the filing department sees its own; the owner, the
    management-right holder and the office see them once submitted."""

    # The schema generator reads the model (and the type of ``{id}``) here, without a user or a
    # database; the rows every call sees come from ``get_queryset``.
    queryset = Request.objects.none()
    pagination_class = LongListPagination
    # Items and the legal basis are nested: JSON only (a form cannot carry them faithfully).
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Request]:
        return requests_for_api(self.request.user, with_steps=self.action != "list")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "list":
            return RequestSerializer
        if self.action in ("create", "partial_update"):
            return RequestWriteSerializer
        return RequestDetailSerializer

    def _answer(self, request_obj: Request, code: int = status.HTTP_200_OK) -> Response:
        return request_response(self.request.user, request_obj, code)

    def _reason(
        self, serializer_class: type[serializers.Serializer] = RequiredReasonSerializer
    ) -> str:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["reason"]

    @extend_schema(request=RequestWriteSerializer, responses={201: RequestDetailSerializer})
    def create(self, request: APIRequest) -> Response:
        serializer = cast(RequestWriteSerializer, self.get_serializer(data=request.data))
        serializer.is_valid(raise_exception=True)
        filed = services.request_create(actor=request.user, **serializer.service_kwargs())
        return self._answer(filed, status.HTTP_201_CREATED)

    @extend_schema(request=RequestWriteSerializer, responses={200: RequestDetailSerializer})
    def partial_update(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = self.get_object()
        serializer = cast(
            RequestWriteSerializer,
            self.get_serializer(request_obj, data=request.data, partial=True),
        )
        serializer.is_valid(raise_exception=True)
        request_obj = services.request_update(
            actor=request.user, request=request_obj, **serializer.service_kwargs()
        )
        return self._answer(request_obj)

    @_transition(None, "Draft or returned → submitted, then routed to the owner or the office.")
    @action(detail=True, methods=["post"])
    def submit(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_submit(actor=request.user, request=self.get_object())
        return self._answer(request_obj)

    @_transition(ReasonSerializer, "Withdraw before a decision (requester).")
    @action(detail=True, methods=["post"])
    def withdraw(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_withdraw(
            actor=request.user,
            request=self.get_object(),
            reason=self._reason(ReasonSerializer),
        )
        return self._answer(request_obj)

    @_transition(RequiredReasonSerializer, "Appeal a rejection to the office, once (requester).")
    @action(detail=True, methods=["post"])
    def appeal(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_appeal(
            actor=request.user, request=self.get_object(), reason=self._reason()
        )
        return self._answer(request_obj)

    @_transition(ReasonSerializer, "Owner review → management review (owner's data steward).")
    @action(detail=True, methods=["post"])
    def endorse(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_endorse(
            actor=request.user,
            request=self.get_object(),
            reason=self._reason(ReasonSerializer),
        )
        return self._answer(request_obj)

    @_transition(
        RequiredReasonSerializer,
        "Return to the requester for changes: the owner's steward in owner review, the "
        "management-right holder in management review.",
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_return(
            actor=request.user, request=self.get_object(), reason=self._reason()
        )
        return self._answer(request_obj)

    @_transition(
        RequiredReasonSerializer,
        "Reject: the owner's steward in owner review, the management-right holder in "
        "management review.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = services.request_reject(
            actor=request.user, request=self.get_object(), reason=self._reason()
        )
        return self._answer(request_obj)

    @_transition(
        ApproveSerializer,
        "Approve and create the grant (management-right holder); `fields` may narrow the "
        "requested items.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: APIRequest, pk: str | None = None) -> Response:
        request_obj = self.get_object()
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request_obj = services.request_approve(
            actor=request.user, request=request_obj, **serializer.validated_data
        )
        return self._answer(request_obj)
