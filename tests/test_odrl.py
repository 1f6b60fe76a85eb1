"""Grants as ODRL 2.2 agreements (issue #14, point 3): the document, its endpoint, its place in
every delivery's manifest, its conformance to the Dataspace Protocol 2025-1 Agreement schema, and
the evaluator that decides a data call from the policy alone — the same answer as the grant
checks the data paths apply (sharing.access.call_refusal), for random grants and calls."""

import datetime
import json
import os
import zoneinfo
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import referencing
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from referencing.jsonschema import DRAFT201909
from rest_framework.test import APIClient

from rights.models import Grant
from rights.selectors import grant_for_user
from sharing import access
from sharing.deliveries import deliveries_dispatch, delivery_build
from standards import odrl
from standards.odrl import DataCall, evaluate, grant_policy
from tests import test_sharing
from tests.conftest import ITEMS as RESOURCE_ITEMS

all_methods = test_sharing.all_methods
grant_for = test_sharing.grant_for
police = test_sharing.police

STANDARDS = Path(
    os.environ.get("GOVSHARE_STANDARDS")
    or Path(django_settings.BASE_DIR).parent / "shared" / "standards"
)
DSP = STANDARDS / "dsp-2025-1"
NAMES = [item["name"] for item in RESOURCE_ITEMS]
METHODS = ["periodic_copy", "upload", "realtime", "result_only"]


def policy_url(grant_id):
    return f"/api/v1/grants/{grant_id}/policy/"


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def gs(term):
    return f"https://govshare.example/ns/odrl#{term}"


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://govshare.example"
    return settings


@pytest.fixture
def known_grant(site, grant_for):
    """A real-time grant with both daily limits and a fixed period and time."""
    grant = grant_for("realtime", max_records_per_day=500, max_calls_per_day=20)
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 6, 30),
        created_at=datetime.datetime(2025, 12, 20, 8, 30, tzinfo=datetime.UTC),
    )
    return Grant.objects.get(pk=grant.pk)


# --- the document ----------------------------------------------------------------------------


def test_the_agreement_says_exactly_what_the_grant_allows(known_grant, site):
    site.TIME_ZONE = "Asia/Shanghai"
    assert grant_policy(known_grant) == {
        "@context": [
            "https://w3id.org/dspace/2025/1/context.jsonld",
            "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
            {"timestamp": {"@id": "dspace:timestamp", "@type": "xsd:dateTime"}},
        ],
        "@id": f"https://govshare.example/id/grants/{known_grant.pk}/policy",
        "@type": "Agreement",
        "profile": "https://govshare.example/ns/odrl",
        "timestamp": "2025-12-20T08:30:00.000000Z",
        "assigner": "https://govshare.example/id/departments/HEALTH",
        "assignee": "https://govshare.example/id/departments/CIVIL",
        "target": "https://govshare.example/id/datasets/HEALTH-VACC-001",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "odrl:purpose",
                        "operator": "eq",
                        "rightOperand": "Check vaccination status for school enrolment.",
                    },
                    {
                        "leftOperand": gs("dataItem"),
                        "operator": "isAnyOf",
                        "rightOperand": ["resident_id", "dose_number"],
                    },
                    {"leftOperand": gs("method"), "operator": "eq", "rightOperand": "realtime"},
                    {
                        "leftOperand": "odrl:dateTime",
                        "operator": "gteq",
                        "rightOperand": {"@value": "2026-01-01+08:00", "@type": "xsd:date"},
                    },
                    {
                        "leftOperand": "odrl:dateTime",
                        "operator": "lteq",
                        "rightOperand": {"@value": "2026-06-30+08:00", "@type": "xsd:date"},
                    },
                    {
                        "leftOperand": "odrl:count",
                        "operator": "lteq",
                        "rightOperand": {"@value": 500, "@type": "xsd:nonNegativeInteger"},
                        "odrl:unit": {"@id": gs("recordsPerDay")},
                    },
                    {
                        "leftOperand": "odrl:count",
                        "operator": "lteq",
                        "rightOperand": {"@value": 20, "@type": "xsd:nonNegativeInteger"},
                        "odrl:unit": {"@id": gs("callsPerDay")},
                    },
                ],
                "duty": [
                    {
                        "action": "odrl:inform",
                        "odrl:informedParty": {
                            "@id": "https://govshare.example/id/departments/HEALTH"
                        },
                    },
                    {
                        "action": "odrl:delete",
                        "constraint": [
                            {
                                "leftOperand": "odrl:event",
                                "operator": "gteq",
                                "rightOperand": {"@id": gs("endOfUse")},
                            }
                        ],
                    },
                ],
            }
        ],
    }


