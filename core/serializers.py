from django.utils.translation import gettext_lazy
from rest_framework import serializers


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("Recorded on the timeline.")
    )
