"""Quality reports and the demand list over REST. Each endpoint fetches what the caller may see
(404 otherwise) and calls exactly one service; the services decide who may act (403) and when
(409). Register in the API router as ``quality-reports`` and ``demands``."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action

from core.api import id_param
from core.serializers import ReasonSerializer, RequiredReasonSerializer
from core.viewsets import WorkflowViewSet, timeline_prefetch, transition_schema
from governance import selectors
from governance.models import QualityReport, QualityReportStep
from governance.serializers.quality import (
    QualityReportDetailSerializer,
    QualityReportSerializer,
    QualityReportWriteSerializer,
    ResolveSerializer,
)
from governance.services import quality as services


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("state", enum=QualityReport.State.values),
            OpenApiParameter("resource", int),
        ]
    )
)
class QualityReportViewSet(WorkflowViewSet):
    """Reports of wrong or stale data: seen by the reporting department, the owner, the
    management-right holder and the office only."""

    queryset = QualityReport.objects.none()
    detail_serializer_class = QualityReportDetailSerializer

    def get_queryset(self):
        params = self.request.query_params
        queryset = selectors.quality_report_list(
            self.request.user,
            state=params.get("state") or None,
            resource_id=id_param(params, "resource"),
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(timeline_prefetch(QualityReportStep))
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return QualityReportSerializer
        if self.action == "create":
            return QualityReportWriteSerializer
        return QualityReportDetailSerializer

    @extend_schema(
        request=QualityReportWriteSerializer, responses={201: QualityReportDetailSerializer}
    )
    def create(self, request):
        data = self._input(QualityReportWriteSerializer).validated_data
        report = services.quality_report_file(actor=request.user, **data)
        return self._answer(report, status.HTTP_201_CREATED)

    @transition_schema(
        ReasonSerializer, QualityReportDetailSerializer, "Open → acknowledged (owner)."
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        reason = self._input(ReasonSerializer).validated_data["reason"]
        report = services.quality_report_acknowledge(
            actor=request.user, report=self.get_object(), reason=reason
        )
        return self._answer(report)

    @transition_schema(
        RequiredReasonSerializer,
        QualityReportDetailSerializer,
        "Answer without a correction (owner's steward, reason required).",
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        report = self.get_object()
        reason = self._input(RequiredReasonSerializer).validated_data["reason"]
        report = services.quality_report_answer(actor=request.user, report=report, reason=reason)
        return self._answer(report)

    @transition_schema(
        ResolveSerializer,
        QualityReportDetailSerializer,
        "Resolved (owner's steward, reason required), optionally naming the correcting release.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        report = self.get_object()
        serializer = self._input(ResolveSerializer)
        report = services.quality_report_resolve(
            actor=request.user,
            report=report,
            reason=serializer.validated_data["reason"],
            release=serializer.release_for(report),
        )
        return self._answer(report)

    @transition_schema(
        ReasonSerializer, QualityReportDetailSerializer, "Close an answered or resolved report."
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        report = self.get_object()
        reason = self._input(ReasonSerializer).validated_data["reason"]
        report = services.quality_report_confirm(actor=request.user, report=report, reason=reason)
        return self._answer(report)

    @transition_schema(
        RequiredReasonSerializer,
        QualityReportDetailSerializer,
        "Reopen an answered or resolved report (reporter, reason required).",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        report = self.get_object()
        reason = self._input(RequiredReasonSerializer).validated_data["reason"]
        report = services.quality_report_reopen(actor=request.user, report=report, reason=reason)
        return self._answer(report)
