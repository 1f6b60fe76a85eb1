from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from govshare.admin_actions import ServiceOnlyAdminMixin, service_action
from rights import deliveries, services
from rights.models import Delivery, Department, Grant, GrantUsage, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["group", "created_at"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The code names the department's group; it is fixed once created.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            services.department_update(
                department=obj, name=obj.name, kind=obj.kind, is_active=obj.is_active
            )
        else:
            created = services.department_create(code=obj.code, name=obj.name, kind=obj.kind)
            obj.pk, obj.group = created.pk, created.group

    def has_delete_permission(self, request, obj=None):
        return False  # departments are deactivated, never deleted: history refers to them


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "department", "role", "created_at"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__email", "department__code", "department__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "department"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "department", "role"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.membership_grant(
                user=obj.user, department=obj.department, role=obj.role
            )
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.membership_revoke(membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "department"):
            services.membership_revoke(membership=membership)


@admin.register(Grant)
class GrantAdmin(ServiceOnlyAdminMixin, GuardedModelAdmin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "resource",
        "grantee_department",
        "method",
        "status",
        "valid_from",
        "valid_until",
    ]
    list_filter = [
        "status",
        "method",
        "grantee_department",
        ("resource", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "=id",
        "resource__identifier",
        "resource__title",
        "grantee_department__code",
        "purpose",
    ]
    list_select_related = ["resource", "grantee_department"]
    actions = [
        service_action(
            name="suspend",
            label=_("Suspend"),
            call=lambda user, obj, data: services.grant_suspend(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
        service_action(
            name="resume",
            label=_("Resume"),
            call=lambda user, obj, data: services.grant_resume(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
        service_action(
            name="revoke",
            label=_("Revoke"),
            call=lambda user, obj, data: services.grant_revoke(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
    ]


def _retry(user, obj, data):
    deliveries.delivery_retry(actor=user, delivery=obj)


class NoFormAction(forms.Form):
    """Retry needs no reason: the failure is on record already."""


@admin.register(Delivery)
class DeliveryAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "grant",
        "period_key",
        "caught_up",
        "status",
        "row_count",
        "attempts",
        "finished_at",
    ]
    list_filter = [
        "status",
        "caught_up",
        ("grant__resource", admin.RelatedOnlyFieldListFilter),
        "grant__grantee_department",
    ]
    search_fields = ["=id", "=grant__id", "period_key", "sha256"]
    list_select_related = ["grant"]
    change_list_template = "admin/rights/delivery/change_list.html"
    actions = [
        service_action(
            name="retry", label=_("Retry failed deliveries"), call=_retry, form_class=NoFormAction
        ),
    ]

    def changelist_view(self, request, extra_context=None):
        from django.conf import settings

        schedules = [
            {"name": name, "task": entry["task"], "schedule": str(entry["schedule"])}
            for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items())
        ]
        return super().changelist_view(request, {"schedules": schedules, **(extra_context or {})})


@admin.register(GrantUsage)
class GrantUsageAdmin(ServiceOnlyAdminMixin, admin.ModelAdmin):
    """What the daily volume limits count; the access log holds each call."""

    list_display = ["grant", "day", "action", "calls", "records"]
    list_filter = ["action", "day", "grant__grantee_department"]
    search_fields = ["=grant__id"]
    list_select_related = ["grant"]
    date_hierarchy = "day"


from rights import dispute_admin  # noqa: F401,E402
