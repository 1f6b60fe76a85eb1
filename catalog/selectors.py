"""Reads for the catalog: permission-filtered querysets with their joins already chosen."""

import re

from django.db import connection
from django.db.models import BooleanField, Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from catalog.models import DataItem, Release, Resource
from rights.models import Membership
from rights.permissions import department_ids_with_role

_TERM = re.compile(r"\w+", re.UNICODE)


def resources_visible_to(user):
    """Published and retired entries for everyone signed in; drafts only for their stewards."""
    own = department_ids_with_role(user, Membership.Role.STEWARD)
    return Resource.objects.filter(
        Q(status__in=[Resource.Status.PUBLISHED, Resource.Status.RETIRED])
        | Q(owner_department_id__in=own)
    )


def resource_for_user(user, pk):
    """The resource if the user may see it; 404 otherwise."""
    queryset = resources_visible_to(user).select_related(
        "owner_department", "management_right_holder"
    )
    return get_object_or_404(queryset, pk=pk)


def catalog_queryset(user):
    """The list query: joins and counts chosen, so a page costs a fixed number of queries."""
    item_count = (
        DataItem.objects.filter(resource=OuterRef("pk"))
        .order_by()
        .values("resource")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        resources_visible_to(user)
        .select_related("owner_department", "management_right_holder")
        .annotate(item_count=Coalesce(Subquery(item_count), 0))
        .order_by("title", "id")
    )


def search(queryset, text):
    """Full-text search over title, identifier, abstract, classification and data items.

    Every word must match, as a prefix. PostgreSQL uses the GIN index on ``search_text`` (see
    migration catalog 0002); other databases fall back to substring matching.
    """
    terms = _TERM.findall(text or "")
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        tsquery = " & ".join(f"'{term.lower()}':*" for term in terms)
        match = RawSQL(
            "to_tsvector('simple', catalog_resource.search_text) @@ to_tsquery('simple', %s)",
            [tsquery],
            output_field=BooleanField(),
        )
        return queryset.filter(match)
    for term in terms:
        queryset = queryset.filter(search_text__icontains=term)
    return queryset


def releases_of(resource):
    return Release.objects.filter(resource=resource).select_related("uploaded_by")


def latest_release(resource):
    return releases_of(resource).order_by("-sequence").first()
