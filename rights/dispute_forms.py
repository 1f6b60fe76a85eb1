"""Web forms for disputes and end-of-use attestations. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from rights.disputes import EVIDENCE_EXTENSIONS, GRANT_ORDERS, SETTLE_ORDERS
from rights.models import Attestation, Department, DisputeDecision

TEXTAREA = {"rows": 4}
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
    orders = set(Order.values)
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


class AttestationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What was done with the delivered copies"),
        choices=Attestation.Kind.choices,
        widget=forms.RadioSelect,
    )
    statement = forms.CharField(
        label=_("Statement"),
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=5000,
        help_text=_("What was deleted or returned, where it was kept, when, and by whom."),
    )
