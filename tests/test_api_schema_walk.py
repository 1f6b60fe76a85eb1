"""Every operation of the OpenAPI schema, for every persona of the demo world, with malformed
ids, bodies and query parameters: never a 5xx, and every 4xx is JSON with ``detail`` or field
errors (issue #12).

The schema is generated in-process by drf-spectacular, so a new endpoint is walked as soon as it
is routed. On PostgreSQL the integer-overflow cases (2**63 in a path or a body) reach the
database; CI runs this file there too.
"""

import json
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PERSONAS = [None, "civil_clerk", "police_clerk", "health_steward", "office", "auditor", "admin"]
BAD_IDS = ["null,null", "-1", str(2**63), "abc", "1.5", "0", "a%0Ab", "%00"]
LONG = "x" * 20_000
# NUL: PostgreSQL cannot store it in text or jsonb, and a lookup by code with it is a DataError.
NUL = "a\x00b"
BAD_VALUES = [
    "text",
    -1,
    2**63,
    None,
    [1, "a", None],
    {"a": {"b": []}},
    LONG,
    True,
    1.5,
    NUL,
    [NUL],
    {"a": NUL, NUL: 1},
]
METHODS = ("get", "post", "put", "patch", "delete")


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _body_fields(operation):
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or None
    return None


def _fill(path, value):
    return re.sub(r"\{[^}]+\}", str(value), path)


def _assert_answer(response, what, documented=None):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if documented is not None:  # the schema declares what the operation answered (core/openapi.py)
        assert str(response.status_code) in documented, (
            f"{what}: {response.status_code} undocumented"
        )
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), what
        body = json.loads(response.content)
        assert isinstance(body, dict) and body, what
        assert "detail" in body or "errors" in body, f"{what}: {body}"


@pytest.fixture
def demo_world(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}),
            **{
                scope: "1000000/min"
                for scope in settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
            },
        },
    }
    cache.clear()
    call_command("seed_demo", "--rows", "20", stdout=open("/dev/null", "w"))  # noqa: SIM115
    clients = {}
    for username in PERSONAS:
        client = APIClient()
        if username is not None:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(username=username)
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        clients[username or "anonymous"] = client
    return clients


def test_every_operation_survives_malformed_input(demo_world):
    operations = list(_operations())
    assert len(operations) > 50  # the walk covers the whole API, not a handful
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    calls = 0
    for persona, client in demo_world.items():
        for path, method, operation in operations:
            call = getattr(client, method)
            has_id = "{" in path
            query_names = [
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            ]
            documented = set(operation["responses"])
            body_name = _body_fields(operation)
            properties = list(components.get(body_name, {}).get("properties", {})) or ["x"]
            for bad_id in BAD_IDS if has_id else []:
                response = call(_fill(path, bad_id), {}, format="json")
                _assert_answer(response, f"{persona} {method} {path} id={bad_id}", documented)
                calls += 1
            target = _fill(path, 1)
            for value in BAD_VALUES:
                if method == "get":
                    raw = value if isinstance(value, str) else json.dumps(value)
                    query = {name: raw for name in query_names or ["page"]}
                    response = call(target, query)
                else:
                    response = call(target, {name: value for name in properties}, format="json")
                _assert_answer(
                    response, f"{persona} {method} {target} value={str(value)[:40]}", documented
                )
                calls += 1
            if method != "get":
                for raw, content_type in [
                    (b"not json {", "application/json"),
                    (b"[1, 2]", "application/json"),
                    (b"<a/>", "application/xml"),
                    (b"a=1", "text/plain"),
                ]:
                    response = call(target, raw, content_type=content_type)
                    _assert_answer(
                        response, f"{persona} {method} {target} {content_type}", documented
                    )
                    calls += 1
    assert calls > 3000


def test_nul_in_a_code_is_a_400_and_changes_nothing(demo_world):
    """A NUL character in a department code once reached PostgreSQL as a DataError (a 500)."""
    from access_requests.models import Request

    draft = Request.objects.filter(
        state=Request.State.DRAFT, requested_by__username="civil_clerk"
    ).first()
    assert draft is not None
    before = (draft.requesting_department_id, draft.purpose, draft.updated_at)
    response = demo_world["civil_clerk"].patch(
        f"/api/v1/requests/{draft.pk}/",
        {"department": "CIV\x00IL", "purpose": "Changed"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "department" in response.json()["detail"]
    assert "NUL" in response.json()["detail"]
    draft.refresh_from_db()
    assert (draft.requesting_department_id, draft.purpose, draft.updated_at) == before


@pytest.mark.parametrize(
    "path", ["/api/v1/demands/?department=a%00b", "/demands/?q=a%00b", "/api/v1/resources/%00/"]
)
def test_nul_in_an_address_is_a_400(demo_world, client, path):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="office"))
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["detail"]
    else:
        assert b"NUL" in response.content
