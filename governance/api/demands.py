from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action

from core.serializers import ReasonSerializer, RequiredReasonSerializer
from core.viewsets import WorkflowViewSet, timeline_prefetch, transition_schema
from departments.models import Department
from governance import selectors
from governance.models import Demand, DemandStep
from governance.serializers.demands import (
    AnswerDemandSerializer,
    DemandDetailSerializer,
    DemandSerializer,
    DemandWriteSerializer,
    JoinSerializer,
    RouteSerializer,
)
from governance.services import demands as demand_services


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Words in title, description or items"),
            OpenApiParameter("state", enum=Demand.State.values),
            OpenApiParameter("department", str, description="Filed, routed to or joined (code)"),
        ]
    )
)
class DemandViewSet(WorkflowViewSet):
    """The demand list: data departments need that the catalog lacks. Every signed-in user sees
    it (search it before filing, and join instead of filing twice)."""

    queryset = Demand.objects.none()
    detail_serializer_class = DemandDetailSerializer

    def get_queryset(self):
        params = self.request.query_params
        queryset = selectors.demand_list(
            self.request.user,
            text=params.get("search", ""),
            state=params.get("state") or None,
            department_id=self._department_id(params.get("department", "")),
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(timeline_prefetch(DemandStep))
        return queryset

    def _department_id(self, code):
        if not code:
            return None
        return Department.objects.filter(code=code).values_list("pk", flat=True).first() or 0

    def get_serializer_class(self):
        if self.action == "list":
            return DemandSerializer
        if self.action == "create":
            return DemandWriteSerializer
        return DemandDetailSerializer

    @extend_schema(request=DemandWriteSerializer, responses={201: DemandDetailSerializer})
    def create(self, request):
        demand = demand_services.demand_file(
            actor=request.user, **self._input(DemandWriteSerializer).service_kwargs()
        )
        return self._answer(demand, status.HTTP_201_CREATED)

    @transition_schema(RouteSerializer, DemandDetailSerializer, "Route to a likely owner (office).")
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        demand = self.get_object()
        data = self._input(RouteSerializer).validated_data
        demand = demand_services.demand_route(actor=request.user, demand=demand, **data)
        return self._answer(demand)

    @transition_schema(
        AnswerDemandSerializer,
        DemandDetailSerializer,
        "Answer with a published resource (steward of the department it is routed to).",
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        demand = self.get_object()
        data = self._input(AnswerDemandSerializer).validated_data
        demand = demand_services.demand_answer(actor=request.user, demand=demand, **data)
        return self._answer(demand)

    @transition_schema(
        RequiredReasonSerializer,
        DemandDetailSerializer,
        "Decline with reasons (steward of the department it is routed to).",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        demand = self.get_object()
        reason = self._input(RequiredReasonSerializer).validated_data["reason"]
        demand = demand_services.demand_decline(actor=request.user, demand=demand, reason=reason)
        return self._answer(demand)

    @transition_schema(ReasonSerializer, DemandDetailSerializer, "Withdraw (filing department).")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        demand = self.get_object()
        reason = self._input(ReasonSerializer).validated_data["reason"]
        demand = demand_services.demand_withdraw(actor=request.user, demand=demand, reason=reason)
        return self._answer(demand)

    @transition_schema(
        JoinSerializer, DemandDetailSerializer, "Join the demand for another department."
    )
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        demand = self.get_object()
        data = self._input(JoinSerializer).validated_data
        demand_services.demand_join(actor=request.user, demand=demand, **data)
        return self._answer(demand)
