"""Long lists (issue #16): the catalog, grants, requests and the review queue cost a fixed number
of queries on every page, with keyset cursors in the API and plans that read an index in order.

The rows go straight into the tables (bulk_create): what is measured is the reading side.
"""

import base64
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests.models import Request
from catalog import selectors
from catalog.filters import ResourceFilter
from catalog.models import DataItem, Resource
from core import paging
from departments.models import Membership
from rights.models import Grant
from tests.conftest import make_user

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def bulk_resources(department, office, count, start=0, status=Resource.Status.PUBLISHED):
    resources = [
        Resource(
            identifier=f"{department.code}-{status}-{n:05d}",
            title=f"Register {n:05d}",
            abstract=f"Generated entry {n}.",
            owner_department=department,
            management_right_holder=office,
            sharing_type="unconditional",
            collection_legal_basis="Law.",
            status=status,
            published_at=NOW if status == Resource.Status.PUBLISHED else None,
            search_text=f"Register {n:05d} generated entry",
            allows_realtime=True,
        )
        for n in range(start, start + count)
    ]
    made = Resource.objects.bulk_create(resources)
    DataItem.objects.bulk_create(
        DataItem(resource=r, name="code", type="string", sensitivity="public", position=0)
        for r in made
    )
    return made


@pytest.fixture
def nobody(departments):
    return make_user("nobody")


def count(client, url, data=None):
    client.get(url, data or {})  # once first: per-process caches (content types) warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def web(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- The catalog ------------------------------------------------------------------------------

CATALOG_CASES = [
    # (who, "web" or "api", query, queries)
    ("steward", "web", {}, 10),
    ("steward", "web", {"page": 3}, 10),
    ("steward", "web", {"search": "register"}, 10),
    ("steward", "api", {}, 4),
    ("steward", "api", {"page": 3, "page_size": 4}, 4),
    ("steward", "api", {"cursor": "", "page_size": 4}, 4),
    ("steward", "api", {"search": "register"}, 4),
    ("nobody", "web", {}, 8),
    ("nobody", "web", {"page": 3}, 8),
    ("nobody", "web", {"search": "register"}, 8),
    ("nobody", "api", {}, 4),
    ("nobody", "api", {"page": 3, "page_size": 4}, 4),
    ("nobody", "api", {"search": "register"}, 4),
]


@pytest.mark.parametrize(("who", "kind", "query", "queries"), CATALOG_CASES)
def test_catalog_pages_cost_the_same_at_10_and_100_entries(
    request, departments, who, kind, query, queries
):
    """A steward with drafts of their own and a user with no role, first and deep page,
    search: the same exact number of queries with 10 and with 100 entries of each status."""
    user = request.getfixturevalue(who)
    if who == "steward":
        # steward_departments(), the "New entry" button, reads the steward's departments.
        assert user.memberships.get().role == Membership.Role.STEWARD
    health, civil, office = departments["HEALTH"], departments["CIVIL"], departments["OFFICE"]
    client = web(user) if kind == "web" else api(user)
    url = reverse("catalog:resource_list") if kind == "web" else "/api/v1/resources/"
    sizes = []
    for start, size in ((0, 10), (10, 90)):
        bulk_resources(health, office, size, start)
        bulk_resources(health, office, size, start, status=Resource.Status.DRAFT)
        bulk_resources(civil, office, size, start, status=Resource.Status.DRAFT)
        sizes.append(count(client, url, query))
    assert sizes == [queries, queries], sizes


def test_a_stewards_list_holds_published_entries_and_own_drafts_only(steward, departments):
    health, civil, office = departments["HEALTH"], departments["CIVIL"], departments["OFFICE"]
    bulk_resources(health, office, 3)
    bulk_resources(health, office, 2, 3, status=Resource.Status.DRAFT)
    bulk_resources(civil, office, 2, 5, status=Resource.Status.DRAFT)
    bulk_resources(civil, office, 1, 7, status=Resource.Status.RETIRED)
    body = api(steward).get("/api/v1/resources/").json()
    assert [r["identifier"] for r in body["results"]] == [
        "HEALTH-published-00000",
        "HEALTH-published-00001",
        "HEALTH-published-00002",
        "HEALTH-draft-00003",
        "HEALTH-draft-00004",
    ]
    assert (body["count"], body["count_is_estimate"]) == (5, False)


