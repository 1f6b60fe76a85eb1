"""The office's queues for the governance loop: overdue quality reports, demands to route and
routed demands, stale resources. Rows change only through actions that call the services."""

from django import forms
from django.contrib import admin
from django.db.models import Case, F, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_actions import ReasonForm, ServiceOnlyAdminMixin, service_action
from core.admin_columns import code_column
from departments.models import Department
from governance.models import (
    Demand,
    DemandStep,
    DemandSupporter,
    Dispute,
    DisputeDecision,
    DisputeStep,
    QualityReport,
    QualityReportStep,
    ResourceFreshness,
)
from governance.services import decisions
from governance.services import demands as demand_services

STEP_FIELDS = ("at", "action", "from_state", "to_state", "actor", "department", "reason")


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
    fields = readonly_fields = ("department", "joined_by", "purpose", "joined_at")


def _overdue_first():
    # Through get_ordering: the changelist replaces a queryset's ordering with the model's.
    return [F("overdue_since").asc(nulls_last=True), F("due_date").asc(nulls_last=True), "-id"]


@admin.register(QualityReport)
class QualityReportAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        code_column("resource__identifier", _("resource")),
        code_column("reporting_department__code", _("reporting department")),
        "kind",
        "state",
        "due_date",
        "is_overdue",
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
        code_column("requesting_department__code", _("requesting department")),
        "state",
        code_column("routed_to__code", _("routed to")),
        "due_date",
        "is_overdue",
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
            call=lambda user, obj, data: demand_services.demand_route(
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


Order = DisputeDecision.Order


class DisputeStepInline(admin.TabularInline):
    model = DisputeStep
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "at",
        "level",
        "action",
        "from_state",
        "to_state",
        "actor",
        "department",
        "reason",
        "evidence_sha256",
        "ledger_index",
    )

    def has_add_permission(self, request, obj=None):
        return False


class DisputeDecisionInline(admin.StackedInline):
    model = DisputeDecision
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "level",
        "outcome",
        "reasons",
        "responsible_department",
        "order",
        "order_text",
        "authority",
        "authority_reference",
        "decided_by",
        "decided_at",
    )

    def has_add_permission(self, request, obj=None):
        return False


class DecisionActionForm(forms.Form):
    """The office's decision, for one or more selected disputes (the party held responsible is
    named by side, so the same form serves several disputes)."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(v, label) for v, label in DisputeDecision.Outcome.choices if v != "agreed"],
    )
    reasons = forms.CharField(
        label=_("Reasons (recorded and sent to the parties)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=10000,
    )
    responsible = forms.ChoiceField(
        label=_("Party held responsible"),
        choices=[
            ("raised_by_department", _("The department that raised the dispute")),
            ("respondent_department", _("The department it was raised against")),
        ],
    )
    order = forms.ChoiceField(label=_("Order"), choices=Order.choices, initial=Order.NONE)
    order_text = forms.CharField(
        label=_("What is ordered (for a data correction)"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        required=False,
    )


class FinalDecisionActionForm(DecisionActionForm):
    authority = forms.CharField(label=_("Supervising authority"), max_length=200)
    authority_reference = forms.CharField(
        label=_("Authority's reference"), max_length=100, required=False
    )


def _decision_data(obj, data):
    values = {k: v for k, v in data.items() if k != "responsible"}
    values["responsible_department"] = getattr(obj, data["responsible"])
    return values


class EscalatedFilter(admin.SimpleListFilter):
    title = _("waiting for the office")
    parameter_name = "escalated"

    def lookups(self, request, model_admin):
        return [("yes", _("Escalated")), ("no", _("Not escalated"))]

    def queryset(self, request, queryset):
        waiting = [Dispute.State.OFFICE_REVIEW, Dispute.State.AUTHORITY_REVIEW]
        if self.value() == "yes":
            return queryset.filter(state__in=waiting)
        if self.value() == "no":
            return queryset.exclude(state__in=waiting)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "subject_kind",
        code_column("resource__identifier", _("resource")),
        code_column("raised_by_department__code", _("raised by")),
        code_column("respondent_department__code", _("respondent")),
        "state",
        "level",
        "due_date",
    ]
    list_filter = [EscalatedFilter, "state", "level", "subject_kind", "raised_by_department"]
    search_fields = [
        "=id",
        "=grant__id",
        "resource__identifier",
        "resource__title",
        "raised_by_department__code",
        "respondent_department__code",
    ]
    list_select_related = ["resource", "raised_by_department", "respondent_department"]
    inlines = [DisputeDecisionInline, DisputeStepInline]
    actions = [
        service_action(
            name="decide",
            label=_("Decide (management office)"),
            call=lambda user, obj, data: decisions.dispute_decide(
                actor=user, dispute=obj, **_decision_data(obj, data)
            ),
            form_class=DecisionActionForm,
        ),
        service_action(
            name="record_final",
            label=_("Record the supervising authority's final decision"),
            call=lambda user, obj, data: decisions.dispute_record_final(
                actor=user, dispute=obj, **_decision_data(obj, data)
            ),
            form_class=FinalDecisionActionForm,
        ),
    ]

    def get_ordering(self, request):
        # The office's queue: escalated disputes first, the earliest due first among them.
        # (Through get_ordering: the changelist replaces a queryset's ordering with the model's.)
        waiting = Case(
            When(state__in=[Dispute.State.OFFICE_REVIEW, Dispute.State.AUTHORITY_REVIEW], then=0),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [waiting.asc(), F("due_date").asc(nulls_last=True), "-id"]
