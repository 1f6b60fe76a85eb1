"""API shapes for quality reports and demands. Serializers parse and present; services decide."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from access_requests.serializers import (
    ReasonSerializer,
    RequiredReasonSerializer,
    VisibleResourceField,
)
from catalog.governance_services import ITEM_MAX_LENGTH, ITEMS_MAX, LINES_MAX
from catalog.models import (
    Demand,
    DemandStep,
    DemandSupporter,
    QualityReport,
    QualityReportStep,
    Release,
    Resource,
)
from rights.models import Department, Membership
from rights.permissions import department_ids_with_role, quality_reporter_department_ids


class _StepSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    department = serializers.CharField(source="department.code", read_only=True, allow_null=True)

    class Meta:
        fields = [
            "action",
            "from_state",
            "to_state",
            "actor",
            "department",
            "reason",
            "at",
            "ledger_index",
        ]
        read_only_fields = fields


class QualityReportStepSerializer(_StepSerializer):
    class Meta(_StepSerializer.Meta):
        model = QualityReportStep


class DemandStepSerializer(_StepSerializer):
    class Meta(_StepSerializer.Meta):
        model = DemandStep


def _release_number(release):
    return release.sequence if release is not None else None


class QualityReportSerializer(serializers.ModelSerializer):
    """A quality report as lists show it."""

    resource_identifier = serializers.CharField(source="resource.identifier", read_only=True)
    owner_department = serializers.CharField(
        source="resource.owner_department.code", read_only=True
    )
    reporting_department = serializers.CharField(source="reporting_department.code", read_only=True)
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)
    release = serializers.SerializerMethodField()
    resolution_release = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = QualityReport
        fields = [
            "id",
            "state",
            "resource",
            "resource_identifier",
            "owner_department",
            "reporting_department",
            "reported_by",
            "kind",
            "item",
            "lines",
            "release",
            "description",
            "answer",
            "resolution_release",
            "due_date",
            "overdue",
            "overdue_since",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_release(self, obj) -> int | None:
        """The number (sequence) of the release the report concerns."""
        return _release_number(obj.release)

    def get_resolution_release(self, obj) -> int | None:
        """The number (sequence) of the correcting release, if the owner named one."""
        return _release_number(obj.resolution_release)

    def get_overdue(self, obj) -> bool:
        return obj.overdue_since is not None


class QualityReportDetailSerializer(QualityReportSerializer):
    steps = QualityReportStepSerializer(many=True, read_only=True)

    class Meta(QualityReportSerializer.Meta):
        fields = [*QualityReportSerializer.Meta.fields, "steps"]
        read_only_fields = fields


def _default_department(user, ids, what):
    departments = list(Department.objects.filter(pk__in=ids, is_active=True).order_by("code"))
    if not departments:
        raise PermissionDenied(what)
    if len(departments) > 1:
        raise serializers.ValidationError(
            {
                "department": _("You act for several departments (%(codes)s); say which one.")
                % {"codes": ", ".join(d.code for d in departments)}
            }
        )
    return departments[0]


class QualityReportWriteSerializer(serializers.Serializer):
    resource = VisibleResourceField(queryset=Resource.objects.all())
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("Reporting department (code); defaults to your only one."),
    )
    kind = serializers.ChoiceField(choices=QualityReport.Kind.choices)
    item = serializers.CharField(max_length=63, allow_blank=True, required=False, default="")
    lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=LINES_MAX,
        required=False,
        default=list,
        help_text=gettext_lazy("Example line numbers in the release file (the header is line 1)."),
    )
    description = serializers.CharField(allow_blank=True)

    def validate(self, attrs):
        if "department" not in attrs:
            user = self.context["request"].user
            attrs["department"] = _default_department(
                user,
                quality_reporter_department_ids(user),
                _("Only a department's requesters or stewards, or the office, report on quality."),
            )
        return attrs


class ResolveSerializer(RequiredReasonSerializer):
    release = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The number of the correcting release of this resource."),
    )

    def release_for(self, report):
        number = self.validated_data.get("release")
        if number is None:
            return None
        release = Release.objects.filter(resource_id=report.resource_id, sequence=number).first()
        if release is None:
            raise serializers.ValidationError(
                {"release": _("This resource has no release %(n)d.") % {"n": number}}
            )
        return release


# --- demands --------------------------------------------------------------------------------


class DemandSupporterSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", read_only=True)

    class Meta:
        model = DemandSupporter
        fields = ["department", "purpose", "joined_at"]
        read_only_fields = fields


class DemandSerializer(serializers.ModelSerializer):
    requesting_department = serializers.CharField(
        source="requesting_department.code", read_only=True
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    routed_to = serializers.CharField(source="routed_to.code", read_only=True, allow_null=True)
    resource_identifier = serializers.CharField(
        source="resource.identifier", read_only=True, allow_null=True
    )
    supporters = DemandSupporterSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Demand
        fields = [
            "id",
            "state",
            "title",
            "description",
            "purpose",
            "legal_basis",
            "items",
            "requesting_department",
            "requested_by",
            "supporters",
            "routed_to",
            "resource",
            "resource_identifier",
            "answer",
            "due_date",
            "overdue",
            "overdue_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.overdue_since is not None


class DemandDetailSerializer(DemandSerializer):
    steps = DemandStepSerializer(many=True, read_only=True)

    class Meta(DemandSerializer.Meta):
        fields = [*DemandSerializer.Meta.fields, "steps"]
        read_only_fields = fields


def _requester_department(user):
    return _default_department(
        user,
        department_ids_with_role(user, Membership.Role.REQUESTER),
        _("Only a department's requesters can file or join demands."),
    )


class DemandWriteSerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("Filing department (code); defaults to your only one."),
    )
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    purpose = serializers.CharField(allow_blank=True)
    legal_basis = serializers.CharField(allow_blank=True)
    items = serializers.ListField(
        child=serializers.CharField(max_length=ITEM_MAX_LENGTH, allow_blank=True),
        max_length=ITEMS_MAX,
        allow_empty=True,
        help_text=gettext_lazy("The data items needed, one name or short description each."),
    )

    def validate(self, attrs):
        if "department" not in attrs:
            attrs["department"] = _requester_department(self.context["request"].user)
        return attrs

    def service_kwargs(self):
        data = dict(self.validated_data)
        return {
            "department": data.pop("department"),
            "items": data.pop("items"),
            "data": data,
        }


class RouteSerializer(ReasonSerializer):
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        help_text=gettext_lazy("The likely owner (department code)."),
    )


class AnswerDemandSerializer(ReasonSerializer):
    resource = VisibleResourceField(
        queryset=Resource.objects.all(),
        help_text=gettext_lazy("A published resource of your department that meets the demand."),
    )


class JoinSerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy("Joining department (code); defaults to your only one."),
    )
    purpose = serializers.CharField(allow_blank=True, required=False, default="")

    def validate(self, attrs):
        if "department" not in attrs:
            attrs["department"] = _requester_department(self.context["request"].user)
        return attrs
