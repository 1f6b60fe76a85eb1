"""API shapes for the catalog. Serializers parse and present; services decide."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from catalog.models import DataItem, Method, Release, Resource, SharingType
from departments.models import Department


class DataItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    type = serializers.ChoiceField(choices=DataItem.Type.choices)
    description = serializers.CharField(
        max_length=500, allow_blank=True, required=False, default=""
    )
    sensitivity = serializers.ChoiceField(choices=DataItem.Sensitivity.choices)
    # The API field is named "required"; the stubs type Field.required, which it shadows, as bool.
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    lookup_key = serializers.BooleanField(required=False, default=False)


class ReleaseSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "sequence",
            "original_name",
            "size_bytes",
            "sha256",
            "row_count",
            "columns",
            "report",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    owner_department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.filter(is_active=True)
    )
    management_right_holder = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    sharing_type = serializers.ChoiceField(choices=SharingType.choices)
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=Method.choices), required=False, default=list
    )
    data_items = DataItemSerializer(many=True, required=False, default=list)
    related_resources: serializers.PrimaryKeyRelatedField[Resource] = (
        serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "identifier",
            "title",
            "abstract",
            "classification",
            "owner_department",
            "management_right_holder",
            "format",
            "sharing_type",
            "sharing_conditions",
            "not_shareable_reason",
            "not_shareable_law",
            "methods",
            "collection_legal_basis",
            "update_cycle",
            "data_items",
            "related_resources",
            "status",
            "version",
            "published_at",
            "retired_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "version",
            "published_at",
            "retired_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness is checked by the service (with a clear message); not twice here.
        extra_kwargs: dict[str, dict[str, Any]] = {"identifier": {"validators": []}}

    def validate_owner_department(self, value):
        if self.instance is not None and value != self.instance.owner_department:
            raise serializers.ValidationError(
                _("The owning department of a resource never changes.")
            )
        return value

    def service_kwargs(self):
        """The validated input split the way the catalog services take it."""
        data = dict(self.validated_data)
        kwargs = {"data": data}
        data.pop("owner_department", None)
        if "methods" in self.initial_data or self.instance is None:
            kwargs["methods"] = data.pop("methods", [])
        else:
            data.pop("methods", None)
        if "data_items" in self.initial_data or self.instance is None:
            kwargs["items"] = [dict(item) for item in data.pop("data_items", [])]
        else:
            data.pop("data_items", None)
        return kwargs


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class ReleaseUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
