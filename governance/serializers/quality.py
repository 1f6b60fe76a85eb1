"""API shapes for quality reports and demands. Serializers parse and present; services decide."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from access_requests.serializers import VisibleResourceField
from catalog.models import Release, Resource
from core.serializers import RequiredReasonSerializer
from departments.models import Department
from departments.permissions import quality_reporter_department_ids
from governance.models import QualityReport, QualityReportStep
from governance.services.quality import LINES_MAX


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
