"""The DCAT-AP 3.0.1 export: conformance to the official shapes, paging, content negotiation,
the vocabulary mappings, and that it is public yet never shows drafts or links to data."""

import json
import multiprocessing
import os
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pyshacl import shape as pyshacl_shape
from pyshacl import validate
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH, XSD

from catalog import services as catalog_services
from catalog.models import DataItem, Release, Resource
from standards import vocab
from tests.conftest import ITEMS, resource_data

DCAT = Namespace(vocab.DCAT)
DCT = Namespace(vocab.DCT)
HYDRA = Namespace(vocab.HYDRA)
VCARD = Namespace(vocab.VCARD)
ACCESS = Namespace(vocab.EU_ACCESS_RIGHT)
FREQ = Namespace(vocab.EU_FREQUENCY)
SHAPES_DIR = Path(
    os.environ.get("GOVSHARE_STANDARDS_DIR")
    or Path(settings.BASE_DIR).parent / "shared" / "standards"
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@cache
def shapes() -> Graph:
    """The official DCAT-AP 3.0.1 shapes and ranges, without the five ``sh:property`` references
    to shapes neither file defines (pyshacl refuses them; see ../shared/standards/README.md)."""
    graph = Graph()
    graph.parse(SHAPES_DIR / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl")
    graph.parse(SHAPES_DIR / "dcat-ap-3.0.1" / "ranges.ttl")
    dangling = [
        (shape, prop)
        for shape, prop in graph.subject_objects(SH.property)
        if (prop, SH.path, None) not in graph
    ]
    assert len(dangling) == 5  # the known defect, no more, no less
    for shape, prop in dangling:
        graph.remove((shape, SH.property, prop))
    return graph


# pyshacl looks each shape predicate up in a list of the constraint parameters, once per focus node
# and shape (70,000 times a page); as a frozenset the same lookups take half the validation time.
# Only speed changes: the same constraints, the same map (a no-op should pyshacl rename it).
pyshacl_shape.module.CONSTRAINT_PARAMS = (
    frozenset(ALL_CONSTRAINT_PARAMETERS),
    CONSTRAINT_PARAMETERS_MAP,
)


def shacl_results(data: Graph) -> dict[str, list[str]]:
    _conforms, report, _text = validate(data, shacl_graph=shapes(), inference="none", inplace=True)
    results: dict[str, list[str]] = {"Violation": [], "Warning": [], "Info": []}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        focus, path = report.value(result, SH.focusNode), report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        results[severity].append(f"{focus} {path}: {message}")
    return results


def turtle(client, url="/catalog.ttl", **headers) -> Graph:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/turtle; charset=utf-8"
    return Graph().parse(data=response.content, format="turtle")


def dataset(identifier: str) -> URIRef:
    return URIRef(vocab.dataset_uri(identifier))


def publish(steward, departments, identifier, **overrides):
    items = overrides.pop("items", ITEMS)
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier, **overrides),
        methods=[] if overrides.get("sharing_type") == "not_shareable" else ["periodic_copy"],
        items=items,
    )
    return catalog_services.resource_publish(actor=steward, resource=resource)


# --- Conformance ---


def test_demo_catalog_has_zero_violations(db, client):
    call_command("seed_demo", rows=20, stdout=open(os.devnull, "w"))  # noqa: SIM115
    graph = turtle(client)
    results = shacl_results(graph)
    assert results["Violation"] == []
    print(f"demo catalog: {len(graph)} triples, {len(results['Warning'])} warnings")
    published = Resource.objects.filter(status=Resource.Status.PUBLISHED).count()
    assert published >= 3
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == published
    assert (
        len(set(graph.subjects(RDF.type, DCAT.Distribution)))
        == Release.objects.filter(resource__status=Resource.Status.PUBLISHED).count()
    )


