"""Web forms for the request workflow. They parse input; every rule lives in the services."""

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.validators import FileExtensionValidator
from django.forms.boundfield import BoundField
from django.utils.translation import gettext_lazy as _

from access_requests.models import Frequency, LegalBasisKind, Request
from access_requests.services import REQUEST_FIELDS
from access_requests.validation import request_problems
from catalog.models import DataItem, Method, Resource
from departments.models import Department

DATE_INPUT = {"type": "date"}


class RequestForm(forms.Form):
    """File or edit a request for one resource.

    Each data item of the resource becomes a checkbox ``item_<name>`` with a reason input
    ``reason_<name>``; only checked items are sent to the service.
    """

    department = forms.ModelChoiceField(
        label=_("Requesting department"), queryset=Department.objects.none()
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the data will be used for, and only for."),
    )
    legal_basis_kind = forms.ChoiceField(
        label=_("Kind of legal basis"), choices=[("", "—"), *LegalBasisKind.choices]
    )
    legal_basis_citation = forms.CharField(
        label=_("Citation"),
        max_length=300,
        help_text=_("The law, regulation or order, by its name."),
    )
    legal_basis_article = forms.CharField(label=_("Article"), max_length=100, required=False)
    legal_basis_text = forms.CharField(
        label=_("Text of the provision"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    supporting_document = forms.FileField(
        label=_("Supporting document"),
        required=False,
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg"])],
        widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
        help_text=_("Optional: PDF, PNG or JPEG, for example the court order."),
    )
    method = forms.ChoiceField(label=_("Sharing method"), choices=())
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=[("", "—"), *Frequency.choices],
        required=False,
        help_text=_("Only for a periodic copy."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")
    )

    def __init__(
        self,
        *args: Any,
        resource: Resource,
        departments: Sequence[Department] | None = None,
        instance: Request | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.resource = resource
        self.data_items = list(resource.data_items.all())
        if departments is None or len(departments) <= 1:
            # Nothing to choose: the only requester department, or the request's own.
            del self.fields["department"]
            self.fixed_department = departments[0] if departments else None
        else:
            department = cast("forms.ModelChoiceField[Department]", self.fields["department"])
            department.queryset = Department.objects.filter(
                pk__in=[d.pk for d in departments]
            ).order_by("code")
        methods = resource.methods
        method = cast(forms.ChoiceField, self.fields["method"])
        method.choices = [("", "—")] + [(m, Method(m).label) for m in methods]
        # A resource without methods (not shareable) still reaches the service, which says why.
        method.required = bool(methods)
        if Method.PERIODIC_COPY not in methods:
            del self.fields["frequency"]
        chosen = {}
        if instance is not None:
            self.initial.update({f: getattr(instance, f) for f in REQUEST_FIELDS})
            chosen = {item.name: item.reason for item in instance.items.all()}
        for item in self.data_items:
            self.fields[f"item_{item.name}"] = forms.BooleanField(
                label=item.name, required=False, initial=item.name in chosen
            )
            self.fields[f"reason_{item.name}"] = forms.CharField(
                label=_("Why %(name)s is needed") % {"name": item.name},
                max_length=500,
                required=False,
                initial=chosen.get(item.name, ""),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            # Some fields did not parse: add the request's own rules for the others now, so the
            # dates are not checked only on the next submit. A field already in error keeps just
            # its first message, and so do the end date and the frequency when the start date
            # or the method they depend on did not parse.
            in_error = set(self.errors)
            if "valid_from" in in_error:
                in_error.add("valid_until")
            if "method" in in_error:
                in_error.add("frequency")
            for name, problems in request_problems(
                self.resource, self.service_data(), self.items()
            ).items():
                target = name if name in self.fields else None
                if target in in_error:
                    continue
                for problem in problems:
                    self.add_error(target, problem)
        return cleaned

    def item_rows(self) -> list[tuple[DataItem, BoundField, BoundField]]:
        """(data item, checkbox, reason input) for each item of the resource, in catalog order."""
        return [
            (item, self[f"item_{item.name}"], self[f"reason_{item.name}"])
            for item in self.data_items
        ]

    def item_field_names(self) -> set[str]:
        return {f"{kind}_{item.name}" for item in self.data_items for kind in ("item", "reason")}

    def department_choice(self) -> Department | None:
        if "department" in self.fields:
            return self.cleaned_data["department"]
        return self.fixed_department

    def service_data(self) -> dict[str, Any]:
        data = {f: self.cleaned_data.get(f) for f in REQUEST_FIELDS if f in self.fields}
        data.setdefault("frequency", "")
        return data

    def items(self) -> list[dict[str, str]]:
        return [
            {"name": item.name, "reason": self.cleaned_data.get(f"reason_{item.name}", "")}
            for item in self.data_items
            if self.cleaned_data.get(f"item_{item.name}")
        ]


class ApproveForm(forms.Form):
    """The decision: the items approved (a narrower set is a partial approval) and limits."""

    items = forms.MultipleChoiceField(
        label=_("Approved data items"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick what is not necessary for the stated purpose."),
        # the service's words, here too so that they show with the other fields' errors
        error_messages={"required": _("Approve at least one item, or reject the request.")},
    )
    max_records_per_day = forms.IntegerField(
        label=_("Records per day (limit)"), min_value=1, required=False
    )
    max_calls_per_day = forms.IntegerField(
        label=_("Calls per day (limit)"), min_value=1, required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args: Any, requested: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        items = cast(forms.MultipleChoiceField, self.fields["items"])
        items.choices = [(name, name) for name in requested]
        self.initial.setdefault("items", list(requested))
