from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import DataItem, Release, Resource
from core.admin_actions import ServiceOnlyAdminMixin
from core.admin_columns import code_column


class DataItemInline(admin.TabularInline):
    model = DataItem
    extra = 0
    fields = ("position", "name", "type", "sensitivity", "required", "description")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


# guardian types change_form_template as str, django-stubs as str | None: same value at runtime.
@admin.register(Resource)
class ResourceAdmin(ServiceOnlyAdminMixin, GuardedModelAdmin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "identifier",
        "title",
        code_column("owner_department__code", _("owner")),
        code_column("management_right_holder__code", _("management right")),
        "sharing_type",
        "status",
        "version",
    ]
    list_filter = ["status", "sharing_type", "owner_department", "management_right_holder"]
    search_fields = ["identifier", "title", "abstract", "data_items__name"]
    list_select_related = ["owner_department", "management_right_holder"]
    readonly_fields = (
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
        "allows_periodic_copy",
        "allows_upload",
        "allows_realtime",
        "allows_result_only",
        "collection_legal_basis",
        "update_cycle",
        "related_resources",
        "status",
        "version",
        "published_at",
        "retired_at",
    )
    fields = readonly_fields
    inlines = [DataItemInline]


@admin.register(DataItem)
class DataItemAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "resource", "type", "sensitivity", "required"]
    list_filter = ["type", "sensitivity"]
    search_fields = ["name", "description", "resource__identifier"]
    list_select_related = ["resource"]


@admin.register(Release)
class ReleaseAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        code_column("resource__identifier", _("resource")),
        "sequence",
        "row_count",
        "size_bytes",
        "created_at",
    ]
    list_filter = ["resource__owner_department", "created_at"]
    search_fields = ["resource__identifier", "sha256", "original_name"]
    list_select_related = ["resource"]
    readonly_fields = (
        "resource",
        "sequence",
        "file",
        "original_name",
        "size_bytes",
        "sha256",
        "row_count",
        "columns",
        "report",
        "table_name",
        "uploaded_by",
        "created_at",
    )
    fields = readonly_fields
