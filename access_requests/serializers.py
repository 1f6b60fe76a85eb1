"""API shapes for requests. Serializers parse and present; the workflow services decide."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access_requests.models import Frequency, LegalBasisKind, Request, RequestItem, RequestStep
from catalog.models import Method, Resource
from catalog.selectors import resources_visible_to
from departments.models import Department, Membership
from departments.permissions import department_ids_with_role

# --- presenting -----------------------------------------------------------------------------


class LegalBasisSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LegalBasisKind.choices)
    citation = serializers.CharField(max_length=300, allow_blank=True)
    article = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    text = serializers.CharField(allow_blank=True, required=False, default="")


class RequestItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestItem
        fields = ["name", "reason", "approved"]
        read_only_fields = fields


class RequestStepSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    department = serializers.CharField(source="department.code", read_only=True, allow_null=True)

    class Meta:
        model = RequestStep
        fields = ["action", "from_state", "to_state", "actor", "department", "reason", "at"]
        read_only_fields = fields


class RequestSerializer(serializers.ModelSerializer):
    """A request as lists show it; ``fields`` are the requested item names."""

    requesting_department = serializers.CharField(
        source="requesting_department.code", read_only=True
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    # Not ``get_fields``: that name is the serializer's own hook. The stubs type ``fields`` as the
    # serializer's field mapping; here it is the API's name for the requested items.
    fields = serializers.SerializerMethodField(method_name="requested_names")  # type: ignore[assignment]
    items = RequestItemSerializer(many=True, read_only=True)
    legal_basis = LegalBasisSerializer(read_only=True)
    overdue = serializers.SerializerMethodField()
    grant = serializers.IntegerField(source="grant.pk", read_only=True, allow_null=True)
    # Blank for a one-off request. Declared, because a read-only model field loses allow_blank
    # and the schema would then promise one of the three values.
    frequency = serializers.ChoiceField(choices=Frequency.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Request
        fields = [
            "id",
            "state",
            "resource",
            "fields",
            "items",
            "requesting_department",
            "requested_by",
            "purpose",
            "legal_basis",
            "method",
            "frequency",
            "valid_from",
            "valid_until",
            "due_date",
            "overdue",
            "overdue_since",
            "appealed",
            "grant",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def requested_names(self, obj: Request) -> list[str]:
        return [item.name for item in obj.items.all()]

    def get_overdue(self, obj: Request) -> bool:
        # The flag the deadline job sets (requests_mark_overdue); the API does not re-judge it.
        return obj.overdue_since is not None


class RequestDetailSerializer(RequestSerializer):
    """One request with its timeline: who did what, when, in which role, and why."""

    steps = RequestStepSerializer(many=True, read_only=True)

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "steps"]
        read_only_fields = fields


# --- parsing --------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "a data item name (its reason is then empty)"},
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 63},
                    "reason": {"type": "string", "maxLength": 500},
                },
                "required": ["name"],
            },
        ]
    }
)
class RequestedItemField(serializers.Field):
    """A requested item: a plain name, or ``{name, reason}``.

    A plain name is accepted as input with an empty reason; whether that is enough is the
    service's call (it asks why each item is needed).
    """

    default_error_messages = {
        "invalid": gettext_lazy("Give an item name, or an object with `name` and `reason`."),
        "name_too_long": gettext_lazy("An item name is longer than {n} characters."),
        "reason_too_long": gettext_lazy("The reason for {name} is longer than {n} characters."),
    }
    limits = {"name": 63, "reason": 500}  # the RequestItem columns

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, str):
            data = {"name": data}
        if not isinstance(data, dict):
            self.fail("invalid")
        name, reason = data.get("name"), data.get("reason", "")
        if not isinstance(name, str) or not isinstance(reason, str | type(None)):
            self.fail("invalid")
        item = {"name": name.strip(), "reason": reason or ""}
        for key, limit in self.limits.items():
            if len(item[key]) > limit:
                self.fail(f"{key}_too_long", name=item["name"][:63], n=limit)
        return item

    def to_representation(self, value: Any) -> Any:
        return value


class VisibleResourceField(serializers.PrimaryKeyRelatedField):
    """A resource id the caller can see in the catalog; any other id is 'does not exist'."""

    def get_queryset(self) -> QuerySet[Resource]:
        return resources_visible_to(self.context["request"].user)


class RequestWriteSerializer(serializers.Serializer):
    """What a requester sends to file (POST) or change (PATCH) a request."""

    resource = VisibleResourceField(queryset=Resource.objects.all())
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=gettext_lazy(
            "Filing department (code); defaults to your only requester department."
        ),
    )
    # The API's name for the items; the stubs type ``fields`` as the serializer's field mapping.
    fields = serializers.ListField(child=RequestedItemField(), allow_empty=True)  # type: ignore[assignment]
    purpose = serializers.CharField(allow_blank=True)
    legal_basis = LegalBasisSerializer()
    method = serializers.ChoiceField(choices=Method.choices)
    frequency = serializers.ChoiceField(
        choices=Frequency.choices, allow_blank=True, required=False, default=""
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for name, current in (
                ("resource", self.instance.resource),
                ("department", self.instance.requesting_department),
            ):
                if name in attrs and attrs[name] != current:
                    raise serializers.ValidationError(
                        {name: _("This never changes on a filed request; file a new one.")}
                    )
        elif "department" not in attrs:
            attrs["department"] = self._default_department()
        return attrs

    def _default_department(self) -> Department:
        user = self.context["request"].user
        ids = department_ids_with_role(user, Membership.Role.REQUESTER)
        departments = list(Department.objects.filter(pk__in=ids, is_active=True).order_by("code"))
        if not departments:
            raise PermissionDenied(_("Only a department's requesters can file requests."))
        if len(departments) > 1:
            raise serializers.ValidationError(
                {
                    "department": _("You file for several departments (%(codes)s); say which one.")
                    % {"codes": ", ".join(d.code for d in departments)}
                }
            )
        return departments[0]

    def to_representation(self, instance: Request) -> dict[str, Any]:
        # A filed request in the input shape (the browsable API prefills its edit form with it).
        return {
            "resource": instance.resource_id,
            "department": instance.requesting_department.code,
            "fields": [{"name": i.name, "reason": i.reason} for i in instance.items.all()],
            "purpose": instance.purpose,
            "legal_basis": instance.legal_basis,
            "method": instance.method,
            "frequency": instance.frequency,
            "valid_from": instance.valid_from.isoformat(),
            "valid_until": instance.valid_until.isoformat(),
        }

    def service_kwargs(self) -> dict[str, Any]:
        """The validated input the way ``request_create`` / ``request_update`` take it."""
        data = dict(self.validated_data)
        kwargs: dict[str, Any] = {}
        for name in ("resource", "department"):
            value = data.pop(name, None)
            if self.instance is None:  # an edit keeps both (checked in ``validate``)
                kwargs[name] = value
        if "fields" in data:
            kwargs["items"] = [dict(item) for item in data.pop("fields")]
        # A PATCH is partial all the way down: only the keys sent (in the basis too) are here.
        for key, value in data.pop("legal_basis", {}).items():
            data[f"legal_basis_{key}"] = value
        kwargs["data"] = data
        return kwargs


class ApproveSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")
    # The service's keyword (request_approve(fields=...)); shadows Serializer.fields in the stubs.
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(max_length=63),
        required=False,
        help_text=gettext_lazy("Approve only these requested items (default: all of them)."),
    )
    max_records_per_day = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    max_calls_per_day = serializers.IntegerField(min_value=1, required=False, allow_null=True)
