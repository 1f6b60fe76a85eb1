"""Shared personas and service guards for the whole suite.

Markers ``postgres``, ``redis`` and ``browser`` name what a test needs. Locally a test whose
service is missing is skipped with the reason; under ``CI=true`` it fails instead, so CI can never
go green by skipping.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from catalog import services as catalog_services
from departments import services as department_services
from departments.models import Department, Membership

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery-2026"


def _missing(reason):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_services(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgresql://...")
    if request.node.get_closest_marker("redis"):
        broker = os.environ.get("CELERY_BROKER_URL", "")
        if not broker.startswith("redis"):
            _missing("needs Redis: set CELERY_BROKER_URL=redis://...")
    if request.node.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        _missing(f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")


@pytest.fixture(scope="session", autouse=True)
def _ledger_reset_on_flush():
    """Django's flush (how pytest-django resets the database after a ``transaction=True`` test)
    is one TRUNCATE of every table, which the ledger's triggers refuse on PostgreSQL unless the
    session says ``govshare.ledger_reset = on`` (migration ledger/0003). Only the flush says so,
    for its own transaction (``set_config(..., true)``): every test, and the application, runs
    with the refusal in force."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush_sql = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = flush_sql(self, style, tables, **kwargs)
        if not statements:
            return statements
        return ["SELECT set_config('govshare.ledger_reset', 'on', true)", *statements]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _agreement_gate(request, settings):
    """The data-sharing agreement gate (GRANT_AGREEMENT_REQUIRED, on by default) is off for tests
    that predate agreements: they approve a request and use the grant at once, testing other
    rules (limits, methods, deliveries). Tests marked ``agreement_gate`` keep it on, as
    production does: tests/test_agreements.py proves that every data path refuses an unsigned
    grant and serves it once both departments signed; tests/test_register.py signs its grants.
    """
    if not request.node.get_closest_marker("agreement_gate"):
        settings.GRANT_AGREEMENT_REQUIRED = False


def sign_agreement(grant, *signers):
    """Each signer signs the grant's agreement for the department they act for."""
    from standards.agreements import agreement_sign

    for signer in signers:
        agreement_sign(actor=signer, agreement=grant.agreement)
    grant.refresh_from_db()
    return grant


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.2 s a user; the suite creates hundreds. Not a security setting.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # API throttles count in the (local-memory) cache; no test inherits another's counts.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def release_worker(monkeypatch, django_capture_on_commit_callbacks):
    """Run Celery tasks eagerly, as a worker would, and return a context manager that runs what a
    block queued on commit: ``with release_worker(): client.post(upload_url, ...)``. A web upload
    queues its check and load (catalog.release_uploads); the test's transaction never commits."""
    from govshare.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def artifacts_dir():
    path = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the browser (tests/test_browser*.py) ----------------------------------------------------

# Playwright's sync API runs an asyncio event loop in the test's thread while the browser is open.
# Django sees that running loop and refuses any synchronous ORM call from this thread with
# SynchronousOnlyOperation (e.g. ``released.refresh_from_db()`` after a browser action). Nothing
# here shares a connection with the loop: the ORM runs synchronously in the test thread and the
# live server answers from its own thread, so turning the guard off is safe (see ``page``).

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Only for the browser's lifetime: a module-level setting would leak into other tests.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            pg = context.new_page()
            pg.set_default_timeout(10_000)
            yield pg
        finally:
            browser.close()


# Collects every Content-Security-Policy violation the page reports. Playwright injects this
# before the page's own scripts, from outside the page, so the policy does not block it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def departments(db):
    return {
        code: department_services.department_create(code=code, name=name, kind=kind)
        for code, name, kind in [
            ("OFFICE", "Data Management Office", Department.Kind.OFFICE),
            ("HEALTH", "Health Bureau", Department.Kind.ORDINARY),
            ("CIVIL", "Civil Affairs Bureau", Department.Kind.ORDINARY),
            ("POLICE", "Public Security Bureau", Department.Kind.ORDINARY),
        ]
    }


