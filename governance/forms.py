"""Web forms for quality reports and demands. They parse input; every rule lives in the services."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Release, Resource
from core.forms import TEXTAREA
from departments.models import Department
from governance.models import DisputeDecision, QualityReport
from governance.services.decisions import ALL_ORDERS, GRANT_ORDERS, SETTLE_ORDERS
from governance.services.disputes import EVIDENCE_EXTENSIONS

_NUMBER = re.compile(r"\d+")


def _department_field(form, departments, label):
    """A choice only when there is one to make; otherwise the form keeps the one department."""
    if len(departments) <= 1:
        del form.fields["department"]
        form.fixed_department = departments[0] if departments else None
    else:
        form.fields["department"].queryset = Department.objects.filter(
            pk__in=[d.pk for d in departments]
        ).order_by("code")
        form.fields["department"].label = label


class DepartmentChoiceMixin:
    def department_choice(self):
        if "department" in self.fields:
            return self.cleaned_data["department"]
        return self.fixed_department


class QualityReportForm(DepartmentChoiceMixin, forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    kind = forms.ChoiceField(label=_("Kind of problem"), choices=QualityReport.Kind.choices)
    item = forms.ChoiceField(
        label=_("Data item"),
        required=False,
        help_text=_("The item the problem is in, if it is in one."),
    )
    lines = forms.CharField(
        label=_("Example lines"),
        required=False,
        max_length=500,
        help_text=_(
            "Line numbers in the newest release file, separated by commas (the header is line 1)."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is wrong, and what you expected instead. Do not paste personal data."),
    )

    def __init__(self, *args, resource, departments, **kwargs):
        super().__init__(*args, **kwargs)
        _department_field(self, departments, _("Reporting department"))
        self.fields["item"].choices = [("", "—")] + [
            (name, name) for name in resource.data_items.values_list("name", flat=True)
        ]

    def clean_lines(self):
        text = self.cleaned_data["lines"]
        if re.sub(r"[\d,;\s]", "", text):
            raise forms.ValidationError(_("Use line numbers separated by commas, e.g. 2, 15, 27."))
        return [int(n) for n in _NUMBER.findall(text)]


class ReasonForm(forms.Form):
    """The reason that goes with a step; the service decides whether it is required."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args, required=True, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        if label:
            self.fields["reason"].label = label


class ResolveForm(ReasonForm):
    release = forms.ModelChoiceField(
        label=_("Correcting release"),
        queryset=Release.objects.none(),
        required=False,
        help_text=_("The new release that corrects the data, if there is one."),
    )

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, label=_("What was corrected"), **kwargs)
        releases = Release.objects.filter(resource_id=report.resource_id)
        if report.release_id:
            releases = releases.filter(sequence__gt=report.release.sequence)
        self.fields["release"].queryset = releases.order_by("-sequence")
        self.fields["release"].label_from_instance = lambda release: (
            _("Release %(n)d, %(date)s, %(rows)d rows")
            % {
                "n": release.sequence,
                "date": release.created_at.strftime("%Y-%m-%d"),
                "rows": release.row_count,
            }
        )


class DemandForm(DepartmentChoiceMixin, forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What data is needed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Which records, about whom or what, for which period and area."),
    )
    items = forms.CharField(
        label=_("Data items wanted"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, for example: marriage date."),
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the data would be used for, and only for."),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The law, regulation or order that allows the use, with its article."),
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        _department_field(self, departments, _("Filing department"))

    def service_data(self):
        return {f: self.cleaned_data[f] for f in ("title", "description", "purpose", "legal_basis")}

    def item_list(self):
        return [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]


class RouteForm(ReasonForm):
    department = forms.ModelChoiceField(label=_("Likely owner"), queryset=Department.objects.none())

    def __init__(self, *args, demand, **kwargs):
        super().__init__(*args, required=False, **kwargs)
        self.fields["department"].queryset = (
            Department.objects.filter(is_active=True)
            .exclude(pk=demand.requesting_department_id)
            .order_by("code")
        )


class AnswerDemandForm(ReasonForm):
    resource = forms.ModelChoiceField(
        label=_("Resource that meets the demand"), queryset=Resource.objects.none()
    )

    def __init__(self, *args, demand, **kwargs):
        super().__init__(*args, required=False, label=_("Note for the requester"), **kwargs)
        self.fields["resource"].queryset = Resource.objects.filter(
            owner_department_id=demand.routed_to_id, status=Resource.Status.PUBLISHED
        ).order_by("title")


class JoinForm(DepartmentChoiceMixin, forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    purpose = forms.CharField(
        label=_("Why your department needs it too"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        _department_field(self, departments, _("Joining department"))


Order = DisputeDecision.Order


class DisputeRaiseForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Raised by (department)"), queryset=Department.objects.none()
    )
    disputed = forms.CharField(
        label=_("What is disputed"),
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=5000,
        help_text=_("The facts: what happened, when, and why you disagree."),
    )
    asked = forms.CharField(
        label=_("What you ask for"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("For example: resume the grant, correct the data, reconsider the refusal."),
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        if len(departments) <= 1:
            del self.fields["department"]
            self.fixed_department = departments[0] if departments else None
        else:
            self.fields["department"].queryset = Department.objects.filter(
                pk__in=[d.pk for d in departments]
            ).order_by("code")

    def department_choice(self):
        if "department" in self.fields:
            return self.cleaned_data["department"]
        return self.fixed_department


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("Statement"), widget=forms.Textarea(attrs=TEXTAREA), max_length=10000
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ",".join(f".{e}" for e in EVIDENCE_EXTENSIONS)}),
        help_text=_("Optional: PDF, PNG, JPEG, CSV or text. Its SHA-256 goes into the ledger."),
    )


class _DecisionForm(forms.Form):
    """Outcome, reasons, the party held responsible and the order, for one dispute."""

    reasons = forms.CharField(
        label=_("Reasons"), widget=forms.Textarea(attrs=TEXTAREA), max_length=10000
    )
    responsible_department = forms.ModelChoiceField(
        label=_("Party held responsible"), queryset=Department.objects.none()
    )
    order = forms.ChoiceField(label=_("Order"), initial=Order.NONE)
    order_text = forms.CharField(
        label=_("What is ordered"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("Needed for a data correction: which data, and how."),
    )
    orders = ALL_ORDERS
    responsible_required = True

    def __init__(self, *args, dispute, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_department"].queryset = Department.objects.filter(
            pk__in=dispute.party_ids
        ).order_by("code")
        self.fields["responsible_department"].required = self.responsible_required
        orders = self.orders if dispute.grant_id else self.orders - set(GRANT_ORDERS)
        self.fields["order"].choices = [(v, label) for v, label in Order.choices if v in orders]


class SettleForm(_DecisionForm):
    orders = SETTLE_ORDERS
    responsible_required = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].label = _("What was agreed")


class DecisionForm(_DecisionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(v, label) for v, label in DisputeDecision.Outcome.choices if v != "agreed"],
    )
    field_order = ["outcome", "reasons", "responsible_department", "order", "order_text"]


class FinalDecisionForm(DecisionForm):
    authority = forms.CharField(label=_("Supervising authority"), max_length=200)
    authority_reference = forms.CharField(
        label=_("Authority's reference"), max_length=100, required=False
    )
    field_order = ["authority", "authority_reference", *DecisionForm.field_order]