def _bulk_catalog(departments, count):
    """``count`` published resources straight into the tables (bulk_create), three items each,
    a release for one in ten, and a draft that must not appear."""
    from django.contrib.auth import get_user_model

    uploader = get_user_model().objects.create_user(username="bulk_loader")
    health, office = departments["HEALTH"], departments["OFFICE"]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    cycles = list(Resource.UpdateCycle)
    sharing = ["unconditional", "conditional", "not_shareable"]
    resources = [
        Resource(
            identifier=f"bulk-{index:05d}",
            title=f"Bulk register {index}" if index % 2 else f"批量登记册 {index}",
            abstract=f"Generated entry {index}." if index % 2 else f"生成的条目 {index}。",
            classification=["", "Health / Facilities", "统计"][index % 3],
            owner_department=health,
            management_right_holder=office,
            sharing_type=sharing[index % 3],
            collection_legal_basis=(
                "http://data.europa.eu/eli/reg/2016/679/oj art. 6" if index % 7 == 0 else "Law."
            ),
            update_cycle=cycles[index % len(cycles)],
            status=Resource.Status.DRAFT if index == count else Resource.Status.PUBLISHED,
            published_at=now,
        )
        for index in range(count + 1)
    ]
    Resource.objects.bulk_create(resources, batch_size=2000)
    ids = dict(Resource.objects.values_list("identifier", "id"))
    items = [
        DataItem(
            resource_id=ids[resource.identifier],
            name=name,
            type=type_,
            description="A column",
            sensitivity=sensitivity,
            position=position,
        )
        for resource in resources
        for position, (name, type_, sensitivity) in enumerate(
            [
                ("code", "string", "public"),
                ("amount", "decimal", "internal"),
                ("day", "date", "public"),
            ]
        )
    ]
    DataItem.objects.bulk_create(items, batch_size=5000)
    releases = [
        Release(
            resource_id=ids[resource.identifier],
            sequence=1,
            file=f"releases/{index}.csv",
            original_name="data.csv",
            size_bytes=1000 + index,
            sha256=f"{index:064x}",
            row_count=10,
            columns=[],
            report={},
            table_name=f"bulk_release_{index}",
            uploaded_by=uploader,
        )
        for index, resource in enumerate(resources)
        if index % 10 == 0
    ]
    Release.objects.bulk_create(releases, batch_size=2000)


def _page_results(body: bytes) -> tuple[set[URIRef], int, list[str]]:
    """A page as a harvester reads it: parsed from Turtle, then validated (in a worker)."""
    graph = Graph().parse(data=body, format="turtle")
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    results = shacl_results(graph)
    return datasets, len(results["Warning"]), results["Violation"][:5]


@pytest.mark.postgres
def test_generated_catalog_of_10000_has_zero_violations_page_by_page(db, client, departments):
    """What a harvester receives: ten pages of 1,000 datasets, each validated on its own, two
    pages at a time (forked workers that only parse and validate; the database stays here)."""
    began = time.perf_counter()
    _bulk_catalog(departments, 10_000)
    loaded = time.perf_counter()
    shapes()  # parsed once, before the fork
    base = vocab.site_uri("/catalog.ttl")
    seen: set[URIRef] = set()
    warnings, export_seconds, bodies = 0, 0.0, []
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pending = []
        for page in range(1, 11):
            started = time.perf_counter()
            response = client.get("/catalog.ttl", {"page": page})
            export_seconds += time.perf_counter() - started
            assert response.status_code == 200
            bodies.append(response.content)
            pending.append(pool.apply_async(_page_results, (response.content,)))
        for page, result in enumerate(pending, start=1):
            datasets, page_warnings, violations = result.get(timeout=600)
            assert violations == [], (page, violations)
            warnings += page_warnings
            seen |= datasets
    assert client.get("/catalog.ttl", {"page": 11}).status_code == 404
    assert f"<{base}?page=10>".encode() in bodies[-1]  # hydra:last
    assert f"hydra:next <{base}?page=".encode() not in bodies[-1]
    assert len(seen) == 10_000
    assert dataset("bulk-10000") not in seen  # the draft
    print(
        f"10,000 datasets: load {loaded - began:.1f} s, export {export_seconds:.1f} s, "
        f"export + validation {time.perf_counter() - loaded:.1f} s, {warnings} warnings"
    )