def test_limits_appear_only_when_the_grant_has_them(site, grant_for):
    realtime = grant_policy(grant_for("realtime"))
    units = [
        c.get("odrl:unit") for c in realtime["permission"][0]["constraint"] if "odrl:unit" in c
    ]
    assert units == []
    site.RESULT_ONLY_DAILY_LIMIT = 7
    result_only = grant_policy(grant_for("result_only"))
    (count,) = [c for c in result_only["permission"][0]["constraint"] if "odrl:unit" in c]
    assert (count["rightOperand"]["@value"], count["odrl:unit"]) == (7, {"@id": gs("callsPerDay")})


def test_period_bounds_carry_the_offset_of_the_day_they_bound(known_grant, site):
    """Europe/Dublin: clocks go back on 25 October 2026, so that day starts at +01:00 and ends
    at +00:00; the upper bound carries the offset in force at its end."""
    site.TIME_ZONE = "Europe/Dublin"
    Grant.objects.filter(pk=known_grant.pk).update(
        valid_from=datetime.date(2026, 3, 29), valid_until=datetime.date(2026, 10, 25)
    )
    grant = Grant.objects.get(pk=known_grant.pk)
    policy = grant_policy(grant)
    bounds = [c["rightOperand"]["@value"] for c in policy["permission"][0]["constraint"][3:5]]
    assert bounds == ["2026-03-29Z", "2026-10-25Z"]
    dublin = zoneinfo.ZoneInfo("Europe/Dublin")

    def at(day, hour, minute=0):
        return datetime.datetime(2026, day[0], day[1], hour, minute, tzinfo=dublin)

    def permitted(when):
        return evaluate(policy, DataCall(when=when, method="realtime")).permitted

    assert permitted(at((10, 25), 23, 59)) is True  # the last minute of the last day (+00:00)
    assert permitted(at((10, 26), 0, 0)) is False
    assert permitted(at((3, 29), 0, 0)) is True  # the first day's midnight (+00:00)
    assert permitted(at((3, 28), 23, 59)) is False


# --- DSP 2025-1 conformance -----------------------------------------------------------------


