from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from audit.models import AccessLog
from core.admin_actions import ServiceOnlyAdminMixin
from departments.permissions import is_auditor
from ledger.models import LedgerCheckpoint, LedgerEntry


class AuditorOnlyMixin(ServiceOnlyAdminMixin):
    """Read only, and only for auditors (and superusers)."""

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or (request.user.is_staff and is_auditor(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(AccessLog)
class AccessLogAdmin(AuditorOnlyMixin, admin.ModelAdmin):
    list_display = [
        "at",
        "user",
        "department",
        "action",
        "target",
        "records",
        "outcome",
        "remote_addr",
    ]
    list_filter = ["outcome", "action", "department", "at"]
    search_fields = ["target", "user__username", "department__code", "remote_addr"]
    list_select_related = ["user", "department"]
    date_hierarchy = "at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditorOnlyMixin, admin.ModelAdmin):
    list_display = ["index", "created_at", "entry_type", "departments", "subject"]
    list_filter = ["entry_type"]
    search_fields = ["=index", "entry_type", "departments", "subject"]
    exclude = ["entry", "leaf_hash"]
    readonly_fields = ["index", "created_at", "entry_type", "departments", "subject"]


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(AuditorOnlyMixin, admin.ModelAdmin):
    list_display = ["tree_size", "created_at"]
    readonly_fields = ["tree_size", "note", "created_at"]
    exclude = ["root_hash"]