def test_page_costs_a_fixed_number_of_queries(db, client, departments, settings):
    settings.DCAT_PAGE_SIZE = 50
    _bulk_catalog(departments, 30)
    with CaptureQueriesContext(connection) as small:
        turtle(client)
    _bulk_catalog_more = [
        Resource(
            identifier=f"more-{index}",
            title="More",
            abstract="More.",
            owner_department=departments["HEALTH"],
            management_right_holder=departments["OFFICE"],
            sharing_type="conditional",
            collection_legal_basis="Law.",
            update_cycle="daily",
            status=Resource.Status.PUBLISHED,
        )
        for index in range(15)
    ]
    Resource.objects.bulk_create(_bulk_catalog_more)
    with CaptureQueriesContext(connection) as large:
        graph = turtle(client)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 45
    # aggregate, office, page of resources (+ owners), data items, releases
    assert len(small.captured_queries) == len(large.captured_queries) == 5


# --- Formats, negotiation, paging ---


def test_turtle_and_jsonld_give_the_same_graph(db, client, published):
    ttl = turtle(client)
    response = client.get("/catalog.jsonld")
    assert response["Content-Type"] == "application/ld+json; charset=utf-8"
    document = json.loads(response.content)
    assert document["@context"]["dcat"] == vocab.DCAT
    assert "@graph" in document
    # The same graph, except that each format's page links name its own format.
    body = response.content.decode().replace("/catalog.jsonld?page=", "/catalog.ttl?page=")
    jsonld = Graph().parse(data=body, format="json-ld")
    assert len(ttl) == len(jsonld) > 50
    assert isomorphic(ttl, jsonld)


