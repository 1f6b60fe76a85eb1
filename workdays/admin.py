from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from departments.admin_mixins import OfficeSettingsAdminMixin
from workdays.models import Holiday, ReviewPolicy


@admin.register(Holiday)
class HolidayAdmin(OfficeSettingsAdminMixin, SimpleHistoryAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(OfficeSettingsAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "owner_review_days", "office_review_days", "max_validity_days"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # One policy: the first is added once, then edited.
        return super().has_add_permission(request) and not ReviewPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
