"""Settings from the environment, the import hazard, deny-by-default, and the deploy checks."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from govshare import env

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-deploy-check",
    "ALLOWED_HOSTS": "govshare.example.gov",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/govshare",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args, env_overrides, drop=()):
    drop = {*drop, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_drf_test_module_and_spectacular_import():
    # A top-level package named "requests" would shadow the PyPI library and break both.
    import drf_spectacular.openapi
    import rest_framework.test

    assert hasattr(rest_framework.test, "APIClient")
    assert hasattr(drf_spectacular.openapi, "AutoSchema")
    assert not (ROOT / "requests").exists()
    spec = importlib.util.find_spec("requests")
    # The PyPI library (schemathesis needs it) may be installed in the project's own .venv.
    origin = Path(spec.origin) if spec else None
    assert origin is None or "site-packages" in origin.parts or not origin.is_relative_to(ROOT)


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_manage(
        "check", env_overrides={"DEBUG": "false"}, drop=("SECRET_KEY", "SECRET_KEY_FILE")
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_bad_database_url_names_the_variable():
    result = run_manage("check", env_overrides={"DEBUG": "true", "DATABASE_URL": "mysql://x/y"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


@pytest.fixture
def production_env(tmp_path):
    from ledger.keys import write_new_key

    key = tmp_path / "ledger.key"
    write_new_key(key, "govshare.example.gov/ledger")
    return PRODUCTION_ENV | {"LEDGER_SIGNING_KEY_FILE": str(key)}


def test_production_refuses_to_start_without_the_ledger_key():
    result = run_manage("check", env_overrides=PRODUCTION_ENV, drop=("LEDGER_SIGNING_KEY_FILE",))
    assert result.returncode != 0
    assert "LEDGER_SIGNING_KEY_FILE is required" in result.stderr


def test_deploy_check_passes_with_production_like_variables(production_env):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=production_env
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_about_sqlite_in_production(production_env):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides=production_env | {"DATABASE_URL": "sqlite:////tmp/govshare-check.sqlite3"},
    )
    assert result.returncode != 0
    assert "govshare.W001" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "helper", "args"),
    [
        ("X_FLAG", "maybe", env.env_bool, (False,)),
        ("X_COUNT", "ten", env.env_int, (1,)),
        ("X_MODE", "loud", env.env_choice, ("quiet", {"quiet", "silent"})),
        ("X_BROKER", "kafka://x", env.broker_url, ("filesystem://",)),
        ("X_DB", "postgresql://host", env.database_from_url, ("sqlite:///x",)),
    ],
)
def test_bad_values_raise_improperly_configured_naming_the_variable(
    monkeypatch, name, value, helper, args
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        helper(name, *args)


def test_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_str("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="X_SECRET_FILE"):
        env.env_str("X_SECRET")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/catalog/", "/catalog/1/", "/catalog/new/"])
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path, follow=False)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_anonymous_api_call_gets_json_401(client):
    response = client.get("/api/v1/resources/")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_sign_in_and_sign_out(client, steward):
    from tests.conftest import PASSWORD

    page = client.get(reverse("login"))
    assert b'<label for="id_username">' in page.content
    response = client.post(reverse("login"), {"username": "health_steward", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/catalog/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/catalog/").status_code == 302


@pytest.mark.django_db
def test_wrong_password_shows_an_error_and_signs_nobody_in(client, steward):
    response = client.post(reverse("login"), {"username": "health_steward", "password": "nope"})
    assert response.status_code == 200
    assert b"error-summary" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/resources/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in docs.content
