"""Daily volume limits of real-time and result-only grants: one counter row per grant, day and
action, kept with the access log and locked while a call is served."""

import threading
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from audit.models import AccessLog
from rights.models import Grant, GrantUsage
from sharing import access
from tests import test_sharing

all_methods = test_sharing.all_methods
grant_for = test_sharing.grant_for


def http(user):
    return SimpleNamespace(user=user, META={"REMOTE_ADDR": "127.0.0.1"})


def lookup(user, grant, **filters):
    return access.records_lookup(
        user=user, grant=grant, filters=filters, page=1, page_size=50, http_request=http(user)
    )


def outcomes(grant, action):
    return sorted(
        AccessLog.objects.filter(grant=grant, action=action).values_list("outcome", flat=True)
    )


def test_the_counter_follows_the_allowed_calls_and_records(grant_for, requester):
    grant = grant_for("realtime", max_calls_per_day=3)
    assert lookup(requester, grant, dose_number="1")[0] == 2
    assert lookup(requester, grant, resident_id="R002")[0] == 1
    assert lookup(requester, grant, resident_id="R999")[0] == 0
    usage = GrantUsage.objects.get(grant=grant, action="records")
    assert (usage.day, usage.calls, usage.records) == (timezone.localdate(), 3, 3)
    with pytest.raises(access.OverLimit):
        lookup(requester, grant, dose_number="1")
    usage.refresh_from_db()
    assert (usage.calls, usage.records) == (3, 3)  # a refused call is not counted
    assert outcomes(grant, "records") == ["allowed"] * 3 + ["limited"]


def test_a_page_past_the_end_still_reports_the_count(grant_for, requester):
    grant = grant_for("realtime")
    count, rows = access.records_lookup(
        user=requester,
        grant=grant,
        filters={"dose_number": "1"},
        page=2,
        page_size=2,
        http_request=http(requester),
    )
    assert (count, rows) == (2, [])


def test_verify_counts_its_checks_separately(grant_for, requester, settings):
    settings.RESULT_ONLY_DAILY_LIMIT = 2
    grant = grant_for("result_only")
    for _call in range(2):
        assert access.result_verify(
            user=requester,
            grant=grant,
            match={"resident_id": "R001"},
            check={"dose_number": "1"},
            http_request=http(requester),
        )
    with pytest.raises(access.OverLimit) as caught:
        access.result_verify(
            user=requester,
            grant=grant,
            match={"resident_id": "R001"},
            check=None,
            http_request=http(requester),
        )
    assert caught.value.retry_after > 0
    assert GrantUsage.objects.get(grant=grant, action="verify").calls == 2
    assert not GrantUsage.objects.filter(grant=grant, action="records").exists()
    assert outcomes(grant, "verify") == ["allowed", "allowed", "limited"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_overshoot_the_daily_limit(grant_for, requester):
    grant = grant_for("realtime", max_calls_per_day=3)
    callers = 8
    barrier = threading.Barrier(callers)
    results = [None] * callers

    def call(slot):
        try:
            user = get_user_model().objects.get(pk=requester.pk)
            mine = Grant.objects.get(pk=grant.pk)
            barrier.wait(timeout=10)
            results[slot] = lookup(user, mine, dose_number="1")
        except Exception as exc:  # the outcome is what the test inspects
            results[slot] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call, args=(slot,)) for slot in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    served = [r for r in results if isinstance(r, tuple)]
    limited = [r for r in results if isinstance(r, access.OverLimit)]
    assert (len(served), len(limited)) == (3, callers - 3), results
    assert GrantUsage.objects.get(grant=grant, action="records").calls == 3
    assert outcomes(grant, "records") == ["allowed"] * 3 + ["limited"] * (callers - 3)
