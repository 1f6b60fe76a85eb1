"""The public register of active grants: who shares what with whom, for which purpose, under
which law, and the day both departments signed its data-sharing agreement — never data, never a
person's name, never the agreement's restricted parts. Readable without signing in."""

import datetime

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from rights.models import Grant
from rights.selectors import usable_grants


def active_grants() -> QuerySet[Grant]:
    return (
        usable_grants()
        .select_related("grantee_department", "resource__owner_department")
        .order_by("resource__title", "id")
    )


class RegisterEntrySerializer(serializers.ModelSerializer):
    provider = serializers.SerializerMethodField()
    receiver = serializers.SerializerMethodField()
    resource = serializers.CharField(source="resource.title")
    legal_basis = serializers.SerializerMethodField()
    agreement_signed_at = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "provider",
            "receiver",
            "resource",
            "purpose",
            "legal_basis",
            "method",
            "valid_from",
            "valid_until",
            "agreement_signed_at",
        ]

    def get_provider(self, grant: Grant) -> dict:
        department = grant.resource.owner_department
        return {"code": department.code, "name": department.name}

    def get_receiver(self, grant: Grant) -> dict:
        department = grant.grantee_department
        return {"code": department.code, "name": department.name}

    def get_legal_basis(self, grant: Grant) -> dict:
        basis = grant.legal_basis or {}
        return {key: basis.get(key, "") for key in ("kind", "citation", "article")}

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_agreement_signed_at(self, grant: Grant) -> datetime.date | None:
        """The day (local) both departments had signed the agreement; null while unsigned."""
        signed = grant.agreement_signed_at
        return timezone.localdate(signed) if signed else None


class RegisterAPIView(ListAPIView):
    """GET /api/v1/register/ — anyone, no sign-in."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = RegisterEntrySerializer

    def get_queryset(self) -> QuerySet[Grant]:
        return active_grants()


@login_not_required
def register_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(active_grants(), 50).get_page(request.GET.get("page"))
    return render(request, "transparency/register.html", {"page": page})