def test_the_api_cursor_walks_the_whole_list_forward_and_back(steward, departments):
    health, office = departments["HEALTH"], departments["OFFICE"]
    bulk_resources(health, office, 7)
    bulk_resources(health, office, 2, 7, status=Resource.Status.DRAFT)
    client = api(steward)
    pages, url = [], "/api/v1/resources/?cursor=&page_size=4"
    previous = []
    while url:
        body = client.get(url).json()
        pages.append([r["identifier"] for r in body["results"]])
        previous.append(body["previous"])
        assert body["count"] == 9
        url = body["next"]
    assert pages == [
        ["HEALTH-published-00000", "HEALTH-published-00001", "HEALTH-published-00002",
         "HEALTH-published-00003"],
        ["HEALTH-published-00004", "HEALTH-published-00005", "HEALTH-published-00006",
         "HEALTH-draft-00007"],
        ["HEALTH-draft-00008"],
    ]  # fmt: skip
    assert previous[0] is None
    back = client.get(previous[2]).json()
    assert [r["identifier"] for r in back["results"]] == pages[1]
    first = client.get(back["previous"]).json()
    assert [r["identifier"] for r in first["results"]] == pages[0]
    assert first["previous"] is None
    # ?page= still answers as before, its next link a page number.
    paged = client.get("/api/v1/resources/", {"page": 2, "page_size": 4}).json()
    assert [r["identifier"] for r in paged["results"]] == pages[1]
    assert paged["next"].endswith("page=3&page_size=4")


def test_the_cursor_follows_the_search_ranking(steward, departments):
    health, office = departments["HEALTH"], departments["OFFICE"]
    bulk_resources(health, office, 5)
    Resource.objects.filter(identifier="HEALTH-published-00003").update(
        title="Register of lighthouses", search_text="Register of lighthouses register"
    )
    client = api(steward)
    first = client.get("/api/v1/resources/", {"search": "register lighthouses", "cursor": ""})
    assert [r["identifier"] for r in first.json()["results"]] == ["HEALTH-published-00003"]
    ranked = client.get("/api/v1/resources/", {"search": "register", "cursor": "", "page_size": 2})
    body = ranked.json()
    after = client.get(body["next"]).json()
    assert [r["title"] for r in body["results"] + after["results"]] == [
        "Register 00000",
        "Register 00001",
        "Register 00002",
        "Register 00004",
    ]


@pytest.mark.parametrize(
    "cursor", ["%%%", "bm90IGpzb24", "WzEsICJhIl0", "WzEsIDEsICJ4Il0", "WzIsICJhIiwgMV0"]
)
def test_a_bad_cursor_is_a_400_naming_it(steward, departments, cursor):
    """Not base64, not JSON, the wrong number of values, a title that is a number, a direction
    that is neither: 400 with a message, and nothing reaches SQL."""
    bulk_resources(departments["HEALTH"], departments["OFFICE"], 2)
    response = api(steward).get("/api/v1/resources/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["The cursor is not one this list gave out."]}


def test_counts_above_the_threshold_are_estimates_on_postgres_only(
    monkeypatch, steward, departments
):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 5)
    bulk_resources(departments["HEALTH"], departments["OFFICE"], 12)
    body = api(steward).get("/api/v1/resources/", {"page_size": 5}).json()
    if connection.vendor == "postgresql":
        assert body["count_is_estimate"] is True
        assert body["count"] >= 6
    else:
        assert (body["count"], body["count_is_estimate"]) == (12, False)
    page = web(steward).get(reverse("catalog:resource_list"))
    text = page.content.decode()
    if connection.vendor == "postgresql":
        assert "About " in text
    else:
        assert "12 resources found" in text
        assert "Page 1 of 1" not in text


def test_web_page_numbers_still_work(steward, departments):
    bulk_resources(departments["HEALTH"], departments["OFFICE"], 30)
    client = web(steward)
    second = client.get(reverse("catalog:resource_list"), {"page": 2}).content.decode()
    assert "Register 00025" in second
    assert "Register 00024" not in second
    assert "Page 2 of 2" in second
    assert "30 resources found" in second
    past = client.get(reverse("catalog:resource_list"), {"page": 99}).content.decode()
    assert "Page 2 of 2" in past  # get_page: past the end is the last page, as before


