"""Admin options for the office's own settings (review policy, holidays, periodic jobs).

Who may do what is decided by roles (departments/permissions.py), not by model permissions, like
the other office and auditor admin pages: an office reviewer edits, the office's other members
and the auditors read (Django's read-only view, without save buttons), and any other staff user
gets 403. Superusers may do everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.http import HttpRequest

from departments.permissions import can_edit_office_settings, can_read_office_settings

if TYPE_CHECKING:
    from django.contrib import admin

    _AdminBase = admin.ModelAdmin[Any]  # what the mixin is mixed into
else:
    _AdminBase = object


def _staff(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff


class OfficeSettingsAdminMixin(_AdminBase):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user = request.user
        return _staff(request) and (user.is_superuser or can_read_office_settings(user))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user = request.user
        return _staff(request) and (user.is_superuser or can_edit_office_settings(user))

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request, obj)
