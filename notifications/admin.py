from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "subject", "read_at"]
    list_filter = ["read_at", "created_at"]
    search_fields = ["recipient__username", "subject", "key"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "subject", "body", "url", "key", "created_at", "read_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