# --- Grants, requests and the review queue ----------------------------------------------------


def bulk_requests(resource, department, user, count, state, start=0):
    today = timezone.localdate()
    made = Request.objects.bulk_create(
        Request(
            purpose=f"Purpose {n}",
            legal_basis_kind="statute",
            legal_basis_citation="Law",
            method="realtime",
            frequency="",
            valid_from=today,
            valid_until=today + datetime.timedelta(days=30),
            state=state,
            due_date=today + datetime.timedelta(days=n % 9),
            created_at=NOW + datetime.timedelta(minutes=n),
            requested_by=user,
            requesting_department=department,
            resource=resource,
        )
        for n in range(start, start + count)
    )
    return made


def bulk_grants(requests, approver):
    Grant.objects.bulk_create(
        Grant(
            request=r,
            resource=r.resource,
            resource_version=1,
            fields=["code"],
            purpose=r.purpose,
            legal_basis={},
            method=r.method,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            status=Grant.Status.ACTIVE,
            created_at=r.created_at,
            approved_by=approver,
            grantee_department=r.requesting_department,
        )
        for r in requests
    )


LIST_CASES = [
    # (who, url, query, queries)
    ("requester", "/grants/", {}, 7),
    ("requester", "/grants/", {"page": 3}, 7),
    ("requester", "/api/v1/grants/", {}, 2),
    ("requester", "/api/v1/grants/", {"page": 3, "page_size": 4}, 2),
    ("requester", "/api/v1/grants/", {"cursor": "", "page_size": 4}, 2),
    ("requester", "/requests/", {}, 7),
    ("requester", "/requests/", {"page": 3}, 7),
    ("requester", "/api/v1/requests/", {}, 3),
    ("requester", "/api/v1/requests/", {"page": 3, "page_size": 4}, 3),
    ("requester", "/api/v1/requests/", {"cursor": "", "page_size": 4}, 3),
    ("steward", "/requests/review/", {}, 7),
    ("steward", "/requests/review/", {"page": 3}, 7),
]


@pytest.mark.parametrize(("who", "url", "query", "queries"), LIST_CASES)
def test_lists_cost_the_same_at_10_and_100_rows(
    request, departments, steward, reviewer, who, url, query, queries
):
    user = request.getfixturevalue(who)
    requester = request.getfixturevalue("requester")
    civil = departments["CIVIL"]
    (resource,) = bulk_resources(departments["HEALTH"], departments["OFFICE"], 1)
    client = api(user) if url.startswith("/api/") else web(user)
    sizes = []
    for start, size in ((0, 10), (10, 90)):
        approved = bulk_requests(resource, civil, requester, size, "approved", start)
        bulk_grants(approved, reviewer)
        bulk_requests(resource, civil, requester, size, Request.State.OWNER_REVIEW, start)
        sizes.append(count(client, url, query))
    assert sizes == [queries, queries], sizes


def test_the_grants_cursor_pages_newest_first(departments, requester, reviewer):
    (resource,) = bulk_resources(departments["HEALTH"], departments["OFFICE"], 1)
    approved = bulk_requests(resource, departments["CIVIL"], requester, 5, "approved")
    bulk_grants(approved, reviewer)
    client = api(requester)
    first = client.get("/api/v1/grants/", {"cursor": "", "page_size": 3}).json()
    second = client.get(first["next"]).json()
    purposes = [g["purpose"] for g in first["results"] + second["results"]]
    assert purposes == ["Purpose 4", "Purpose 3", "Purpose 2", "Purpose 1", "Purpose 0"]
    assert second["next"] is None


# --- Plans on PostgreSQL ----------------------------------------------------------------------