def dsp_registry():
    resources = []
    for path in sorted(DSP.glob("*/*-schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], DRAFT201909.create_resource(schema)))
    return referencing.Registry().with_resources(resources)


def dsp_validator(ref):
    return jsonschema.Draft201909Validator({"$ref": ref}, registry=dsp_registry())


AGREEMENT = "https://w3id.org/dspace/2025/1/negotiation/contract-schema.json#/definitions/Agreement"
MESSAGE = "https://w3id.org/dspace/2025/1/negotiation/contract-agreement-message-schema.json"


def test_the_agreement_validates_against_the_dsp_agreement_schema(known_grant):
    policy = json.loads(json.dumps(grant_policy(known_grant)))
    assert list(dsp_validator(AGREEMENT).iter_errors(policy)) == []
    # The schema does judge: the same document without its assignee, or with a bad timestamp,
    # is refused.
    broken = {key: value for key, value in policy.items() if key != "assignee"}
    assert [e.validator for e in dsp_validator(AGREEMENT).iter_errors(broken)] == ["required"]
    assert list(dsp_validator(AGREEMENT).iter_errors({**policy, "timestamp": "yesterday"}))


def test_the_agreement_fits_a_contract_agreement_message(known_grant):
    """A connector can send it as is: the agreement of a ContractAgreementMessage, whose own
    context (the DSP context alone) gives every term the agreement uses."""
    agreement = {k: v for k, v in grant_policy(known_grant).items() if k != "@context"}
    message = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "ContractAgreementMessage",
        "providerPid": "urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab",
        "consumerPid": "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833",
        "agreement": agreement,
    }
    assert list(dsp_validator(MESSAGE).iter_errors(json.loads(json.dumps(message)))) == []


def test_the_contexts_name_every_term_the_agreement_uses(known_grant):
    """Each key and each vocabulary value of the document is a term of the DSP context, of its
    ODRL profile or of the document's own context, or a prefixed/absolute IRI: nothing a JSON-LD
    processor would drop."""
    terms = set()
    for name in ("dspace.jsonld", "odrl.jsonld"):
        terms |= set(json.loads((DSP / "context" / name).read_text())["@context"])
    terms |= set(odrl.LOCAL_CONTEXT)
    policy = grant_policy(known_grant)

    def named(value):
        return value.startswith(("@", "odrl:", "xsd:", "dspace:", "https://")) or value in terms

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                assert named(key), key
                if key in ("action", "operator", "leftOperand", "@type") and isinstance(value, str):
                    assert named(value), value
                if key not in ("@context", "rightOperand"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(policy)


# --- the endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["requester", "steward", "reviewer"])
def test_the_parties_and_the_office_read_the_agreement(who, request, known_grant):
    user = request.getfixturevalue(who)
    response = client_for(user).get(policy_url(known_grant.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert json.loads(response.content) == json.loads(json.dumps(grant_policy(known_grant)))


def test_even_a_client_asking_for_json_ld_only_gets_it(known_grant, requester):
    client = client_for(requester)
    response = client.get(policy_url(known_grant.pk), HTTP_ACCEPT="application/ld+json")
    assert (response.status_code, response["Content-Type"]) == (200, "application/ld+json")
    missing = client.get(policy_url(known_grant.pk + 1000), HTTP_ACCEPT="application/ld+json")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/json")


def test_an_outsider_gets_404_and_no_document(known_grant, police, outsider_steward):
    for user in (police, outsider_steward):
        response = client_for(user).get(policy_url(known_grant.pk))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "@context" not in response.json()


def test_anonymous_gets_401(known_grant):
    response = APIClient().get(policy_url(known_grant.pk))
    assert response.status_code == 401
    assert "@context" not in response.json()


@pytest.mark.parametrize("bad", ["0", "99999999999999999999", "abc", "-1", "1.5", "%00"])
def test_bad_ids_are_404_never_5xx(bad, known_grant, requester):
    response = client_for(requester).get(f"/api/v1/grants/{bad}/policy/")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"


def test_the_schema_declares_json_ld(requester):
    response = client_for(requester).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/grants/{id}/policy/"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["application/ld+json"]
    assert {"401", "404"} <= set(operation["responses"])


# --- the delivery manifest ------------------------------------------------------------------


def test_every_delivery_manifest_holds_the_agreement(site, grant_for, requester):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    _data, manifest = test_sharing.read_zip(delivery)
    answered = client_for(requester).get(policy_url(grant.pk)).json()
    assert manifest["policy"] == answered == delivery.manifest["policy"]
    assert answered["@id"] == f"https://govshare.example/id/grants/{grant.pk}/policy"


# --- the evaluator -------------------------------------------------------------------------


def test_the_evaluator_names_each_broken_constraint(known_grant):
    policy = grant_policy(known_grant)
    inside = datetime.date(2026, 3, 1)
    assert evaluate(policy, DataCall(when=inside, method="realtime", records=50)) == (
        odrl.Decision(True, (), 50)
    )
    call = DataCall(
        when=datetime.date(2026, 7, 1),
        method="result_only",
        items=["resident_id", "fee"],
        purpose="Marketing.",
        calls_today=20,
        records_today=500,
    )
    assert evaluate(policy, call) == odrl.Decision(
        False, ("purpose", "items", "method", "period", "records", "calls"), 0
    )
    assert evaluate(policy, DataCall(when=inside, action="distribute")).reasons == ("action",)
    other = DataCall(when=inside, target="https://govshare.example/id/datasets/OTHER")
    assert evaluate(policy, other).reasons == ("target",)
    # A constraint it does not know refuses the call (ODRL: it cannot be satisfied).
    strange = json.loads(json.dumps(policy))
    strange["permission"][0]["constraint"].append(
        {"leftOperand": "odrl:spatial", "operator": "eq", "rightOperand": "EU"}
    )
    assert evaluate(strange, DataCall(when=inside)).reasons == ("unknown-constraint",)


def test_records_over_what_is_left_are_cut_not_refused(known_grant):
    policy = grant_policy(known_grant)
    call = DataCall(when=datetime.date(2026, 3, 1), records_today=480, records=50)
    assert evaluate(policy, call) == odrl.Decision(True, (), 20)
    assert access.records_page_size(known_grant, 480, 50) == 20


def test_the_data_paths_refuse_with_the_reference_check(grant_for, requester):
    """records_lookup and result_verify say what call_refusal says (so the property test below
    compares the evaluator with the data paths' own rule)."""
    grant = grant_for("realtime", max_calls_per_day=1)
    call = _lookup(requester, grant)
    assert call[0] == 2
    with pytest.raises(access.OverLimit) as caught:
        _lookup(requester, grant)
    expected = access.call_refusal(
        grant, action="records", day=datetime.date.today(), items=["dose_number"], calls=1
    )
    assert str(caught.value) == expected == "The grant allows 1 calls a day."


def _lookup(user, grant):
    return access.records_lookup(
        user=user,
        grant=grant,
        filters={"dose_number": "1"},
        page=1,
        page_size=50,
        http_request=SimpleNamespace(user=user, META={"REMOTE_ADDR": "127.0.0.1"}),
    )


ACTIONS = list(access.CALL_METHODS)
limits = st.sampled_from([None, 1, 2, 3, 4])


def usage(limit):
    """Usage so far: mostly at the edge of the limit, where the checks change their answer."""
    if limit is None:
        return st.integers(0, 6)
    return st.one_of(st.sampled_from([limit - 1, limit, limit + 1]), st.integers(0, limit + 2))


@st.composite
def cases(draw):
    start = datetime.date(2026, 1, 1) + datetime.timedelta(days=draw(st.integers(0, 400)))
    grant = {
        "fields": draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True)),
        "method": draw(st.sampled_from(["realtime", "realtime", "result_only", *METHODS])),
        "valid_from": start,
        "valid_until": start + datetime.timedelta(days=draw(st.integers(0, 30))),
        "max_records_per_day": draw(limits),
        "max_calls_per_day": draw(limits),
    }
    # Most calls take the grant's own data path and fall inside its period, so that each check
    # in turn is what decides; the others test the refusals.
    own = {"realtime": "records", "result_only": "verify"}.get(grant["method"], "download")
    action = draw(st.sampled_from([own, own, own, *ACTIONS]))
    length = (grant["valid_until"] - start).days
    offset = draw(st.one_of(st.integers(0, length), st.integers(-3, length + 3)))
    day = start + datetime.timedelta(days=offset)
    metered = action != "download"
    call = {
        "action": action,
        "day": day,
        "minute": draw(st.one_of(st.none(), st.integers(0, 24 * 60 - 1))),
        "items": draw(st.lists(st.sampled_from(grant["fields"]), max_size=3))
        + draw(st.lists(st.sampled_from([*NAMES, "not_an_item"]), max_size=1)),
        "purpose": draw(st.sampled_from([None, "grant's"])),
        "calls": draw(usage(grant["max_calls_per_day"] or 3)) if metered else 0,
        "records": draw(usage(grant["max_records_per_day"])) if action == "records" else 0,
        "wanted": draw(st.integers(0, 10)),
    }
    return grant, call


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Dublin"])
@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_the_evaluator_decides_as_the_grant_checks(zone, case, settings, known_grant, requester):
    """For random grants and calls on an ACTIVE grant: permitted by the policy alone exactly when
    the data paths' checks (sharing.access.call_refusal) let the call through, and the same
    number of records when they do."""
    settings.TIME_ZONE = zone
    settings.RESULT_ONLY_DAILY_LIMIT = 3
    fields, call = case
    with transaction.atomic():
        Grant.objects.filter(pk=known_grant.pk).update(**fields)
        # The grant as a party reads it, through the selector the endpoint uses.
        grant = grant_for_user(requester, known_grant.pk)
        assert grant.status == Grant.Status.ACTIVE
        policy = json.loads(json.dumps(grant_policy(grant)))  # as a department system gets it
        if call["minute"] is None:
            when = call["day"]
        else:
            midnight = datetime.datetime.combine(
                call["day"], datetime.time(), tzinfo=zoneinfo.ZoneInfo(zone)
            )
            # Real elapsed minutes after local midnight (a day may be 23 or 25 hours long).
            when = (
                midnight.astimezone(datetime.UTC) + datetime.timedelta(minutes=call["minute"])
            ).astimezone(zoneinfo.ZoneInfo(zone))
        day = when.date() if isinstance(when, datetime.datetime) else when
        refusal = access.call_refusal(
            grant,
            action=call["action"],
            day=day,
            items=call["items"],
            calls=call["calls"],
            records=call["records"],
        )
        decision = evaluate(
            policy,
            DataCall(
                when=when,
                method=access.CALL_METHODS[call["action"]],
                items=call["items"],
                purpose=grant.purpose if call["purpose"] else None,
                calls_today=call["calls"],
                records_today=call["records"],
                records=call["wanted"],
            ),
        )
        assert decision.permitted is (refusal is None), (refusal, decision, policy)
        if refusal is None and call["action"] == "records":
            page = access.records_page_size(grant, call["records"], call["wanted"])
            allowed = decision.records_allowed
            assert (call["wanted"] if allowed is None else allowed) == page
        transaction.set_rollback(True)
