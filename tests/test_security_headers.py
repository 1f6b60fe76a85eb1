"""Content-Security-Policy, Permissions-Policy, no inline script or style in any template, and
sessions: eight hours at most, gone at browser close, ended everywhere by a password change."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.test_foundation import PRODUCTION_ENV, run_manage

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
DENIED_FEATURES = {"camera", "microphone", "geolocation", "payment", "usb", "serial"}

# Production settings, then three answers through Django's test client: a page, an API answer
# and a 404 (django-csp leaves 404s alone only in DEBUG). No table is read.
PROBE = """
import json
from django.conf import settings
from django.test import Client, override_settings
# The hashed static names exist only after collectstatic; plain names serve the probe as well.
override_settings(
    STORAGES={**settings.STORAGES,
              "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
).enable()
client = Client(SERVER_NAME="govshare.example.gov")
out = {"settings": [settings.DEBUG, settings.SESSION_COOKIE_AGE,
                    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE, settings.SESSION_COOKIE_SECURE]}
for path in ["/accounts/login/", "/api/v1/resources/", "/no-such-page/"]:
    answer = client.get(path, secure=True)
    out[path] = [answer.status_code, answer.get("Content-Security-Policy"),
                 answer.get("Permissions-Policy")]
print("PROBE" + json.dumps(out))
"""


def parse_csp(header):
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def parse_permissions_policy(header):
    return dict(item.strip().split("=", 1) for item in header.split(","))


@pytest.fixture
def production_env(tmp_path):
    from ledger.keys import write_new_key

    key = tmp_path / "ledger.key"
    write_new_key(key, "govshare.example.gov/ledger")
    return PRODUCTION_ENV | {
        "LEDGER_SIGNING_KEY_FILE": str(key),
        # The probe reads no table; an empty SQLite file spares it a PostgreSQL server.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    }


def probe(env):
    result = run_manage("shell", "-c", PROBE, env_overrides=env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line.removeprefix("PROBE"))


def test_production_settings_send_csp_and_permissions_policy_on_pages_and_api(production_env):
    out = probe(production_env)
    assert out["settings"] == [False, 8 * 60 * 60, True, True]
    for path, expected_status in [
        ("/accounts/login/", 200),
        ("/api/v1/resources/", 401),
        ("/no-such-page/", 404),
    ]:
        status, csp, permissions = out[path]
        assert status == expected_status, path
        assert parse_csp(csp) == EXPECTED_CSP, path
        policy = parse_permissions_policy(permissions)
        assert all(policy[feature] == "()" for feature in DENIED_FEATURES), path


def test_session_lifetime_comes_from_the_environment(production_env):
    out = probe(
        production_env | {"SESSION_MAX_AGE": "3600", "SESSION_EXPIRE_AT_BROWSER_CLOSE": "false"}
    )
    assert out["settings"] == [False, 3600, False, True]


def test_bad_session_max_age_names_the_variable(production_env):
    result = run_manage("check", env_overrides=production_env | {"SESSION_MAX_AGE": "8h"})
    assert result.returncode != 0
    assert "SESSION_MAX_AGE" in result.stderr


@pytest.mark.django_db
def test_pages_and_api_answers_carry_the_headers(client, steward):
    client.force_login(steward)
    for path in ["/catalog/", "/api/v1/resources/", "/api/docs/", "/api/docs/?script="]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert parse_csp(answer["Content-Security-Policy"]) == EXPECTED_CSP, path
        assert parse_permissions_policy(answer["Permissions-Policy"])["camera"] == "()", path


@pytest.mark.django_db
def test_api_docs_load_their_start_up_script_as_a_file(client, steward):
    client.force_login(steward)
    page = client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in page
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


# An inline script is a <script> without src (a JSON data block, type="application/json", is
# not run and is allowed); inline style is a style attribute or a <style> element; event
# handler attributes (onclick=...) are inline script too.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_inline_script_or_style():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 40
    offenders = [
        f"{path.relative_to(ROOT)}: {pattern.pattern}"
        for path in templates
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, EVENT_HANDLER)
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<script>alert(1)</script>", True),
        ('<script nonce="x">go()</script>', True),
        ('<script src="/static/x.js"></script>', False),
        ('<script type="application/json" id="d">{}</script>', False),
        ('<div style="color: red">', True),
        ("<style>p{}</style>", True),
        ('<button onclick="go()">', True),
        ('<p class="styled">', False),
    ],
)
def test_the_template_scan_finds_what_it_must(html, found):
    assert any(p.search(html) for p in (INLINE_SCRIPT, INLINE_STYLE, EVENT_HANDLER)) is found


@pytest.mark.django_db
def test_the_session_cookie_ends_with_the_browser_and_the_session_within_eight_hours(steward):
    client = Client()
    signed_in = client.post(
        "/accounts/login/", {"username": steward.username, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    cookie = signed_in.cookies["sessionid"]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["httponly"] is True
    session = Session.objects.get(session_key=cookie.value)
    remaining = session.expire_date - timezone.now()
    assert datetime.timedelta(hours=7, minutes=59) < remaining <= datetime.timedelta(hours=8)
    assert client.session.get_expire_at_browser_close() is True


@pytest.mark.django_db
def test_a_session_past_eight_hours_is_signed_out(steward):
    client = Client()
    client.force_login(steward)
    assert client.get("/catalog/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    answer = client.get("/catalog/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")


def two_sessions(user):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert (
            client.post(
                "/accounts/login/", {"username": user.username, "password": PASSWORD}
            ).status_code
            == 302
        )
        assert client.get("/catalog/").status_code == 200
    return here, elsewhere


@pytest.mark.django_db
def test_a_password_change_signs_out_every_other_session(steward):
    here, elsewhere = two_sessions(steward)
    changed = here.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-2026",
            "new_password2": "a-new-long-passphrase-2026",
        },
    )
    assert changed.status_code == 302
    assert changed["Location"] == "/accounts/password/done/"
    assert b"Every other session" in here.get("/accounts/password/done/").content
    assert here.get("/catalog/").status_code == 200
    gone = elsewhere.get("/catalog/")
    assert gone.status_code == 302
    assert gone["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_wrong_old_password_changes_nothing_and_keeps_the_other_sessions(steward):
    here, elsewhere = two_sessions(steward)
    refused = here.post(
        "/accounts/password/",
        {
            "old_password": "not-my-password",
            "new_password1": "a-new-long-passphrase-2026",
            "new_password2": "a-new-long-passphrase-2026",
        },
    )
    assert refused.status_code == 200
    assert b"error-summary" in refused.content
    steward.refresh_from_db()
    assert steward.check_password(PASSWORD)
    assert elsewhere.get("/catalog/").status_code == 200


@pytest.mark.django_db
def test_a_password_reset_by_the_office_in_admin_signs_the_user_out(steward, django_user_model):
    _, elsewhere = two_sessions(steward)
    admin_user = django_user_model.objects.create_superuser("root", password=PASSWORD)
    office = Client()
    office.force_login(admin_user)
    reset = office.post(
        f"/admin/auth/user/{steward.pk}/password/",
        {
            "password1": "a-new-long-passphrase-2026",
            "password2": "a-new-long-passphrase-2026",
            "usable_password": "true",
        },
    )
    assert reset.status_code == 302
    steward.refresh_from_db()
    assert steward.check_password("a-new-long-passphrase-2026")
    gone = elsewhere.get("/catalog/")
    assert gone.status_code == 302
    assert gone["Location"].startswith("/accounts/login/")
    assert office.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_eight_hours_count_from_sign_in_even_if_the_session_was_saved_since(steward):
    from core.middleware import SIGNED_IN_AT

    client = Client()
    client.post("/accounts/login/", {"username": steward.username, "password": PASSWORD})
    session = client.session
    assert abs(session[SIGNED_IN_AT] - timezone.now().timestamp()) < 60
    # Signed in 8 h and 1 s ago, but the session was written a minute ago (its own expiry is
    # far off): still signed out.
    session[SIGNED_IN_AT] -= 8 * 60 * 60 + 1
    session.save()
    row = Session.objects.get(session_key=session.session_key)
    assert row.expire_date > timezone.now() + datetime.timedelta(hours=7)
    answer = client.get("/catalog/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert client.get("/catalog/").status_code == 302


@pytest.mark.django_db
def test_seven_hours_after_sign_in_the_session_still_works(steward):
    from core.middleware import SIGNED_IN_AT

    client = Client()
    client.force_login(steward)
    session = client.session
    session[SIGNED_IN_AT] -= 7 * 60 * 60
    session.save()
    assert client.get("/catalog/").status_code == 200


@pytest.mark.django_db
def test_a_token_call_gets_no_session(steward):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=steward)
    answer = Client().get("/api/v1/resources/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200
    assert "sessionid" not in answer.cookies
    assert Session.objects.count() == 0
