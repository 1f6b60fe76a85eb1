from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import PeriodicTask
from simple_history.admin import SimpleHistoryAdmin

from core.admin_actions import ServiceOnlyAdminMixin, service_action
from sharing import deliveries
from sharing.models import Delivery


def _retry(user: Any, obj: Delivery, data: dict[str, Any]) -> None:
    deliveries.delivery_retry(actor=user, delivery=obj)


class NoFormAction(forms.Form):
    """Retry needs no reason: the failure is on record already."""


@admin.register(Delivery)
class DeliveryAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    # Caught up, heartbeat and purged are filters and on the row's page.
    list_display = ["id", "grant", "period_key", "status", "attempts", "row_count", "finished_at"]
    list_filter = [
        "status",
        ("purged_at", admin.EmptyFieldListFilter),
        "caught_up",
        ("grant__resource", admin.RelatedOnlyFieldListFilter),
        "grant__grantee_department",
    ]
    search_fields = ["=id", "=grant__id", "period_key", "sha256"]
    list_select_related = ["grant__grantee_department", "grant__resource"]  # Grant.__str__
    change_list_template = "admin/sharing/delivery/change_list.html"
    actions = [
        service_action(
            name="retry", label=_("Retry failed deliveries"), call=_retry, form_class=NoFormAction
        ),
    ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The delivery jobs as beat runs them (the office edits them under Periodic tasks).
        jobs = (
            PeriodicTask.objects.filter(task__startswith="sharing.tasks.")
            .select_related("interval", "crontab")
            .order_by("name")
        )
        return super().changelist_view(request, {"delivery_jobs": jobs, **(extra_context or {})})
