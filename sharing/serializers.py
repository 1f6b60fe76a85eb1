from rest_framework import serializers

from sharing.models import Delivery


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
            "purged_at",
            "manifest",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, delivery: Delivery) -> str | None:
        if delivery.status != Delivery.Status.SUCCEEDED or delivery.purged_at is not None:
            return None
        return f"/api/v1/deliveries/{delivery.pk}/download/"


class VerifySerializer(serializers.Serializer):
    match = serializers.DictField(child=serializers.CharField(allow_blank=True))
    check = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
