from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from departments import services
from departments.models import Department, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["group", "created_at"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Department | None = None) -> list[str]:
        # The code names the department's group; it is fixed once created.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: Department, form: forms.ModelForm[Department], change: bool
    ) -> None:
        if change:
            services.department_update(
                department=obj, name=obj.name, kind=obj.kind, is_active=obj.is_active
            )
        else:
            created = services.department_create(code=obj.code, name=obj.name, kind=obj.kind)
            obj.pk, obj.group = created.pk, created.group

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return False  # departments are deactivated, never deleted: history refers to them


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "department", "role", "created_at"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__email", "department__code", "department__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "department"]

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        return ["user", "department", "role"] if obj else []

    def save_model(
        self, request: HttpRequest, obj: Membership, form: forms.ModelForm[Membership], change: bool
    ) -> None:
        if not change:
            created = services.membership_grant(
                user=obj.user, department=obj.department, role=obj.role
            )
            obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_revoke(membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "department"):
            services.membership_revoke(membership=membership)
