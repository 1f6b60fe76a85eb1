"""Disputes over REST. Each endpoint fetches what the caller may see (404 otherwise) and calls
exactly one service; the services decide who may act (403) and when (409)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.parsers import FormParser, JSONParser, MultiPartParser
from core.serializers import ReasonSerializer
from core.viewsets import transition_schema
from governance.models import Dispute, DisputeDecision, DisputeStep
from governance.selectors import disputes_visible_to
from governance.serializers.disputes import (
    DecisionSerializer,
    DisputeDetailSerializer,
    DisputeRaiseSerializer,
    DisputeSerializer,
    FinalDecisionSerializer,
    SettleSerializer,
    StatementSerializer,
)
from governance.services import decisions, disputes


def disputes_for_api(user, *, detailed=True):
    """Visible disputes with everything the serializers read chosen up front (fixed queries)."""
    queryset = disputes_visible_to(user)
    if detailed:
        steps = DisputeStep.objects.select_related("actor", "department")
        decisions = DisputeDecision.objects.select_related("responsible_department", "decided_by")
        queryset = queryset.prefetch_related(
            Prefetch("steps", queryset=steps), Prefetch("decisions", queryset=decisions)
        )
    return queryset


def _transition(serializer_class, description):
    return transition_schema(serializer_class, DisputeDetailSerializer, description)


class DisputeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Disputes on a grant, a delivery, a refusal or a quality report: visible to the two
    parties, the resource's owner and management-right holder, and the office."""

    queryset = Dispute.objects.none()  # for the schema; rows come from ``get_queryset``
    parser_classes = [JSONParser, MultiPartParser, FormParser]  # evidence is a file upload

    def get_queryset(self):
        return disputes_for_api(self.request.user, detailed=self.action != "list")

    def get_serializer_class(self):
        if self.action == "list":
            return DisputeSerializer
        if self.action == "create":
            return DisputeRaiseSerializer
        return DisputeDetailSerializer

    def _answer(self, dispute, code=status.HTTP_200_OK):
        fresh = disputes_for_api(self.request.user).get(pk=dispute.pk)
        return Response(DisputeDetailSerializer(fresh).data, status=code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer

    @extend_schema(request=DisputeRaiseSerializer, responses={201: DisputeDetailSerializer})
    def create(self, request):
        serializer = self._input(DisputeRaiseSerializer)
        dispute = disputes.dispute_raise(actor=request.user, **serializer.service_kwargs())
        return self._answer(dispute, status.HTTP_201_CREATED)

    @_transition(StatementSerializer, "A party's statement, with an optional evidence file.")
    @action(detail=True, methods=["post"])
    def statement(self, request, pk=None):
        dispute = self.get_object()
        data = self._input(StatementSerializer).validated_data
        return self._answer(
            disputes.dispute_statement(
                actor=request.user,
                dispute=dispute,
                text=data["text"],
                evidence=data.get("evidence"),
            )
        )

    @_transition(SettleSerializer, "Negotiation → settled by agreement (a party).")
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        dispute = self.get_object()
        data = self._input(SettleSerializer).validated_data
        return self._answer(decisions.dispute_settle(actor=request.user, dispute=dispute, **data))

    @_transition(
        ReasonSerializer,
        "One level up (a party): negotiation → the office; the office's decision → the "
        "supervising authority.",
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        dispute = self.get_object()
        reason = self._input(ReasonSerializer).validated_data["reason"]
        return self._answer(
            disputes.dispute_escalate(actor=request.user, dispute=dispute, reason=reason)
        )

    @_transition(
        DecisionSerializer,
        "The office's decision (level 2): outcome, reasons, party held responsible, and an "
        "optional order (suspend or revoke the grant, correct data).",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        dispute = self.get_object()
        data = self._input(DecisionSerializer).validated_data
        return self._answer(decisions.dispute_decide(actor=request.user, dispute=dispute, **data))

    @_transition(
        FinalDecisionSerializer,
        "The supervising authority's final decision (level 3), recorded by an office reviewer.",
    )
    @action(detail=True, methods=["post"], url_path="record-final")
    def record_final(self, request, pk=None):
        dispute = self.get_object()
        data = self._input(FinalDecisionSerializer).validated_data
        return self._answer(
            decisions.dispute_record_final(actor=request.user, dispute=dispute, **data)
        )

    @_transition(ReasonSerializer, "Withdraw before a decision (the raising department).")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        dispute = self.get_object()
        reason = self._input(ReasonSerializer).validated_data["reason"]
        return self._answer(
            disputes.dispute_withdraw(actor=request.user, dispute=dispute, reason=reason)
        )
