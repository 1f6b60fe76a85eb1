"""The office's queues for the governance loop: overdue quality reports, demands to route and
routed demands, stale resources. Rows change only through actions that call the services."""

from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from catalog import governance_services as services
from catalog.models import (
    Demand,
    DemandStep,
    DemandSupporter,
    QualityReport,
    QualityReportStep,
    ResourceFreshness,
)
from govshare.admin_actions import ReasonForm, ServiceOnlyAdminMixin, service_action
from rights.models import Department

STEP_FIELDS = ["at", "action", "from_state", "to_state", "actor", "department", "reason"]


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(overdue_since__isnull=True)
        return queryset


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class QualityReportStepInline(_ReadOnlyInline):
    model = QualityReportStep
    fields = readonly_fields = STEP_FIELDS


class DemandStepInline(_ReadOnlyInline):
    model = DemandStep
    fields = readonly_fields = STEP_FIELDS


class DemandSupporterInline(_ReadOnlyInline):
    model = DemandSupporter
    fields = readonly_fields = ["department", "joined_by", "purpose", "joined_at"]


def _overdue_first():
    # Through get_ordering: the changelist replaces a queryset's ordering with the model's.
    return [F("overdue_since").asc(nulls_last=True), F("due_date").asc(nulls_last=True), "-id"]


@admin.register(QualityReport)
class QualityReportAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "resource",
        "reporting_department",
        "kind",
        "state",
        "due_date",
        "is_overdue",
        "created_at",
    ]
    list_filter = [
        "state",
        OverdueFilter,
        "kind",
        "reporting_department",
        ("resource__owner_department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["=id", "resource__identifier", "resource__title", "item", "description"]
    list_select_related = ["resource", "reporting_department"]
    inlines = [QualityReportStepInline]

    def get_ordering(self, request):
        return _overdue_first()

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, obj):
        return obj.overdue_since is not None


class RouteForm(ReasonForm):
    """The likely owner for every selected demand; the reason is optional."""

    department = forms.ModelChoiceField(
        label=_("Route to (likely owner)"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False


@admin.register(Demand)
class DemandAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "title",
        "requesting_department",
        "state",
        "routed_to",
        "due_date",
        "is_overdue",
        "created_at",
    ]
    list_filter = ["state", OverdueFilter, "requesting_department", "routed_to"]
    search_fields = ["=id", "title", "description", "search_text"]
    list_select_related = ["requesting_department", "routed_to"]
    exclude = ["search_text"]
    inlines = [DemandSupporterInline, DemandStepInline]
    actions = [
        service_action(
            name="route",
            label=_("Route to a likely owner"),
            call=lambda user, obj, data: services.demand_route(
                actor=user, demand=obj, department=data["department"], reason=data["reason"]
            ),
            form_class=RouteForm,
        )
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Demand._meta.fields if f.name != "search_text"]

    def get_ordering(self, request):
        return _overdue_first()

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, obj):
        return obj.overdue_since is not None


@admin.register(ResourceFreshness)
class ResourceFreshnessAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["resource", "stale", "stale_since", "newest_release_at", "checked_at"]
    list_filter = ["stale", ("resource__owner_department", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["resource__identifier", "resource__title"]
    list_select_related = ["resource"]
