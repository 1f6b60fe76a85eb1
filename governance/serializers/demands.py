from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from access_requests.serializers import VisibleResourceField
from catalog.models import Resource
from core.serializers import ReasonSerializer
from departments.models import Department, Membership
from departments.permissions import department_ids_with_role
from governance.models import Demand, DemandStep, DemandSupporter
from governance.serializers.quality import _default_department, _StepSerializer
from governance.services.demands import ITEM_MAX_LENGTH, ITEMS_MAX


class DemandStepSerializer(_StepSerializer):
    class Meta(_StepSerializer.Meta):
        model = DemandStep


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
