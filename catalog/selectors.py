"""Reads for the catalog: permission-filtered querysets with their joins already chosen."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Expression
from django.http import Http404
from django.shortcuts import get_object_or_404

from catalog.models import Release, ReleaseUpload, Resource
from core import search as core_search
from departments.models import Membership
from departments.permissions import can_manage_resource, department_ids_with_role

_TERM = core_search.WORD
AnyUser = AbstractBaseUser | AnonymousUser


def resources_visible_to(user: AnyUser) -> QuerySet[Resource]:
    """Published and retired entries for everyone signed in; drafts only for their stewards."""
    own = department_ids_with_role(user, Membership.Role.STEWARD)
    return Resource.objects.filter(
        Q(status__in=[Resource.Status.PUBLISHED, Resource.Status.RETIRED])
        | Q(owner_department_id__in=own)
    )


def resource_ids_involving(departments: frozenset[int]) -> QuerySet[Resource, Any]:
    """The ids of the resources ``departments`` own or hold the management right of.

    For grant and request lists: a subquery (``resource_id IN (...)``), not a condition across
    the join to the catalog, which makes every count and page join the whole catalog before it
    filters (issue #16).
    """
    return Resource.objects.filter(
        Q(owner_department_id__in=departments) | Q(management_right_holder_id__in=departments)
    ).values("pk")


def resource_for_user(user: AnyUser, pk: int) -> Resource:
    """The resource if the user may see it; 404 otherwise."""
    queryset = resources_visible_to(user).select_related(
        "owner_department", "management_right_holder"
    )
    return get_object_or_404(queryset, pk=pk)


def status_condition(user: AnyUser, status: str | None = None) -> Q:
    """Which entries a catalog list shows for a status filter.

    ``None`` means the current catalog: published entries plus the user's own drafts. For most
    users that is plain ``status = 'published'``, so PostgreSQL walks the ``(status, title, id)``
    index in order instead of sorting the whole catalog.
    """
    own = department_ids_with_role(user, Membership.Role.STEWARD)
    if status is None:
        return Q(status=Resource.Status.PUBLISHED) | Q(
            status=Resource.Status.DRAFT, owner_department_id__in=own
        )
    if status == Resource.Status.DRAFT:
        return Q(status=status, owner_department_id__in=own)
    return Q(status=status)


def catalog_queryset(user: AnyUser) -> QuerySet[Resource]:
    """Visible entries with their joins chosen, so a list page costs a fixed number of queries."""
    return (
        resources_visible_to(user)
        .select_related("owner_department", "management_right_holder")
        .defer("search_text")
        .order_by("title", "id")
    )


def search(queryset: QuerySet[Resource], text: str | None) -> QuerySet[Resource]:
    """Full-text search over title, identifier, abstract, classification and data items.

    Every word must match, as a prefix; a Chinese word matches anywhere inside a title or text
    (core.search: the index holds the pairs of characters of each Chinese run). PostgreSQL uses
    the GIN index on ``search_text`` (see migration catalog 0002); other databases fall back to
    substring matching, which gives the same answers.

    Ranked: the entry whose identifier is the query first, then entries by how many of the
    query's words their title holds, then by title. The rank is computed only over the matches.
    """
    terms = _TERM.findall(text or "")
    if not terms:
        return queryset
    pieces = core_search.pieces(text or "")
    if connection.vendor == "postgresql":
        # Written as a Func, not RawSQL: the column gets the query's alias, so the condition
        # also works inside the id subquery of core.paging.page_of.
        match = Func(
            F("search_text"),
            Value(core_search.tsquery(text or "")),
            template="to_tsvector('simple', %(expressions)s)",
            arg_joiner=") @@ to_tsquery('simple', ",
            output_field=BooleanField(),
        )
        queryset = queryset.filter(match)
    else:
        for term in pieces:
            queryset = queryset.filter(search_text__icontains=term)
    rank: Expression = Case(
        When(identifier__iexact=(text or "").strip(), then=Value(len(pieces) + 1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    for piece in pieces:
        rank += Case(
            When(title__icontains=piece, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return queryset.annotate(search_rank=rank).order_by("-search_rank", "title", "id")


def releases_of(resource: Resource) -> QuerySet[Release]:
    return Release.objects.filter(resource=resource).select_related("uploaded_by")


def latest_release(resource: Resource) -> Release | None:
    return releases_of(resource).order_by("-sequence").first()


def release_upload_for_user(user: AnyUser, resource_pk: int, pk: int) -> ReleaseUpload:
    """The upload if the user may upload releases of its resource (the rule of the upload form);
    404 for anyone else, a steward of another department included."""
    own = department_ids_with_role(user, Membership.Role.STEWARD)
    job = get_object_or_404(
        ReleaseUpload.objects.select_related(
            "resource__owner_department", "release", "uploaded_by"
        ),
        pk=pk,
        resource_id=resource_pk,
        resource__owner_department_id__in=own,
    )
    if not can_manage_resource(user, job.resource, "catalog.upload_release"):
        raise Http404
    return job
