"""API shapes for grants (the usage right). Serializers present; the grant services decide."""

from rest_framework import serializers

from rights.models import Delivery, Grant


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


class DeliverySerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "grant",
            "status",
            "period_key",
            "caught_up",
            "release",
            "sha256",
            "file_sha256",
            "row_count",
            "size_bytes",
            "attempts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "ledger_index",
            "manifest",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, delivery) -> str | None:
        if delivery.status != Delivery.Status.SUCCEEDED:
            return None
        return f"/api/v1/deliveries/{delivery.pk}/download/"


class VerifySerializer(serializers.Serializer):
    match = serializers.DictField(child=serializers.CharField(allow_blank=True))
    check = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