def _plan(queryset, switches=("enable_seqscan", "enable_bitmapscan", "enable_sort")):
    """The plan on a test-sized table, with sequential scans, bitmap scans and sorts priced out.

    A few thousand rows fit in a handful of pages, where a scan and a sort cost next to nothing,
    and the test transaction cannot VACUUM (which makes index-only scans cheap), so the planner's
    own choice on them says nothing about 100,000 rows. Priced out, a sort stays in the plan only
    where no index gives the order: the plan shows which index serves the query and whether it
    reads it in order (the bench shows the planner choosing it unaided at 100,000 entries).
    """
    with connection.cursor() as cursor:
        for model in (Resource, DataItem, Grant, Request):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
        for switch in switches:
            cursor.execute(f"SET {switch} = off")
        try:
            return queryset.explain()
        finally:
            for switch in switches:
                cursor.execute(f"RESET {switch}")


def _steward_page(steward, start, query=None):
    from django.test import RequestFactory

    get = RequestFactory().get("/catalog/", query or {})
    get.user = steward
    filterset = ResourceFilter(get.GET, queryset=selectors.catalog_queryset(steward), request=get)
    return paging.page_of(filterset.qs, start, start + 25)


@pytest.mark.postgres
def test_a_stewards_page_reads_the_title_index_in_order_on_postgres(steward, departments):
    """Published entries plus the steward's own drafts: the page's ids come from the
    (title, id) index, read in order; no sort over the catalog, no sequential scan of it, on
    the first page and on a deep one."""
    health, civil, office = departments["HEALTH"], departments["CIVIL"], departments["OFFICE"]
    bulk_resources(health, office, 3000)
    bulk_resources(civil, office, 2000, 3000)
    bulk_resources(health, office, 200, 5000, status=Resource.Status.DRAFT)
    bulk_resources(civil, office, 200, 5200, status=Resource.Status.DRAFT)
    for start in (0, 4000):
        plan = _plan(_steward_page(steward, start))
        assert "using resource_title on catalog_resource" in plan, plan
        assert "Seq Scan on catalog_resource" not in plan, plan
        # The only sort left orders the 25 rows of the page, above the id lookup.
        assert plan.count("Sort Key") <= 1, plan
        assert "top-N heapsort" not in plan


@pytest.mark.postgres
def test_search_pages_use_the_full_text_index_on_postgres(steward, departments):
    health, office = departments["HEALTH"], departments["OFFICE"]
    bulk_resources(health, office, 3000)
    Resource.objects.filter(identifier__endswith="-00042").update(
        search_text="Register 00042 lighthouse keepers"
    )
    # A GIN index is read through a bitmap: only sequential scans are priced out here.
    plan = _plan(_steward_page(steward, 0, {"search": "lighthouse"}), ("enable_seqscan",))
    assert "catalog_resource_search_fts" in plan, plan
    assert "Seq Scan on catalog_resource" not in plan, plan
    # The rank is computed in SQL, over the matches only: the page holds the one entry.
    assert [r.identifier for r in _steward_page(steward, 0, {"search": "lighthouse"})] == [
        "HEALTH-published-00042"
    ]


@pytest.mark.postgres
def test_the_department_lists_read_their_ordering_index_on_postgres(
    departments, requester, reviewer
):
    from access_requests import selectors as request_selectors
    from rights import selectors as grant_selectors

    (resource,) = bulk_resources(departments["HEALTH"], departments["OFFICE"], 1)
    for code in ("CIVIL", "POLICE"):
        made = bulk_requests(resource, departments[code], requester, 2000, "approved")
        bulk_grants(made, reviewer)
    grants = _plan(paging.page_of(grant_selectors.department_grants(requester), 1000, 1025))
    assert "grant_grantee_created" in grants, grants
    assert "Seq Scan on rights_grant" not in grants, grants
    requests = paging.page_of(request_selectors.department_requests(requester), 1000, 1025)
    plan = _plan(requests)
    assert "request_dept_created" in plan, plan
    assert "Seq Scan on access_requests_request" not in plan, plan


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-14:00", "2026-12-01T10:00:00", "not a time", "2026-13-01"]
)
def test_a_bad_time_in_a_grants_cursor_is_a_400(requester, moment):
    """A time past year 9999 in UTC (a valid ISO string), a time without its zone, or no time at
    all: 400 naming the cursor, never the database's overflow."""
    token = base64.urlsafe_b64encode(json.dumps([1, moment, 1]).encode()).decode().rstrip("=")
    response = api(requester).get("/api/v1/grants/", {"cursor": token})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["The cursor is not one this list gave out."]}
