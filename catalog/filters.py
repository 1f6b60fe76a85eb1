import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from catalog import selectors
from catalog.models import DataItem, Method, Resource, SharingType
from departments.models import Department


class ResourceFilter(django_filters.FilterSet):
    """Catalog filters shared by the web list and the API list."""

    search = django_filters.CharFilter(label=_("Search"), method="filter_search")
    department = django_filters.ModelChoiceFilter(
        label=_("Owning department"),
        field_name="owner_department",
        to_field_name="code",
        queryset=Department.objects.order_by("code"),
        empty_label=_("Any department"),
    )
    sharing_type = django_filters.ChoiceFilter(
        label=_("Sharing type"), choices=SharingType.choices, empty_label=_("Any sharing type")
    )
    method = django_filters.ChoiceFilter(
        label=_("Sharing method"),
        choices=Method.choices,
        method="filter_method",
        empty_label=_("Any method"),
    )
    sensitivity = django_filters.ChoiceFilter(
        label=_("Holds items of sensitivity"),
        choices=DataItem.Sensitivity.choices,
        method="filter_sensitivity",
        empty_label=_("Any sensitivity"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Resource.Status.choices,
        method="filter_status",
        empty_label=_("Current (draft and published)"),
    )

    class Meta:
        model = Resource
        fields = ["search", "department", "sharing_type", "method", "sensitivity", "status"]

    def filter_queryset(self, queryset):
        status = self.form.cleaned_data.get("status") or None
        queryset = queryset.filter(selectors.status_condition(self.request.user, status))
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        return selectors.search(queryset, value)

    def filter_method(self, queryset, name, value):
        return queryset.filter(**{Resource.METHOD_FIELDS[Method(value)]: True})

    def filter_sensitivity(self, queryset, name, value):
        items = DataItem.objects.filter(resource=OuterRef("pk"), sensitivity=value)
        return queryset.filter(Exists(items))

    def filter_status(self, queryset, name, value):
        return queryset  # applied in filter_queryset
