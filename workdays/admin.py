from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from workdays.models import Holiday, ReviewPolicy


@admin.register(Holiday)
class HolidayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "owner_review_days", "office_review_days", "max_validity_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ReviewPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: ReviewPolicy | None = None) -> bool:
        return False