def test_catalog_page_is_html_by_default_and_rdf_on_accept(db, client, published, steward):
    client.force_login(steward)
    html = client.get("/catalog/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    assert "Vaccination records" in html.content.decode()
    assert "Accept" in html["Vary"]
    plain = client.get("/catalog/")
    assert plain["Content-Type"].startswith("text/html")
    ttl = client.get("/catalog/", HTTP_ACCEPT="text/turtle")
    assert ttl["Content-Type"] == "text/turtle; charset=utf-8"
    assert "Accept" in ttl["Vary"]
    assert (dataset("HEALTH-VACC-001"), RDF.type, DCAT.Dataset) in Graph().parse(
        data=ttl.content, format="turtle"
    )
    jsonld = client.get("/catalog/", HTTP_ACCEPT="application/ld+json, */*;q=0.1")
    assert jsonld["Content-Type"] == "application/ld+json; charset=utf-8"
    weighted = client.get("/catalog/", HTTP_ACCEPT="text/html;q=0.5, text/turtle;q=0.9")
    assert weighted["Content-Type"] == "text/turtle; charset=utf-8"


def test_anonymous_negotiation_gets_rdf_but_html_still_needs_sign_in(db, client, published):
    ttl = client.get("/catalog/", HTTP_ACCEPT="text/turtle")
    assert ttl.status_code == 200
    html = client.get("/catalog/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert html.status_code == 302
    assert html["Location"] == "/accounts/login/?next=/catalog/"
    assert "Accept" in html["Vary"]


def test_paging_links_and_totals(db, client, departments, settings):
    settings.DCAT_PAGE_SIZE = 2
    _bulk_catalog(departments, 5)  # five published, one draft: pages 1..3
    base = vocab.site_uri("/catalog.ttl")
    catalog = URIRef(vocab.site_uri("/id/catalog"))
    first = turtle(client)
    view = URIRef(f"{base}?page=1")
    assert first.value(catalog, HYDRA.view) == view
    assert first.value(catalog, HYDRA.totalItems) == Literal(5, datatype=XSD.nonNegativeInteger)
    assert (view, RDF.type, HYDRA.PartialCollectionView) in first
    assert first.value(view, HYDRA.first) == URIRef(f"{base}?page=1")
    assert first.value(view, HYDRA.last) == URIRef(f"{base}?page=3")
    assert first.value(view, HYDRA.next) == URIRef(f"{base}?page=2")
    assert first.value(view, HYDRA.previous) is None
    assert first.value(view, HYDRA.nextPage) == Literal(f"{base}?page=2")
    middle = turtle(client, "/catalog.ttl?page=2")
    view = URIRef(f"{base}?page=2")
    assert middle.value(view, HYDRA.previous) == URIRef(f"{base}?page=1")
    assert middle.value(view, HYDRA.next) == URIRef(f"{base}?page=3")
    last = turtle(client, "/catalog.ttl?page=3")
    view = URIRef(f"{base}?page=3")
    assert last.value(view, HYDRA.next) is None
    assert len(set(last.subjects(RDF.type, DCAT.Dataset))) == 1
    identifiers = sorted(
        str(last.value(d, DCT.identifier)) for d in last.subjects(RDF.type, DCAT.Dataset)
    )
    assert identifiers == ["bulk-00004"]
    jsonld_page = client.get("/catalog.jsonld?page=2")
    graph = Graph().parse(data=jsonld_page.content, format="json-ld")
    view = URIRef(vocab.site_uri("/catalog.jsonld") + "?page=2")
    assert graph.value(view, HYDRA.next) == URIRef(vocab.site_uri("/catalog.jsonld") + "?page=3")


@pytest.mark.parametrize("page", ["0", "4", "-1", "two", "1.5", "99999999999999999999", " "])
def test_bad_page_is_a_clear_404_page(db, client, departments, settings, page):
    settings.DCAT_PAGE_SIZE = 2
    _bulk_catalog(departments, 5)
    for url in ("/catalog.ttl", "/catalog.jsonld"):
        response = client.get(url, {"page": page})
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        body = response.content.decode()
        assert "its pages are numbered 1 to 3" in body
    negotiated = client.get("/catalog/", {"page": page}, HTTP_ACCEPT="text/turtle")
    assert negotiated.status_code == 404


def test_empty_catalog_is_one_valid_page(db, client, departments):
    graph = turtle(client)
    catalog = URIRef(vocab.site_uri("/id/catalog"))
    assert graph.value(catalog, HYDRA.totalItems) == Literal(0, datatype=XSD.nonNegativeInteger)
    assert shacl_results(graph)["Violation"] == []
    assert client.get("/catalog.ttl?page=2").status_code == 404


def test_export_refuses_writes(db, client):
    assert client.post("/catalog.ttl").status_code == 405
    assert client.post("/catalog.jsonld").status_code == 405


# --- What it says ---


def test_catalog_publisher_is_the_office(db, client, published, departments):
    graph = turtle(client)
    catalog = URIRef(vocab.site_uri("/id/catalog"))
    office = URIRef(vocab.department_uri("OFFICE"))
    assert graph.value(catalog, DCT.publisher) == office
    assert graph.value(office, URIRef("http://xmlns.com/foaf/0.1/name")) == Literal(
        "Data Management Office", lang="en"
    )
    assert set(graph.objects(catalog, DCT.language)) == {
        URIRef(vocab.EU_LANGUAGE + "ENG"),
        URIRef(vocab.EU_LANGUAGE + "ZHO"),
    }
    assert graph.value(catalog, DCAT.themeTaxonomy) == URIRef(vocab.site_uri("/id/themes"))


def test_dataset_fields(db, client, released):
    graph = turtle(client)
    node = dataset("HEALTH-VACC-001")
    assert graph.value(node, DCT.identifier) == Literal("HEALTH-VACC-001")
    assert graph.value(node, DCT.title) == Literal("Vaccination records", lang="en")
    assert graph.value(node, DCT.publisher) == URIRef(vocab.department_uri("HEALTH"))
    assert graph.value(node, DCT.accrualPeriodicity) == FREQ.DAILY
    assert graph.value(node, DCT.accessRights) == ACCESS.RESTRICTED
    assert graph.value(node, DCAT.version) == Literal("1")
    assert graph.value(node, DCAT.theme) == URIRef(vocab.site_uri("/id/themes/health-immunisation"))
    assert set(map(str, graph.objects(node, DCAT.keyword))) == {
        "Health / Immunisation",
        *(item["name"] for item in ITEMS),
    }
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:noreply@govshare.invalid")
    assert graph.value(contact, VCARD.fn) == Literal("Health Bureau", lang="en")
    assert graph.value(node, DCT.conformsTo) == URIRef(
        vocab.site_uri("/catalog/HEALTH-VACC-001/schema.json")
    )
    assert list(graph.objects(node, URIRef(vocab.DCATAP + "applicableLegislation"))) == []
    release = released.releases.get()
    distribution = graph.value(node, DCAT.distribution)
    assert distribution == URIRef(vocab.dataset_uri("HEALTH-VACC-001") + "/releases/1")
    assert graph.value(distribution, DCAT.byteSize).toPython() == release.size_bytes
    checksum = graph.value(distribution, URIRef(vocab.SPDX + "checksum"))
    assert str(graph.value(checksum, URIRef(vocab.SPDX + "checksumValue"))) == release.sha256
    assert graph.value(distribution, DCAT.accessURL) == URIRef(
        vocab.site_uri(f"/catalog/{released.pk}/")
    )
    assert graph.value(distribution, DCAT.downloadURL) is None


def test_chinese_title_is_tagged_zh(db, client, steward, departments):
    publish(steward, departments, "HEALTH-ZH-001", title="疫苗接种记录", abstract="每一剂疫苗。")
    graph = turtle(client)
    node = dataset("HEALTH-ZH-001")
    assert graph.value(node, DCT.title) == Literal("疫苗接种记录", lang="zh")
    assert graph.value(node, DCT["description"]) == Literal("每一剂疫苗。", lang="zh")


def test_legal_basis_url_becomes_applicable_legislation(db, client, steward, departments):
    eli = "http://data.europa.eu/eli/reg/2016/679/oj"
    publish(steward, departments, "HEALTH-ELI-001", collection_legal_basis=f"GDPR ({eli}), art. 6.")
    graph = turtle(client)
    assert list(
        graph.objects(dataset("HEALTH-ELI-001"), URIRef(vocab.DCATAP + "applicableLegislation"))
    ) == [URIRef(eli)]


PUBLIC_ITEMS = [{"name": "code", "type": "string", "sensitivity": "public", "required": True}]


@pytest.mark.parametrize(
    ("sharing_type", "items", "expected"),
    [
        ("unconditional", PUBLIC_ITEMS, "PUBLIC"),
        ("unconditional", ITEMS, "RESTRICTED"),  # personal and internal items
        ("unconditional", [{**PUBLIC_ITEMS[0], "sensitivity": "internal"}], "RESTRICTED"),
        ("conditional", PUBLIC_ITEMS, "RESTRICTED"),
        ("conditional", ITEMS, "RESTRICTED"),
        ("not_shareable", PUBLIC_ITEMS, "NON_PUBLIC"),
        ("not_shareable", ITEMS, "NON_PUBLIC"),
    ],
)
def test_access_rights_follow_sharing_type_and_sensitivity(
    db, client, steward, departments, sharing_type, items, expected
):
    extra = {"not_shareable_reason": "Personal data.", "not_shareable_law": "Privacy Law"}
    publish(
        steward,
        departments,
        "HEALTH-AR-001",
        sharing_type=sharing_type,
        items=items,
        **(extra if sharing_type == "not_shareable" else {}),
    )
    graph = turtle(client)
    assert graph.value(dataset("HEALTH-AR-001"), DCT.accessRights) == ACCESS[expected]


@pytest.mark.parametrize(
    ("cycle", "term"),
    [
        ("realtime", "UPDATE_CONT"),
        ("daily", "DAILY"),
        ("weekly", "WEEKLY"),
        ("monthly", "MONTHLY"),
        ("quarterly", "QUARTERLY"),
        ("yearly", "ANNUAL"),
        ("irregular", "IRREG"),
    ],
)
def test_update_cycle_maps_to_eu_frequency(db, client, steward, departments, cycle, term):
    publish(steward, departments, "HEALTH-FQ-001", update_cycle=cycle)
    graph = turtle(client)
    assert graph.value(dataset("HEALTH-FQ-001"), DCT.accrualPeriodicity) == FREQ[term]


# --- Public, but only what is published, and never data ---


def test_drafts_and_retired_are_absent(db, client, steward, departments, published):
    catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data("HEALTH-DRAFT-001"),
        methods=["periodic_copy"],
        items=ITEMS,
    )
    retired = publish(steward, departments, "HEALTH-OLD-001")
    catalog_services.resource_retire(actor=steward, resource=retired, reason="Replaced.")
    client.force_login(steward)  # even the owner's steward sees only the published catalog
    graph = turtle(client)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {dataset("HEALTH-VACC-001")}
    assert "HEALTH-DRAFT-001" not in graph.serialize(format="turtle")
    assert client.get("/catalog/HEALTH-DRAFT-001/schema.json").status_code == 404
    assert client.get("/catalog/HEALTH-OLD-001/schema.json").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_public_reads_the_same_published_catalog(db, client, released, outsider_steward, who):
    if who == "outsider":
        client.force_login(outsider_steward)
    for url in ("/catalog.ttl", "/catalog.jsonld", "/catalog/HEALTH-VACC-001/schema.json"):
        assert client.get(url).status_code == 200, url
    graph = turtle(client)
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {dataset("HEALTH-VACC-001")}


def test_no_url_to_data_anywhere(db, client):
    call_command("seed_demo", rows=20, stdout=open(os.devnull, "w"))  # noqa: SIM115
    for url in ("/catalog.ttl", "/catalog.jsonld"):
        body = client.get(url).content.decode()
        assert "/download" not in body
        assert "/api/" not in body
        assert "/media/" not in body
        assert ".csv" not in body
    graph = turtle(client)
    assert list(graph.subject_objects(DCAT.downloadURL)) == []
    site = settings.SITE_URL.rstrip("/")
    for node in graph.all_nodes():
        if isinstance(node, URIRef) and str(node).startswith(site):
            path = str(node)[len(site) :]
            assert path.startswith(("/id/", "/catalog/", "/catalog.ttl", "/catalog.jsonld")), path


def test_schema_is_a_csvw_table_schema(db, client, published):
    response = client.get("/catalog/HEALTH-VACC-001/schema.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/csvm+json; charset=utf-8"
    document = response.json()
    assert document["@context"] == "http://www.w3.org/ns/csvw"
    assert document["dc:source"] == vocab.dataset_uri("HEALTH-VACC-001")
    assert [(c["name"], c["datatype"], c["required"]) for c in document["columns"]] == [
        ("resident_id", "string", True),
        ("birth_date", "date", True),
        ("dose_number", "integer", True),
        ("fee", "decimal", False),
        ("adverse_event", "boolean", False),
    ]
    assert client.get("/catalog/NO-SUCH-THING/schema.json").status_code == 404


def test_dataset_uri_dereferences_to_the_resource_page(db, client, published):
    response = client.get("/id/datasets/HEALTH-VACC-001")
    assert response.status_code == 303
    assert response["Location"] == f"/catalog/{published.pk}/"
    assert client.get("/id/datasets/NO-SUCH-THING").status_code == 404
