"""API throttles (issue #12): bad tokens per client address, data calls per user and per grant.
All answer 429 with a JSON detail and ``Retry-After``; the grant's own daily limits stay."""

# ruff: noqa: F811 - the fixtures imported from test_sharing are parameters here

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AccessLog
from rights.models import GrantUsage
from tests.test_sharing import all_methods, api, grant_for, police  # noqa: F401,F811 - fixtures


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def token_client(key, ip="10.0.0.1"):
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_bad_tokens_from_one_address_get_429_and_change_nothing(rates, requester):
    rates(failed_auth="3/minute")
    good = Token.objects.create(user=requester)
    tokens_before = list(Token.objects.values_list("key", flat=True))
    bad = token_client("0" * 40)
    codes = [bad.get("/api/v1/grants/").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    fourth = bad.get("/api/v1/grants/")
    assert fourth.status_code == 429
    assert int(fourth["Retry-After"]) > 0
    assert "Too many failed sign-ins" in fourth.json()["detail"]
    # Blocked for every token from that address, even a good one, until the minute has passed.
    assert token_client(good.key).get("/api/v1/grants/").status_code == 429
    # ... while the same good token from another address still works, and nothing changed.
    other = token_client(good.key, ip="10.0.0.2").get("/api/v1/grants/")
    assert other.status_code == 200
    assert list(Token.objects.values_list("key", flat=True)) == tokens_before
    assert AccessLog.objects.count() == 0


def test_good_tokens_and_no_token_are_not_counted_as_failures(rates, requester):
    rates(failed_auth="2/minute")
    good = Token.objects.create(user=requester)
    client = token_client(good.key)
    assert [client.get("/api/v1/grants/").status_code for _ in range(5)] == [200] * 5
    anonymous = APIClient(REMOTE_ADDR="10.0.0.1")
    assert [anonymous.get("/api/v1/grants/").status_code for _ in range(5)] == [401] * 5
    assert client.get("/api/v1/grants/").status_code == 200


def test_records_per_grant_throttle_answers_429_and_uses_no_quota(rates, grant_for, requester):
    rates(data_grant="2/minute")
    grant = grant_for("realtime")
    url = f"/api/v1/grants/{grant.pk}/records/"
    client = api(requester)
    assert [client.get(url, {"dose_number": "1"}).status_code for _ in range(2)] == [200, 200]
    usage_before = list(GrantUsage.objects.values_list("action", "calls", "records"))
    logs_before = AccessLog.objects.count()
    third = client.get(url, {"dose_number": "1"})
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert "throttled" in third.json()["detail"]
    # Refused before the data call: no lookup, no usage counted, no access-log row.
    assert list(GrantUsage.objects.values_list("action", "calls", "records")) == usage_before
    assert AccessLog.objects.count() == logs_before


def test_per_grant_throttle_leaves_other_grants_alone(rates, grant_for, requester):
    rates(data_grant="1/minute")
    realtime = grant_for("realtime")
    result_only = grant_for("result_only")
    client = api(requester)
    records = f"/api/v1/grants/{realtime.pk}/records/"
    assert client.get(records, {"dose_number": "1"}).status_code == 200
    assert client.get(records, {"dose_number": "1"}).status_code == 429
    check = {"match": {"resident_id": "R001"}, "check": {"dose_number": "1"}}
    verify = client.post(f"/api/v1/grants/{result_only.pk}/verify/", check, format="json")
    assert verify.status_code == 200
    assert verify.json() == {"result": True}


def test_per_user_throttle_leaves_other_users_alone(rates, grant_for, requester, departments):
    from departments.models import Membership
    from tests.conftest import make_user

    rates(data_user="1/minute")
    grant = grant_for("realtime")
    colleague = make_user("civil_colleague", departments["CIVIL"], Membership.Role.REQUESTER)
    url = f"/api/v1/grants/{grant.pk}/records/"
    assert api(requester).get(url, {"dose_number": "1"}).status_code == 200
    assert api(requester).get(url, {"dose_number": "1"}).status_code == 429
    assert api(colleague).get(url, {"dose_number": "1"}).status_code == 200


def test_grant_daily_limit_still_applies_under_generous_throttles(grant_for, requester):
    grant = grant_for("realtime", max_calls_per_day=1)
    client = api(requester)
    url = f"/api/v1/grants/{grant.pk}/records/"
    assert client.get(url, {"dose_number": "1"}).status_code == 200
    over = client.get(url, {"dose_number": "1"})
    assert over.status_code == 429
    assert "1 calls a day" in over.json()["detail"]
