from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.db.models import F, Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from access_requests import services
from access_requests.models import Request, RequestItem, RequestStep
from core.admin_actions import ReasonForm, ServiceOnlyAdminMixin, service_action
from core.admin_columns import code_column

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, _StrOrPromise]]:
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Request]) -> QuerySet[Request]:
        if self.value() == "yes":
            return queryset.filter(overdue_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(overdue_since__isnull=True)
        return queryset


class RequestItemInline(admin.TabularInline):
    model = RequestItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ("name", "reason", "approved")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RequestStepInline(admin.TabularInline):
    model = RequestStep
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "at",
        "action",
        "from_state",
        "to_state",
        "actor",
        "department",
        "reason",
    )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ApproveForm(ReasonForm):
    """Reason optional; items may be narrowed (only items every selected request has)."""

    takes_objects = True
    fields_to_approve = forms.MultipleChoiceField(
        label=_("Approve only these items (leave empty to approve all requested)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_records_per_day = forms.IntegerField(
        label=_("Records per day"), min_value=1, required=False
    )
    max_calls_per_day = forms.IntegerField(label=_("Calls per day"), min_value=1, required=False)

    def __init__(self, *args: Any, objects: Iterable[Request], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False
        common: list[str] | None = None
        for request in objects:
            names = list(request.items.values_list("name", flat=True))
            common = names if common is None else [n for n in common if n in names]
        field = cast(forms.MultipleChoiceField, self.fields["fields_to_approve"])
        field.choices = [(n, n) for n in common or []]


def _approve(user: Any, obj: Request, data: dict[str, Any]) -> None:
    services.request_approve(
        actor=user,
        request=obj,
        reason=data.get("reason", ""),
        fields=data.get("fields_to_approve") or None,
        max_records_per_day=data.get("max_records_per_day"),
        max_calls_per_day=data.get("max_calls_per_day"),
    )


@admin.register(Request)
class RequestAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    # What the office's queue decides by; the method and the dates are on the row's page.
    list_display = [
        "id",
        code_column("resource__identifier", _("resource")),
        code_column("requesting_department__code", _("requesting department")),
        "state",
        "due_date",
        "is_overdue",
        "appealed",
    ]
    list_filter = [
        "state",
        OverdueFilter,
        "requesting_department",
        "appealed",
        ("resource", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "=id",
        "resource__identifier",
        "resource__title",
        "requesting_department__code",
        "purpose",
        "legal_basis_citation",
    ]
    list_select_related = ["resource", "requesting_department"]
    inlines = [RequestItemInline, RequestStepInline]
    actions = [
        service_action(name="approve", label=_("Approve"), call=_approve, form_class=ApproveForm),
        service_action(
            name="reject",
            label=_("Reject"),
            call=lambda user, obj, data: services.request_reject(
                actor=user, request=obj, reason=data["reason"]
            ),
        ),
        service_action(
            name="return_to_requester",
            label=_("Return to the requester"),
            call=lambda user, obj, data: services.request_return(
                actor=user, request=obj, reason=data["reason"]
            ),
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Request]:
        # The office's queue: overdue first, then the earliest due date.
        return (
            super()
            .get_queryset(request)
            .order_by(
                F("overdue_since").asc(nulls_last=True), F("due_date").asc(nulls_last=True), "-id"
            )
        )

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, obj: Request) -> bool:
        return obj.overdue_since is not None
