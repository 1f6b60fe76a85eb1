"""API shapes for grants (the usage right). Serializers present; the grant services decide."""

from rest_framework import serializers

from rights.models import Grant


class GrantSerializer(serializers.ModelSerializer):
    """A grant as approved: ``fields`` are the approved item names."""

    grantee_department = serializers.CharField(source="grantee_department.code", read_only=True)
    fields = serializers.ListField(child=serializers.CharField(), read_only=True)
    legal_basis = serializers.DictField(child=serializers.CharField(), read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "request",
            "resource",
            "resource_version",
            "grantee_department",
            "fields",
            "method",
            "status",
            "purpose",
            "legal_basis",
            "frequency",
            "valid_from",
            "valid_until",
            "max_records_per_day",
            "max_calls_per_day",
            "approved_by",
            "created_at",
            "ended_at",
        ]
        read_only_fields = fields
