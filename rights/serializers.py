"""API shapes for grants (the usage right). Serializers present; the grant services decide."""

from rest_framework import serializers

from rights.models import Attestation, Grant


class GrantSerializer(serializers.ModelSerializer):
    """A grant as approved: ``fields`` are the approved item names."""

    grantee_department = serializers.CharField(source="grantee_department.code", read_only=True)
    # The approved items; the stubs type ``fields`` as the serializer's field mapping.
    fields = serializers.ListField(child=serializers.CharField(), read_only=True)  # type: ignore[assignment]
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


class AttestationSerializer(serializers.ModelSerializer):
    grantee_department = serializers.CharField(
        source="grant.grantee_department.code", read_only=True
    )
    grant_status = serializers.CharField(source="grant.status", read_only=True)
    attested_by = serializers.CharField(
        source="attested_by.username", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField()
    # Blank until the grantee attests. Declared, because a read-only model field loses
    # allow_blank and the schema would then promise one of the two values.
    kind = serializers.ChoiceField(
        choices=Attestation.Kind.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Attestation
        fields = [
            "id",
            "grant",
            "grant_status",
            "grantee_department",
            "state",
            "due_date",
            "overdue",
            "overdue_since",
            "kind",
            "statement",
            "attested_by",
            "attested_at",
            "ledger_index",
            "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: Attestation) -> bool:
        # The flag the periodic job sets (attestations_flag_overdue); the API does not re-judge.
        return obj.overdue_since is not None


class AttestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Attestation.Kind.choices)
    statement = serializers.CharField(allow_blank=True)
