"""API shapes for disputes. Serializers parse and present; the services in
``governance.services.disputes`` and ``governance.services.decisions`` decide."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access_requests.selectors import requests_visible_to
from departments.models import Department
from departments.permissions import acting_department_ids
from governance.models import Dispute, DisputeDecision, DisputeStep
from rights.selectors import grants_visible_to
from sharing.models import Delivery

# --- presenting -----------------------------------------------------------------------------


class DisputeStepSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    department = serializers.CharField(source="department.code", read_only=True, allow_null=True)
    text = serializers.CharField(
        source="reason", read_only=True, label=gettext_lazy("Statement or reason")
    )
    has_evidence = serializers.SerializerMethodField()

    class Meta:
        model = DisputeStep
        fields = [
            "action",
            "from_state",
            "to_state",
            "level",
            "actor",
            "department",
            "text",
            "has_evidence",
            "evidence_sha256",
            "at",
            "ledger_index",
        ]
        read_only_fields = fields

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class DisputeDecisionSerializer(serializers.ModelSerializer):
    responsible_department = serializers.CharField(
        source="responsible_department.code", read_only=True, allow_null=True
    )
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)

    class Meta:
        model = DisputeDecision
        fields = [
            "level",
            "outcome",
            "reasons",
            "responsible_department",
            "order",
            "order_text",
            "authority",
            "authority_reference",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class DisputeSerializer(serializers.ModelSerializer):
    """A dispute as lists show it."""

    raised_by_department = serializers.CharField(source="raised_by_department.code", read_only=True)
    respondent_department = serializers.CharField(
        source="respondent_department.code", read_only=True
    )
    raised_by = serializers.CharField(source="raised_by.username", read_only=True)
    quality_report = serializers.IntegerField(
        source="quality_report_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Dispute
        fields = [
            "id",
            "subject_kind",
            "grant",
            "delivery",
            "request",
            "quality_report",
            "resource",
            "raised_by_department",
            "respondent_department",
            "raised_by",
            "disputed",
            "asked",
            "state",
            "level",
            "due_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DisputeDetailSerializer(DisputeSerializer):
    """One dispute with its timeline and its decisions."""

    steps = DisputeStepSerializer(many=True, read_only=True)
    decisions = DisputeDecisionSerializer(many=True, read_only=True)

    class Meta(DisputeSerializer.Meta):
        fields = [*DisputeSerializer.Meta.fields, "steps", "decisions"]
        read_only_fields = fields


# --- parsing --------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class _VisibleField(serializers.PrimaryKeyRelatedField):
    """An id the caller can see; any other id is 'does not exist'."""

    def __init__(self, visible, **kwargs):
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.visible(self.context["request"].user)


def _visible_deliveries(user):
    return Delivery.objects.filter(grant__in=grants_visible_to(user).values("pk")).select_related(
        "grant__resource__owner_department",
        "grant__resource__management_right_holder",
        "grant__grantee_department",
    )


class DisputeRaiseSerializer(serializers.Serializer):
    """What a party sends to raise a dispute: the subject (one id, matching ``subject_kind``),
    what is disputed and what is asked."""

    subject_kind = serializers.ChoiceField(choices=Dispute.SubjectKind.choices)
    grant = _VisibleField(grants_visible_to, required=False, allow_null=True)
    delivery = _VisibleField(_visible_deliveries, required=False, allow_null=True)
    request = _VisibleField(requests_visible_to, required=False, allow_null=True)
    quality_report = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("The department you raise it for (code); needed only if several."),
    )
    disputed = serializers.CharField(allow_blank=True)
    asked = serializers.CharField(allow_blank=True)

    def validate_department(self, department):
        if department.pk not in acting_department_ids(self.context["request"].user):
            raise PermissionDenied(_("You do not act for %(dept)s.") % {"dept": department.code})
        return department

    def service_kwargs(self):
        data = self.validated_data
        return {
            "kind": data["subject_kind"],
            "grant": data.get("grant"),
            "delivery": data.get("delivery"),
            "refusal": data.get("request"),
            "quality_report_id": data.get("quality_report"),
            "department": data.get("department"),
            "disputed": data["disputed"],
            "asked": data["asked"],
        }


class StatementSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    evidence = serializers.FileField(required=False, allow_null=True)


class SettleSerializer(serializers.Serializer):
    reasons = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("What the departments agreed.")
    )
    responsible_department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False, allow_null=True
    )
    order = serializers.ChoiceField(
        choices=DisputeDecision.Order.choices, required=False, default="none"
    )
    order_text = serializers.CharField(allow_blank=True, required=False, default="")


class DecisionSerializer(SettleSerializer):
    outcome = serializers.ChoiceField(choices=DisputeDecision.Outcome.choices)
    reasons = serializers.CharField(allow_blank=True)


class FinalDecisionSerializer(DecisionSerializer):
    authority = serializers.CharField(allow_blank=True, max_length=200)
    authority_reference = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=100
    )
