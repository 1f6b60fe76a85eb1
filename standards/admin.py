"""The office sees agreements and signatures in admin; nothing is edited there (the parties sign
in the portal, through standards.agreements.agreement_sign)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_actions import ServiceOnlyAdminMixin
from standards.models import Agreement, AgreementSignature

SIGNATURE_FIELDS = ["role", "department", "signer", "signed_at", "agreement_sha256", "ledger_index"]


class AgreementSignatureInline(admin.TabularInline):
    model = AgreementSignature
    fields = tuple(SIGNATURE_FIELDS)
    readonly_fields = SIGNATURE_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["id", "grant", "generated_at", "is_signed", "signed_at"]
    list_filter = [("signed_at", admin.EmptyFieldListFilter), "grant__grantee_department"]
    search_fields = ["=id", "=grant__id", "sha256", "grant__resource__identifier"]
    list_select_related = ["grant__resource", "grant__grantee_department"]
    inlines = [AgreementSignatureInline]

    @admin.display(description=_("signed by both"), boolean=True)
    def is_signed(self, obj: Agreement) -> bool:
        return obj.signed_at is not None


@admin.register(AgreementSignature)
class AgreementSignatureAdmin(ServiceOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "agreement", "role", "department", "signer", "signed_at", "ledger_index"]
    list_filter = ["role", "department"]
    search_fields = ["=agreement__grant__id", "department__code", "signer__username"]
    list_select_related = ["agreement", "department", "signer"]
