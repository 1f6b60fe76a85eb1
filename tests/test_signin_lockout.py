"""Sign-in lockout (django-axes): a username is locked from one address after AXES_FAILURE_LIMIT
wrong passwords, until the cool-off passes or the office unlocks it in admin; each lockout and
each unlock is in the access log."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client, RequestFactory

from audit.models import AccessLog
from audit.services import client_address
from departments.models import Membership
from tests.conftest import PASSWORD, make_user

LOGIN = "/accounts/login/"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LOCKED_TEXT = b"Sign-in is locked"
WRONG_TEXT = b"Please enter a correct username and password"
CHANGELIST = "/admin/axes/accessattempt/"


def sign_in(client, username, password, address=ATTACKER, path=LOGIN):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def fail(client, username, times, address=ATTACKER):
    return [sign_in(client, username, "wrong-password", address).status_code for _ in range(times)]


@pytest.fixture
def office_staff(reviewer):
    reviewer.is_staff = True
    reviewer.save()
    return reviewer


@pytest.fixture
def auditor_staff(departments):
    user = make_user("auditor", departments["OFFICE"], Membership.Role.AUDITOR)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def locked(steward):
    """health_steward locked from ATTACKER after ten wrong passwords."""
    statuses = fail(Client(), steward.username, 10)
    assert statuses == [200] * 9 + [429]
    return steward


def test_ten_wrong_passwords_lock_the_account_and_the_right_one_is_refused(steward, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    client = Client()
    answers = [sign_in(client, steward.username, "wrong-password") for _ in range(10)]
    assert [a.status_code for a in answers[:9]] == [200] * 9
    assert all(WRONG_TEXT in a.content for a in answers[:9])
    assert answers[9].status_code == 429
    assert LOCKED_TEXT in answers[9].content

    refused = sign_in(client, steward.username, PASSWORD)
    assert refused.status_code == 429
    assert LOCKED_TEXT in refused.content
    assert b"Wait 30 minutes" in refused.content
    assert b"ask the data management office" in refused.content
    # The styled sign-in page (the portal's template), not axes' bare text; the username kept.
    assert b'<form method="post" action="/accounts/login/"' in refused.content
    assert b'value="health_steward"' in refused.content
    # Refused even though the password was right: not signed in, and it says nothing about it.
    assert WRONG_TEXT not in refused.content
    assert signed_in_user_id(client) is None
    steward.refresh_from_db()
    assert steward.last_login is None
    assert steward.check_password(PASSWORD)


def test_the_admin_sign_in_page_is_locked_too(locked):
    client = Client()
    refused = sign_in(client, locked.username, PASSWORD, path="/admin/login/?next=/admin/")
    assert refused.status_code == 429
    assert LOCKED_TEXT in refused.content
    assert signed_in_user_id(client) is None


def test_another_address_is_not_locked(locked):
    client = Client()
    answer = sign_in(client, locked.username, PASSWORD, address=ELSEWHERE)
    assert answer.status_code == 302
    assert signed_in_user_id(client) == str(locked.pk)
    # ... and the lock from the first address stays.
    assert sign_in(Client(), locked.username, PASSWORD).status_code == 429


def test_other_users_from_the_same_address_are_not_locked(locked, requester):
    client = Client()
    assert sign_in(client, requester.username, PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(requester.pk)


def test_the_lockout_is_in_the_access_log_once(locked):
    fail(Client(), locked.username, 3)  # more tries while locked: still one lockout
    sign_in(Client(), locked.username, PASSWORD)
    entry = AccessLog.objects.get()
    assert entry.action == "signin_locked"
    assert entry.outcome == AccessLog.Outcome.LIMITED
    assert entry.user == locked
    assert entry.remote_addr == ATTACKER
    assert entry.target == "sign-in: health_steward"
    assert entry.detail == {
        "username": "health_steward",
        "failures": 10,
        "cool_off_minutes": 30,
        "path": LOGIN,
    }
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "health_steward",
        ATTACKER,
        14,
    )
    assert "wrong-password" not in attempt.post_data
    assert PASSWORD not in attempt.post_data


def test_an_unknown_username_is_locked_and_logged_without_a_user(db):
    statuses = fail(Client(), "nobody-here", 10)
    assert statuses[-1] == 429
    entry = AccessLog.objects.get()
    assert (entry.user, entry.target, entry.remote_addr) == (None, "sign-in: nobody-here", ATTACKER)


def test_a_right_password_before_the_limit_forgets_the_failures(steward):
    client = Client()
    fail(client, steward.username, 9)
    assert sign_in(client, steward.username, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, steward.username, 9) == [200] * 9
    assert AccessLog.objects.count() == 0


def test_the_lock_ends_after_the_cool_off(locked):
    # Travel in time: the latest attempt was 29, then 31, minutes ago.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=29))
    still = sign_in(Client(), locked.username, PASSWORD)
    assert still.status_code == 429
    # That refused try started the wait again (a guesser who keeps trying stays locked out).
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=31))
    client = Client()
    answer = sign_in(client, locked.username, PASSWORD)
    assert answer.status_code == 302
    assert signed_in_user_id(client) == str(locked.pk)
    assert AccessAttempt.objects.count() == 0


def test_the_cool_off_and_limit_come_from_the_settings(steward, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=5)
    statuses = fail(Client(), steward.username, 3)
    assert statuses == [200, 200, 429]
    refused = sign_in(Client(), steward.username, PASSWORD)
    assert refused.status_code == 429
    assert b"Wait 5 minutes" in refused.content
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=6))
    assert sign_in(Client(), steward.username, PASSWORD).status_code == 302


def test_office_reviewer_unlocks_in_admin(locked, office_staff):
    office = Client()
    office.force_login(office_staff)
    listing = office.get(CHANGELIST)
    assert listing.status_code == 200
    assert b"health_steward" in listing.content
    assert b"Unlock sign-in for the selected rows" in listing.content
    attempt = AccessAttempt.objects.get()
    detail = office.get(f"{CHANGELIST}{attempt.pk}/change/")
    assert detail.status_code == 200

    done = office.post(
        CHANGELIST,
        {"action": "clear_lockouts", "_selected_action": [attempt.pk]},
        REMOTE_ADDR="192.0.2.10",
        follow=True,
    )
    assert done.status_code == 200
    assert b"1 sign-in lockout cleared" in done.content
    assert AccessAttempt.objects.count() == 0
    unlock = AccessLog.objects.get(action="signin_unlocked")
    assert unlock.user == locked
    assert unlock.remote_addr == "192.0.2.10"
    assert unlock.outcome == AccessLog.Outcome.ALLOWED
    assert unlock.detail == {
        "username": "health_steward",
        "ip_address": ATTACKER,
        "failures": 10,
        "cleared_by": "office",
    }

    client = Client()
    assert sign_in(client, locked.username, PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(locked.pk)


def test_auditor_sees_lockouts_but_cannot_unlock(locked, auditor_staff):
    client = Client()
    client.force_login(auditor_staff)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert b"health_steward" in listing.content
    assert b"clear_lockouts" not in listing.content
    attempt = AccessAttempt.objects.get()
    answer = client.post(CHANGELIST, {"action": "clear_lockouts", "_selected_action": [attempt.pk]})
    assert answer.status_code in (200, 302)
    assert AccessAttempt.objects.get().failures_since_start == 10
    assert not AccessLog.objects.filter(action="signin_unlocked").exists()
    # No delete either: the rows change only through the unlock action.
    assert client.post(f"{CHANGELIST}{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.count() == 1
    assert sign_in(Client(), locked.username, PASSWORD).status_code == 429


def test_staff_outside_the_office_cannot_see_lockouts(locked, requester):
    requester.is_staff = True
    requester.save()
    client = Client()
    client.force_login(requester)
    assert client.get(CHANGELIST).status_code == 403
    attempt = AccessAttempt.objects.get()
    client.post(CHANGELIST, {"action": "clear_lockouts", "_selected_action": [attempt.pk]})
    assert AccessAttempt.objects.get().failures_since_start == 10
    assert not AccessLog.objects.filter(action="signin_unlocked").exists()


def test_seeded_office_user_unlocks(db):
    from django.core.management import call_command

    call_command("seed_demo", rows=5, stdout=open("/dev/null", "w"))  # noqa: SIM115
    fail(Client(), "civil_clerk", 10)
    office = Client()
    office.force_login(get_user_model().objects.get(username="office"))
    attempt = AccessAttempt.objects.get(username="civil_clerk")
    office.post(CHANGELIST, {"action": "clear_lockouts", "_selected_action": [attempt.pk]})
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "10.0.0.5"),
        (1, {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, "203.0.113.7"),
        # A client-written entry on the left is not believed.
        (
            1,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"},
            "203.0.113.7",
        ),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.9"},
            "203.0.113.7",
        ),
        # Not through the proxies (no header): the peer address.
        (1, {"REMOTE_ADDR": "10.0.0.5"}, "10.0.0.5"),
        (1, {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "not-an-address"}, None),
        (0, {"REMOTE_ADDR": ""}, None),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, proxies, meta, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", **meta)
    if "REMOTE_ADDR" in meta:
        request.META["REMOTE_ADDR"] = meta["REMOTE_ADDR"]
    assert client_address(request) == expected


def test_behind_a_proxy_the_lock_follows_the_forwarded_address(steward, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for _ in range(10):
        client.post(
            LOGIN,
            {"username": steward.username, "password": "wrong-password"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=ATTACKER,
        )
    assert AccessAttempt.objects.get().ip_address == ATTACKER
    # Another client behind the same proxy is not locked.
    answer = client.post(
        LOGIN,
        {"username": steward.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert answer.status_code == 302


def test_api_tokens_are_not_passwords_and_bypass_nothing_of_the_lock(locked):
    """Tokens are checked by DRF, not by authenticate(): the sign-in lock neither counts wrong
    tokens (their throttling is the API's) nor blocks the holder's own token."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=locked)
    client = Client()
    wrong = client.get("/api/v1/resources/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert wrong.status_code == 401
    assert AccessAttempt.objects.get().failures_since_start == 10
    right = client.get("/api/v1/resources/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert right.status_code == 200
    # The password sign-in stays locked.
    assert sign_in(Client(), locked.username, PASSWORD).status_code == 429


def test_auditor_finds_the_lockout_in_the_access_log_search(locked, auditor_staff):
    client = Client()
    client.force_login(auditor_staff)
    page = client.get("/audit/", {"outcome": "limited"})
    assert page.status_code == 200
    assert [(a.action, a.target) for a in page.context["accesses"]] == [
        ("signin_locked", "sign-in: health_steward")
    ]
    assert b"sign-in: health_steward" in page.content
    assert client.get("/admin/audit/accesslog/").status_code == 200
