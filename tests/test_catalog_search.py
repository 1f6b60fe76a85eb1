"""Catalog list and API list: search, filters, pagination, and a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from catalog import services
from tests.conftest import ITEMS, resource_data


def make_resources(steward, department, count, start=0):
    made = []
    for n in range(start, start + count):
        resource = services.resource_create(
            actor=steward,
            owner_department=department,
            data=resource_data(identifier=f"HEALTH-{n:04d}", title=f"Dataset {n:04d}"),
            methods=["realtime"] if n % 2 else ["upload"],
            items=ITEMS,
        )
        made.append(services.resource_publish(actor=steward, resource=resource))
    return made


@pytest.fixture
def catalog(steward, departments):
    clinics = services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-CLINIC-001",
            title="Licensed clinics",
            abstract="Registered medical facilities and their licence periods.",
            sharing_type="unconditional",
            sharing_conditions="",
        ),
        methods=["upload"],
        items=[{"name": "licence_number", "type": "string", "sensitivity": "public"}],
    )
    births = services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-BIRTH-001",
            title="Birth registrations",
            abstract="Newborns registered by maternity wards.",
        ),
        methods=["realtime"],
        items=ITEMS,
    )
    for resource in (clinics, births):
        services.resource_publish(actor=steward, resource=resource)
    return {"clinics": clinics, "births": births}


def titles(response):
    return [r["title"] for r in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("clinics", ["Licensed clinics"]),  # title
        ("maternity", ["Birth registrations"]),  # abstract
        ("licence_number", ["Licensed clinics"]),  # data-item name
        ("licence number", ["Licensed clinics"]),  # item name as words
        ("resident", ["Birth registrations"]),  # item-name prefix
        ("newborns maternity", ["Birth registrations"]),  # every word must match
        ("nothing-like-this", []),
        ("___", ["Birth registrations", "Licensed clinics"]),  # no word: no search
    ],
)
def test_search_finds_by_title_abstract_and_item_names(requester, catalog, query, expected):
    client = APIClient()
    client.force_authenticate(requester)
    response = client.get("/api/v1/resources/", {"search": query})
    assert response.status_code == 200
    assert titles(response) == expected


def test_filters_by_department_sharing_type_method_and_sensitivity(requester, catalog):
    client = APIClient()
    client.force_authenticate(requester)

    def get(**params):
        return titles(client.get("/api/v1/resources/", params))

    assert get(department="HEALTH") == ["Birth registrations", "Licensed clinics"]
    assert get(department="POLICE") == []
    assert get(sharing_type="unconditional") == ["Licensed clinics"]
    assert get(method="realtime") == ["Birth registrations"]
    assert get(sensitivity="personal") == ["Birth registrations"]
    assert get(sensitivity="public") == ["Licensed clinics"]
    bad = client.get("/api/v1/resources/", {"sharing_type": "sometimes"})
    assert bad.status_code == 400


def test_web_list_searches_and_filters(client, requester, catalog):
    client.force_login(requester)
    response = client.get(reverse("catalog:resource_list"), {"search": "clinics"})
    assert response.status_code == 200
    assert b"Licensed clinics" in response.content
    assert b"Birth registrations" not in response.content
    response = client.get(reverse("catalog:resource_list"), {"method": "realtime"})
    assert b"Birth registrations" in response.content
    assert b"Licensed clinics" not in response.content


def test_retired_entries_are_hidden_unless_asked_for(client, requester, steward, catalog):
    services.resource_retire(actor=steward, resource=catalog["clinics"], reason="Moved.")
    api = APIClient()
    api.force_authenticate(requester)
    assert titles(api.get("/api/v1/resources/")) == ["Birth registrations"]
    assert titles(api.get("/api/v1/resources/", {"status": "retired"})) == ["Licensed clinics"]
    client.force_login(requester)
    page = client.get(reverse("catalog:resource_list"))  # no query string at all
    assert b"Birth registrations" in page.content
    assert b"Licensed clinics" not in page.content
    retired = client.get(reverse("catalog:resource_list"), {"status": "retired"})
    assert b"Licensed clinics" in retired.content


def count_queries(callable_):
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    assert response.status_code == 200
    return len(captured)


def test_catalog_page_runs_a_fixed_number_of_queries(client, steward, departments):
    client.force_login(steward)
    make_resources(steward, departments["HEALTH"], 2)
    few = count_queries(lambda: client.get(reverse("catalog:resource_list")))
    make_resources(steward, departments["HEALTH"], 20, start=2)
    many = count_queries(lambda: client.get(reverse("catalog:resource_list")))
    assert few == many
    searched = count_queries(
        lambda: client.get(reverse("catalog:resource_list"), {"search": "dataset", "page": 1})
    )
    assert searched == many


def test_api_list_runs_a_fixed_number_of_queries(steward, departments):
    client = APIClient()
    client.force_authenticate(steward)
    make_resources(steward, departments["HEALTH"], 2)
    few = count_queries(lambda: client.get("/api/v1/resources/"))
    make_resources(steward, departments["HEALTH"], 20, start=2)
    many = count_queries(lambda: client.get("/api/v1/resources/"))
    assert few == many
    assert client.get("/api/v1/resources/").json()["count"] == 22


def test_pagination(client, requester, steward, departments):
    make_resources(steward, departments["HEALTH"], 30)
    client.force_login(requester)
    first = client.get(reverse("catalog:resource_list"))
    assert b"Page 1 of 2" in first.content
    second = client.get(reverse("catalog:resource_list"), {"page": 2})
    assert b"Dataset 0029" in second.content
    assert b"Dataset 0000" not in second.content
    api = APIClient()
    api.force_authenticate(requester)
    body = api.get("/api/v1/resources/", {"page_size": 10}).json()
    assert body["count"] == 30
    assert len(body["results"]) == 10
    assert body["next"].endswith("page=2&page_size=10")
    assert body["previous"] is None


@pytest.mark.postgres
def test_search_uses_the_full_text_index_on_postgres(requester, catalog):
    from catalog import selectors
    from catalog.models import Resource

    # On a tiny table the planner may prefer the status index; the search condition alone
    # shows whether the expression matches the GIN index (the bench shows it at 100k rows).
    queryset = selectors.search(Resource.objects.all(), "clinics")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "catalog_resource_search_fts" in plan


@pytest.fixture
def chinese_catalog(steward, departments, catalog):
    vaccines = services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-VAX-001",
            title="新生儿疫苗接种记录",
            abstract="各接种单位登记的新生儿疫苗接种情况。Vaccination of newborns.",
        ),
        methods=["realtime"],
        items=[
            {"name": "vaccine_code", "type": "string", "sensitivity": "public",
             "description": "疫苗批号"},
        ],
    )  # fmt: skip
    licences = services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(
            identifier="HEALTH-LIC-002",
            title="医疗机构执业许可信息",
            abstract="医疗机构的执业许可。",
        ),
        methods=["upload"],
        items=[{"name": "licence_no", "type": "string", "sensitivity": "public"}],
    )
    for resource in (vaccines, licences):
        services.resource_publish(actor=steward, resource=resource)
    return {"vaccines": vaccines, "licences": licences}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("疫苗", ["新生儿疫苗接种记录"]),  # inside the title
        ("接种", ["新生儿疫苗接种记录"]),
        ("记录", ["新生儿疫苗接种记录"]),  # at the end of the title
        ("新生儿", ["新生儿疫苗接种记录"]),  # a prefix, as before
        ("接种记录", ["新生儿疫苗接种记录"]),  # four characters: every pair must match
        ("批号", ["新生儿疫苗接种记录"]),  # a data item's description
        ("执业许可", ["医疗机构执业许可信息"]),
        ("疫苗 newborns", ["新生儿疫苗接种记录"]),  # Chinese and English together
        ("疫苗newborns", ["新生儿疫苗接种记录"]),  # …even without a space
        ("记疫", []),  # characters of the title, but not a word of it
        ("疫苗 clinics", []),  # every word must match
        ("clinics", ["Licensed clinics"]),  # English search as before
    ],
)
def test_chinese_words_are_found_anywhere_in_titles_and_texts(
    requester, client, chinese_catalog, query, expected
):
    """Run on both databases: PostgreSQL through the GIN index, SQLite by substring."""
    api = APIClient()
    api.force_authenticate(requester)
    response = api.get("/api/v1/resources/", {"search": query})
    assert response.status_code == 200
    assert titles(response) == expected
    client.force_login(requester)
    page = client.get(reverse("catalog:resource_list"), {"search": query}).content.decode()
    for title in ["新生儿疫苗接种记录", "医疗机构执业许可信息", "Licensed clinics"]:
        assert (title in page) == (title in expected), (query, title)


@pytest.mark.postgres
def test_chinese_search_uses_the_full_text_index_on_postgres(requester, chinese_catalog):
    from catalog import selectors
    from catalog.models import Resource

    queryset = selectors.search(Resource.objects.all(), "疫苗")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "catalog_resource_search_fts" in plan


def _published(steward, departments, identifier, title, abstract):
    resource = services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier=identifier, title=title, abstract=abstract),
        methods=["upload"],
        items=[{"name": "code", "type": "string", "sensitivity": "public"}],
    )
    return services.resource_publish(actor=steward, resource=resource)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The title holds the word: first, though "Aardvark…" sorts before it by title.
        ("许可", ["医疗机构执业许可信息", "Aardvark permits register"]),
        ("clinics", ["Licensed clinics", "Aardvark permits register"]),
        # Both words in the title beat one.
        ("执业 许可", ["医疗机构执业许可信息", "Aardvark permits register"]),
        # The identifier itself comes first.
        ("HEALTH-AARD-009", ["Aardvark permits register"]),
    ],
)
def test_search_ranks_title_matches_first(
    requester, steward, departments, chinese_catalog, query, expected
):
    _published(
        steward,
        departments,
        "HEALTH-AARD-009",
        "Aardvark permits register",
        "Lists clinics and their 执业许可 (licences); see HEALTH-LIC-002.",
    )
    api = APIClient()
    api.force_authenticate(requester)
    response = api.get("/api/v1/resources/", {"search": query})
    assert response.status_code == 200
    assert titles(response) == expected
