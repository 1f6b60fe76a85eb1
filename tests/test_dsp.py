"""The Dataspace Protocol 2025-1 catalog (issue #14, point 2): every answer validates against the
DSP's own JSON schemas (draft 2019-09, resolved across files by ``$id``), offers follow the
sharing type exactly, and every refusal is a CatalogError with the right status."""

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from jsonschema import Draft201909Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909
from rest_framework.authtoken.models import Token

from catalog import services as catalog_services
from departments.models import Membership
from ledger.models import LedgerEntry
from tests.conftest import ITEMS, make_user, resource_data

STANDARDS = Path(settings.BASE_DIR).parent / "shared" / "standards" / "dsp-2025-1"
SITE = "https://portal.example.gov"
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
NS = f"{SITE}/ns/odrl#"
LEGAL_BASIS_KINDS = [
    "statute",
    "administrative_regulation",
    "local_regulation",
    "court_order",
    "consent",
    "other",
]
SERVICE = {"@id": f"{SITE}/dsp", "@type": "DataService", "endpointURL": f"{SITE}/dsp"}
REQUEST = {"@context": [DSP_CONTEXT], "@type": "CatalogRequestMessage"}


def _registry():
    resources = []
    for path in sorted(STANDARDS.glob("*/*-schema.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, DRAFT201909)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name):
    """The validator of ``<folder>/<name>-schema.json``, e.g. ``catalog/catalog``."""
    schema = REGISTRY.contents(f"https://w3id.org/dspace/2025/1/{name}-schema.json")
    return Draft201909Validator(schema, registry=REGISTRY)


def assert_valid(name, document):
    errors = [error.message for error in validator(name).iter_errors(document)]
    assert errors == []


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def token(requester):
    return Token.objects.create(user=requester).key


@pytest.fixture
def api(client, token):
    """A department system of CIVIL: the consumer."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


def post_catalog(client, body=REQUEST, query="", content_type="application/json", **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/dsp/catalog/request{query}", data, content_type=content_type, **extra)


def create(steward, departments, identifier, publish=True, methods=("realtime",), **data):
    resource = catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(identifier, **data),
        methods=list(methods),
        items=ITEMS,
    )
    if publish:
        resource = catalog_services.resource_publish(actor=steward, resource=resource)
    return resource


@pytest.fixture
def unconditional(steward, departments):
    return create(
        steward,
        departments,
        "HEALTH-CLINICS-001",
        methods=("upload", "result_only"),
        title="Clinic register",
        abstract="Every licensed clinic.",
        sharing_type="unconditional",
        sharing_conditions="",
    )


@pytest.fixture
def not_shareable(steward, departments):
    return create(
        steward,
        departments,
        "HEALTH-GENOME-001",
        methods=(),
        sharing_type="not_shareable",
        sharing_conditions="",
        not_shareable_reason="Genetic data.",
        not_shareable_law="Genetic Privacy Act, art. 4.",
    )


def conditional_offer(method, holder="OFFICE"):
    return {
        "@id": f"{SITE}/id/datasets/HEALTH-VACC-001/offer/{method}",
        "@type": "Offer",
        "assigner": f"{SITE}/id/departments/HEALTH",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": f"{NS}method", "operator": "eq", "rightOperand": method},
                    {
                        "leftOperand": "odrl:purpose",
                        "operator": "isA",
                        "rightOperand": {"@id": f"{NS}ApprovedPurpose"},
                    },
                    {
                        "leftOperand": f"{NS}legalBasis",
                        "operator": "isAnyOf",
                        "rightOperand": LEGAL_BASIS_KINDS,
                    },
                ],
                "duty": [
                    {
                        "action": "odrl:obtainConsent",
                        "odrl:consentingParty": {"@id": f"{SITE}/id/departments/{holder}"},
                    }
                ],
            }
        ],
    }


def unconditional_offer(method):
    return {
        "@id": f"{SITE}/id/datasets/HEALTH-CLINICS-001/offer/{method}",
        "@type": "Offer",
        "assigner": f"{SITE}/id/departments/HEALTH",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": f"{NS}method", "operator": "eq", "rightOperand": method}
                ],
            }
        ],
    }


def catalog_entry(resource, offers, title, abstract):
    return {
        "@id": f"{SITE}/id/datasets/{resource.identifier}",
        "@type": "Dataset",
        "dct:identifier": resource.identifier,
        "dct:title": title,
        "dct:description": abstract,
        "dct:publisher": {"@id": f"{SITE}/id/departments/HEALTH"},
        "dcat:landingPage": {"@id": f"{SITE}/catalog/{resource.pk}/"},
        "hasPolicy": offers,
        "distribution": [
            {
                "@type": "Distribution",
                "format": "http://publications.europa.eu/resource/authority/file-type/CSV",
                "accessService": f"{SITE}/dsp",
            }
        ],
    }


def assert_catalog_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_valid("catalog/catalog-error", body)
    assert body["@context"] == [DSP_CONTEXT]
    assert body["@type"] == "CatalogError"
    assert body["code"] == code
    assert len(body["reason"]) == 1 and body["reason"][0]
    return body


# --- the schemas themselves --------------------------------------------------------------------


def test_the_dsp_examples_validate_and_a_dataset_without_offer_does_not():
    example = json.loads((STANDARDS / "catalog/example/catalog.json").read_text())
    assert_valid("catalog/catalog", example)
    dataset = json.loads((STANDARDS / "catalog/example/dataset.json").read_text())
    assert_valid("catalog/dataset", dataset)
    del dataset["hasPolicy"]
    assert not validator("catalog/dataset").is_valid(dataset)
    offer_with_target = example["dataset"][0]["hasPolicy"][0] | {"target": "urn:x"}
    example["dataset"][0]["hasPolicy"] = [offer_with_target]
    assert not validator("catalog/catalog").is_valid(example)


# --- the catalog ---------------------------------------------------------------------------


def test_catalog_lists_shareable_published_datasets_with_their_offers(
    api, published, unconditional, not_shareable, departments
):
    response = post_catalog(api)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "Link" not in response
    body = response.json()
    assert_valid("catalog/catalog", body)
    assert body == {
        "@context": [DSP_CONTEXT],
        "@id": f"{SITE}/dsp/catalog",
        "@type": "Catalog",
        "participantId": f"{SITE}/id/departments/OFFICE",
        "service": [SERVICE],
        "dataset": [
            catalog_entry(
                unconditional,
                [unconditional_offer("upload"), unconditional_offer("result_only")],
                "Clinic register",
                "Every licensed clinic.",
            ),
            catalog_entry(
                published,
                [conditional_offer("periodic_copy"), conditional_offer("realtime")],
                "Vaccination records",
                "Every vaccine dose given in the city's clinics.",
            ),
        ],
    }


def test_the_approver_is_the_resources_management_right_holder(api, steward, departments):
    # HEALTH holds the management right of its own resource here, not the office.
    create(
        steward,
        departments,
        "HEALTH-VACC-001",
        methods=("periodic_copy",),
        management_right_holder=departments["HEALTH"],
    )
    body = post_catalog(api).json()
    assert_valid("catalog/catalog", body)
    assert body["dataset"][0]["hasPolicy"] == [conditional_offer("periodic_copy", "HEALTH")]


def test_drafts_retired_and_not_shareable_resources_are_not_datasets(
    api, steward, departments, not_shareable
):
    create(steward, departments, "HEALTH-DRAFT-001", publish=False)
    retired = create(steward, departments, "HEALTH-OLD-001")
    catalog_services.resource_retire(actor=steward, resource=retired, reason="Superseded.")
    body = post_catalog(api).json()
    assert_valid("catalog/catalog", body)
    # An empty catalog has no "dataset" at all: the schema wants one item at least.
    assert "dataset" not in body
    assert body["service"] == [SERVICE]
    for identifier in ("HEALTH-DRAFT-001", "HEALTH-OLD-001", "HEALTH-GENOME-001"):
        response = api.get(f"/dsp/catalog/datasets/{identifier}")
        assert_catalog_error(response, 404, "not-found")


def test_the_owning_departments_own_steward_sees_the_draft_nowhere_either(
    client, steward, departments
):
    create(steward, departments, "HEALTH-DRAFT-001", publish=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=steward).key}"
    assert "dataset" not in post_catalog(client).json()
    assert_catalog_error(client.get("/dsp/catalog/datasets/HEALTH-DRAFT-001"), 404, "not-found")


def test_an_outsider_department_sees_the_same_catalog(client, api, published, departments):
    outsider = make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)
    expected = post_catalog(api).json()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=outsider).key}"
    assert post_catalog(client).json() == expected


def test_an_empty_filter_is_no_filter_and_the_accept_header_changes_nothing(api, published):
    response = post_catalog(api, REQUEST | {"filter": []}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert len(response.json()["dataset"]) == 1


def test_the_type_may_be_compact_or_a_full_iri_and_ld_json_is_json(api, published):
    for kind in (
        "dspace:CatalogRequestMessage",
        "https://w3id.org/dspace/2025/1/CatalogRequestMessage",
    ):
        response = post_catalog(api, REQUEST | {"@type": kind}, content_type="application/ld+json")
        assert response.status_code == 200


def test_catalog_pages_with_link_headers(
    api, settings, published, unconditional, steward, departments
):
    create(steward, departments, "HEALTH-ZZZ-001")
    settings.DSP_CATALOG_PAGE_SIZE = 2
    first = post_catalog(api)
    assert first["Link"] == f'<{SITE}/dsp/catalog/request?page=2>; rel="next"'
    assert [d["dct:identifier"] for d in first.json()["dataset"]] == [
        "HEALTH-CLINICS-001",
        "HEALTH-VACC-001",
    ]
    second = post_catalog(api, query="?page=2")
    assert second.status_code == 200
    assert_valid("catalog/catalog", second.json())
    assert second["Link"] == f'<{SITE}/dsp/catalog/request?page=1>; rel="previous"'
    assert [d["dct:identifier"] for d in second.json()["dataset"]] == ["HEALTH-ZZZ-001"]
    for query in ("?page=3", "?page=0", "?page=abc", "?page=-1", "?page=" + "9" * 30):
        assert_catalog_error(post_catalog(api, query=query), 400, "invalid-page")


def test_catalog_request_query_count_is_fixed(
    api, django_assert_num_queries, published, steward, departments
):
    # Token and user, the memberships, the active department, the office, the count, the page.
    with django_assert_num_queries(6):
        assert post_catalog(api).status_code == 200
    for n in range(5):
        create(steward, departments, f"HEALTH-MORE-{n:03d}", methods=("realtime", "upload"))
    with django_assert_num_queries(6):
        response = post_catalog(api)
    assert len(response.json()["dataset"]) == 6


# --- one dataset ---------------------------------------------------------------------------


def test_dataset_by_identifier_and_by_its_encoded_id(api, published):
    expected = {
        "@context": [DSP_CONTEXT],
        **catalog_entry(
            published,
            [conditional_offer("periodic_copy"), conditional_offer("realtime")],
            "Vaccination records",
            "Every vaccine dose given in the city's clinics.",
        ),
    }
    expected["distribution"][0]["accessService"] = SERVICE
    for dataset_id in ("HEALTH-VACC-001", quote(f"{SITE}/id/datasets/HEALTH-VACC-001", safe="")):
        response = api.get(f"/dsp/catalog/datasets/{dataset_id}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert_valid("catalog/dataset", response.json())
        assert response.json() == expected


def test_unknown_dataset_is_404(api, published):
    for dataset_id in (
        "NOPE",
        "a/b/c",
        quote("https://elsewhere.example/id/datasets/HEALTH-VACC-001", safe=""),
    ):
        assert_catalog_error(api.get(f"/dsp/catalog/datasets/{dataset_id}"), 404, "not-found")


def test_dataset_needs_a_token(client, published):
    response = client.get("/dsp/catalog/datasets/HEALTH-VACC-001")
    assert_catalog_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Token"


# --- the versions ----------------------------------------------------------------------------


def test_versions_are_public_even_with_a_bad_token(client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token not-a-token"}):
        response = client.get("/.well-known/dspace-version", **headers)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert_valid("common/protocol-version", response.json())
        assert response.json() == {
            "protocolVersions": [
                {
                    "version": "2025-1",
                    "path": "/dsp",
                    "binding": "HTTPS",
                    "serviceId": f"{SITE}/dsp",
                }
            ]
        }


def test_versions_refuse_post_with_405(client):
    response = client.post("/.well-known/dspace-version", "{}", content_type="application/json")
    assert_catalog_error(response, 405, "method-not-allowed")


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"   ",
        b"\xff\xfe{}",
        b'{"@context": ["' + DSP_CONTEXT.encode() + b'"], "@type": "CatalogRequestMessage"\x00}',
        json.dumps(REQUEST | {"filter": ["a\x00b"]}).encode(),
        json.dumps(REQUEST | {"x\x00": 1}).encode(),
        b"[" * 50_000 + b"]" * 10,
        b'{"@context": NaN}',
        json.dumps([REQUEST]).encode(),
        json.dumps("CatalogRequestMessage").encode(),
        json.dumps({"@type": "CatalogRequestMessage"}).encode(),
        json.dumps(
            REQUEST | {"@context": ["https://w3id.org/dspace/2024/1/context.json"]}
        ).encode(),
        json.dumps(REQUEST | {"@context": {"dspace": "https://w3id.org/dspace/2025/1/"}}).encode(),
        json.dumps(REQUEST | {"@type": "DatasetRequestMessage"}).encode(),
        json.dumps(REQUEST | {"@type": ["CatalogRequestMessage"]}).encode(),
        json.dumps({"@context": [DSP_CONTEXT]}).encode(),
        json.dumps(REQUEST | {"filter": "title = 'x'"}).encode(),
    ],
)
def test_malformed_message_is_400(api, published, body):
    entries = LedgerEntry.objects.count()
    assert_catalog_error(post_catalog(api, body), 400, "invalid-message")
    assert LedgerEntry.objects.count() == entries


def test_a_filter_is_refused_as_unsupported(api, published):
    response = post_catalog(api, REQUEST | {"filter": [{"title": "Vaccination records"}]})
    assert_catalog_error(response, 400, "filter-not-supported")


def test_huge_message_is_413_unread(api):
    body = json.dumps(REQUEST | {"padding": "x" * 70_000})
    assert_catalog_error(post_catalog(api, body), 413, "message-too-large")
    huge = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert_catalog_error(post_catalog(api, huge), 413, "message-too-large")


def test_other_media_types_are_415(api):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = post_catalog(api, json.dumps(REQUEST), content_type=content_type)
        assert_catalog_error(response, 415, "unsupported-media-type")


def test_no_token_or_a_bad_token_is_401(client, requester, published):
    response = post_catalog(client)
    assert_catalog_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Token"
    response = post_catalog(client, HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert_catalog_error(response, 401, "unauthorized")
    # A browser session is not a department system: the session is not read.
    client.force_login(requester)
    assert_catalog_error(post_catalog(client), 401, "unauthorized")


def test_inactive_users_token_is_401(api, requester):
    requester.is_active = False
    requester.save()
    assert_catalog_error(post_catalog(api), 401, "unauthorized")


def test_a_user_of_no_active_department_is_403(client, departments):
    nobody = make_user("nobody")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=nobody).key}"
    assert_catalog_error(post_catalog(client), 403, "not-a-participant")
    former = make_user("former", departments["POLICE"], Membership.Role.REQUESTER)
    departments["POLICE"].is_active = False
    departments["POLICE"].save()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=former).key}"
    assert_catalog_error(post_catalog(client), 403, "not-a-participant")


def test_too_many_bad_tokens_is_429(client, settings, db):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"failed_auth": "2/minute"}
    }
    cache.clear()
    for _ in range(2):
        post_catalog(client, HTTP_AUTHORIZATION="Token bad")
    response = post_catalog(client, HTTP_AUTHORIZATION="Token bad")
    assert_catalog_error(response, 429, "too-many-requests")
    assert int(response["Retry-After"]) > 0


def test_get_on_the_request_endpoint_is_405(api):
    for method in ("get", "put", "delete"):
        response = getattr(api, method)("/dsp/catalog/request")
        assert_catalog_error(response, 405, "method-not-allowed")
        assert response["Allow"] == "POST"


def test_post_on_a_dataset_is_405(api, published):
    response = post_catalog(api)  # sanity: the token works
    assert response.status_code == 200
    response = api.post(
        "/dsp/catalog/datasets/HEALTH-VACC-001", "{}", content_type="application/json"
    )
    assert_catalog_error(response, 405, "method-not-allowed")


def test_other_paths_under_dsp_are_json_404(client, api):
    for path in ("/dsp/", "/dsp", "/dsp/catalog", "/dsp/negotiations/request"):
        assert_catalog_error(client.get(path), 404, "not-found")
        assert_catalog_error(
            api.post(path, "{}", content_type="application/json"), 404, "not-found"
        )


def test_the_dsp_views_are_out_of_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert [p for p in paths if "dsp" in p] == []


def test_a_very_long_unknown_id_is_404_without_echoing_it_whole(api):
    body = assert_catalog_error(api.get("/dsp/catalog/datasets/" + "x" * 5000), 404, "not-found")
    assert body["reason"] == ["No dataset '" + "x" * 200 + "...' is in this catalog."]


def test_a_nul_in_the_query_is_answered_in_json_not_an_html_page(client, db):
    response = client.get("/dsp/catalog/datasets/X?page=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
