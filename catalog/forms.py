from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import DataItem, Method, Resource
from catalog.services import resource_problems
from departments.models import Department


class ResourceForm(forms.ModelForm):
    """The metadata of a catalog entry. Cross-field rules live in the service."""

    owner_department = forms.ModelChoiceField(
        label=_("Owning department"), queryset=Department.objects.none(), required=True
    )
    methods = forms.MultipleChoiceField(
        label=_("Allowed sharing methods"),
        choices=Method.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Resource
        fields = [
            "owner_department",
            "identifier",
            "title",
            "abstract",
            "classification",
            "management_right_holder",
            "format",
            "sharing_type",
            "sharing_conditions",
            "not_shareable_reason",
            "not_shareable_law",
            "methods",
            "collection_legal_basis",
            "update_cycle",
            "related_resources",
        ]
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 4}),
            "sharing_conditions": forms.Textarea(attrs={"rows": 3}),
            "not_shareable_reason": forms.Textarea(attrs={"rows": 3}),
            "collection_legal_basis": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "identifier": _("A stable code, for example HEALTH-VACC-001."),
            "sharing_conditions": _("Required for a conditional resource."),
            "not_shareable_reason": _("Required when the resource is not shareable."),
        }

    def __init__(self, *args, owner_choices, related_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_department"].queryset = owner_choices
        if self.instance.pk:
            # Ownership never moves: the right belongs to the department that defined the data.
            del self.fields["owner_department"]
            self.initial["methods"] = self.instance.methods
        elif owner_choices.count() == 1:
            self.initial["owner_department"] = owner_choices.first()
        self.fields["management_right_holder"].queryset = Department.objects.filter(
            is_active=True
        ).order_by("code")
        self.fields["management_right_holder"].required = False
        self.fields["management_right_holder"].help_text = _(
            "Leave empty for the data management office."
        )
        self.fields["related_resources"].queryset = related_choices
        self.fields["related_resources"].required = False

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            # Some fields did not parse: add the service's cross-field rules for the others now,
            # so they are not found only on the next submit. They depend on the sharing type.
            in_error = set(self.errors)
            if "sharing_type" not in in_error:
                problems = resource_problems(self.service_data(), cleaned.get("methods") or [])
                for name, messages in problems.items():
                    if name not in in_error:
                        for message in messages:
                            self.add_error(name if name in self.fields else None, message)
        return cleaned

    def service_data(self):
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in {"owner_department", "methods", "related_resources"}
        }
        return data


class DataItemForm(forms.Form):
    # Field order is the column order of the items table in resource_form.html.
    name = forms.CharField(label=_("Name"), max_length=63)
    type = forms.ChoiceField(label=_("Type"), choices=[("", "—"), *DataItem.Type.choices])
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=[("", "—"), *DataItem.Sensitivity.choices]
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    lookup_key = forms.BooleanField(label=_("Lookup key"), required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


DataItemFormSet = forms.formset_factory(DataItemForm, extra=3, can_delete=True)


def items_from_formset(formset):
    return [
        form.cleaned_data
        for form in formset.forms
        if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class RetireForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for retiring"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class ReleaseUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 CSV (a BOM is fine) whose header names every data item."),
    )