def make_user(username, department=None, role=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if department is not None:
        department_services.membership_grant(user=user, department=department, role=role)
    return user


@pytest.fixture
def steward(departments):
    """A data steward of HEALTH, the owning department."""
    return make_user("health_steward", departments["HEALTH"], Membership.Role.STEWARD)


@pytest.fixture
def owner_requester(departments):
    """A requester of HEALTH: a member of the owning department without the steward role."""
    return make_user("health_clerk", departments["HEALTH"], Membership.Role.REQUESTER)


@pytest.fixture
def requester(departments):
    return make_user("civil_clerk", departments["CIVIL"], Membership.Role.REQUESTER)


@pytest.fixture
def outsider_steward(departments):
    """A steward of POLICE: a steward, but of an unrelated department."""
    return make_user("police_steward", departments["POLICE"], Membership.Role.STEWARD)


@pytest.fixture
def reviewer(departments):
    return make_user("office", departments["OFFICE"], Membership.Role.REVIEWER)


ITEMS = [
    {"name": "resident_id", "type": "string", "sensitivity": "personal", "required": True},
    {"name": "birth_date", "type": "date", "sensitivity": "personal", "required": True},
    {"name": "dose_number", "type": "integer", "sensitivity": "internal", "required": True},
    {"name": "fee", "type": "decimal", "sensitivity": "internal", "required": False},
    {"name": "adverse_event", "type": "boolean", "sensitivity": "sensitive", "required": False},
]
GOOD_CSV = (
    "resident_id,birth_date,dose_number,fee,adverse_event\n"
    "R001,1980-02-29,1,12.50,false\n"
    "R002,1975-12-01,2,,true\n"
    "R003,2001-07-15,1,0,\n"
)


def resource_data(identifier="HEALTH-VACC-001", **overrides):
    data = {
        "identifier": identifier,
        "title": "Vaccination records",
        "abstract": "Every vaccine dose given in the city's clinics.",
        "classification": "Health / Immunisation",
        "format": "CSV",
        "sharing_type": "conditional",
        "sharing_conditions": "Statutory duties only.",
        "collection_legal_basis": "Vaccine Administration Law, art. 36.",
        "update_cycle": "daily",
    }
    data.update(overrides)
    return data


def csv_upload(text, name="release.csv", encoding="utf-8"):
    raw = text if isinstance(text, bytes) else text.encode(encoding)
    return SimpleUploadedFile(name, raw, content_type="text/csv")


@pytest.fixture
def draft(steward, departments):
    return catalog_services.resource_create(
        actor=steward,
        owner_department=departments["HEALTH"],
        data=resource_data(),
        methods=["periodic_copy", "realtime"],
        items=ITEMS,
    )


@pytest.fixture
def published(draft, steward):
    return catalog_services.resource_publish(actor=steward, resource=draft)


@pytest.fixture
def released(published, steward):
    """A published resource with one accepted release of GOOD_CSV."""
    catalog_services.release_ingest(actor=steward, resource=published, upload=csv_upload(GOOD_CSV))
    published.refresh_from_db()
    return published


@pytest.fixture
def civil_reviewer(departments):
    """A reviewer who sits in CIVIL (not the office): may not decide anything."""
    return make_user("civil_reviewer", departments["CIVIL"], Membership.Role.REVIEWER)


@pytest.fixture
def office_member_from_civil(departments, reviewer):
    """The office reviewer who is also a member of CIVIL: must not decide CIVIL's requests."""
    department_services.membership_grant(
        user=reviewer, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    return reviewer


def request_data(**overrides):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    data = {
        "purpose": "Check vaccination status for school enrolment.",
        "legal_basis_kind": "statute",
        "legal_basis_citation": "Education Law",
        "legal_basis_article": "art. 12",
        "legal_basis_text": "Schools verify immunisation before enrolment.",
        "method": "realtime",
        "frequency": "",
        "valid_from": today,
        "valid_until": today + datetime.timedelta(days=180),
    }
    data.update(overrides)
    return data


REQUEST_ITEMS = [
    {"name": "resident_id", "reason": "To match the pupil."},
    {"name": "dose_number", "reason": "To check the schedule is complete."},
    {"name": "birth_date", "reason": "To confirm identity."},
]


@pytest.fixture
def request_draft(released, requester, departments):
    from access_requests import services as request_services

    return request_services.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(),
        items=REQUEST_ITEMS,
    )


@pytest.fixture
def approved(request_draft, requester, steward, reviewer):
    """The draft request submitted, endorsed by the owner and approved by the office."""
    from access_requests import services as request_services

    request_services.request_submit(actor=requester, request=request_draft)
    request_services.request_endorse(actor=steward, request=request_draft, reason="Lawful.")
    request_services.request_approve(actor=reviewer, request=request_draft)
    return request_draft


@pytest.fixture
def auditor(departments):
    return make_user("auditor", departments["OFFICE"], Membership.Role.AUDITOR)


@pytest.fixture(scope="session")
def _ledger_key_file(tmp_path_factory):
    from ledger.keys import write_new_key

    path = tmp_path_factory.mktemp("ledger") / "signing.key"
    write_new_key(path, "govshare.test/ledger")
    return path


@pytest.fixture(autouse=True)
def _ledger_key(settings, _ledger_key_file):
    settings.LEDGER_SIGNING_KEY_FILE = str(_ledger_key_file)
    settings.LEDGER_ORIGIN = "govshare.test/ledger"
