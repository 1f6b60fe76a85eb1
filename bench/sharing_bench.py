"""Sharing benchmark on PostgreSQL: `make bench` (after the catalog and ledger benchmarks).

Uses the same dedicated database as the other benchmarks (``govshare_bench`` unless
``BENCH_DATABASE_URL`` names another). Generated CSV files and the media of the bench releases and
deliveries live under ``var/bench/sharing`` (``BENCH_DATA_DIR`` to move them). Measures, against a
floor or baseline timed in the same run:

1. ``catalog.services.release_ingest`` of a 1,000,000-row × 20-item CSV (strings, integers,
   decimals, dates, booleans; two lookup keys) against ``COPY ... FROM`` of the same file into a
   plain table of the same column types. The CSV is generated once; the resource (identifier
   ``bench-share-<rows>``) and its release are reused by later runs, which show the ingest figure
   measured when the release was made (``--reingest`` ingests a new release now).
2. ``rights.deliveries.delivery_build`` of 5 of the 20 items (a daily periodic-copy grant made
   through the request workflow) against ``COPY (SELECT the 5 columns ...) TO STDOUT`` into a file,
   and the peak memory of a build of a 100,000-row release against the 1,000,000-row one. Each
   build runs in a subprocess of its own, so its time and memory figures are clean; delivered
   zip files are removed after measuring (the Delivery rows stay).
3. ``rights.access.records_lookup`` and ``rights.access.result_verify`` latency (p50/p95) on the
   1,000,000-row release against the raw indexed SELECT they wrap.

    DEBUG=true .venv/bin/python bench/sharing_bench.py [--rows N] [--small-rows N] [--samples K]
"""

import argparse
import csv
import datetime
import gc
import json
import math
import os
import random
import resource as rlimit
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from types import SimpleNamespace

import benchdb  # bench/ is the script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench"
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR") or ROOT / "var" / "bench" / "sharing")
PLAIN_TABLE = "bench_sharing_plain"  # the floor: the same CSV in a plain typed table
TIMINGS_TABLE = "bench_sharing_ingest"  # ingest figures, so later runs can show them
CSV_VERSION = 1  # bump when the generated columns change
SEED = 20_260_103
WARMUP = 20

OWNER = ("POPULATION_REGISTRY", "Population Registry")
GRANTEE = ("SCHOOL_ADMISSIONS", "School Admissions Service")
OFFICE = ("OFFICE", "Data Management Office")

# The 20 data items: (name, type, sensitivity, required, lookup_key, description).
ITEMS = [
    ("resident_id", "string", "personal", True, True, "Resident number"),
    ("household_id", "integer", "personal", True, True, "Household number"),
    ("full_name", "string", "personal", True, False, "Full name"),
    ("sex", "string", "personal", True, False, "Sex as registered"),
    ("birth_date", "date", "personal", True, False, "Date of birth"),
    ("district_code", "string", "internal", True, False, "Administrative division code"),
    ("street_address", "string", "personal", True, False, "Street address"),
    ("postcode", "string", "internal", True, False, "Postal code"),
    ("phone", "string", "personal", False, False, "Contact telephone number"),
    ("registered_on", "date", "internal", True, False, "Date of registration"),
    ("employer_code", "string", "internal", False, False, "Employer's unified social credit code"),
    ("monthly_income", "decimal", "sensitive", True, False, "Declared monthly income"),
    ("benefit_amount", "decimal", "sensitive", False, False, "Monthly benefit paid"),
    ("household_size", "integer", "internal", True, False, "Persons in the household"),
    ("dependants", "integer", "internal", True, False, "Dependants declared"),
    ("is_insured", "boolean", "internal", True, False, "Covered by health insurance"),
    ("is_disabled", "boolean", "sensitive", True, False, "Registered disability"),
    ("last_visit", "date", "internal", False, False, "Last visit to a service counter"),
    ("status", "string", "internal", True, False, "Registration status"),
    ("risk_score", "decimal", "internal", True, False, "Case-management priority score"),
]
ITEM_NAMES = [name for name, *_rest in ITEMS]
DELIVERY_FIELDS = ["resident_id", "birth_date", "district_code", "monthly_income", "is_insured"]
REALTIME_FIELDS = ["resident_id", "household_id", "full_name", "birth_date", "district_code"]
VERIFY_FIELDS = ["resident_id", "birth_date", "is_insured"]

GIVEN = [
    "Wei", "Fang", "Min", "Jing", "Li", "Na", "Qiang", "Lei", "Jun", "Yan", "Hui", "Ping", "Gang",
    "Xin", "Hong", "Yu", "Bo", "Lan", "Tao", "Ying", "Chen", "Hao", "Jie", "Mei", "Rui", "Xia",
    "Yun", "Peng", "Kai", "Ning", "Ting", "Hua", "Shan", "Bin", "Qing", "Long", "Zhen", "Jian",
    "Yi", "Lu",
]  # fmt: skip
FAMILY = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang",
    "Han", "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai",
    "Jiang", "Yu", "Du",
]  # fmt: skip
STREETS = [
    "Garden Road", "Harbour Street", "Station Avenue", "Riverside Lane", "Market Street",
    "Temple Road", "Park Avenue", "Hill Street", "Bridge Road", "Lake View", "Orchard Lane",
    "Mill Street", "Church Road", "North Ring Road", "East Gate Street", "Willow Lane",
    "Pine Road", "Canal Street", "Spring Avenue", "Silk Road",
]  # fmt: skip
STATUSES = ["registered"] * 8 + ["moved_out", "deceased", "suspended", "pending"]


def fail(message, code=1):
    print(f"sharing_bench: {message}", file=sys.stderr)
    sys.exit(code)


# --- Database and Django set-up ---


def ensure_database(url):
    benchdb.ensure_database(url, fail)


def setup_django(url, key_dir=None):
    """Point the settings at the bench database, the bench media folder and (in the main process)
    a fresh ledger signing key, then set Django up. Subprocesses inherit the environment."""
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = str(DATA_DIR / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    if key_dir is not None:
        from ledger.keys import write_new_key

        key_file = Path(key_dir) / "sharing-bench.key"
        write_new_key(key_file, os.environ.get("LEDGER_ORIGIN") or "govshare.local/ledger")
        os.environ["LEDGER_SIGNING_KEY_FILE"] = str(key_file)  # the settings check it exists
    import django

    django.setup()

    from django.conf import settings

    # Measure what production runs: DEBUG=true (needed for the settings without SECRET_KEY etc.)
    # would otherwise wrap every query in Django's debug cursor, which times and logs it.
    settings.DEBUG = False


# --- Generated data ---


def resident_id(row, offset):
    """Unique per row: multiplying by a number prime to 10 permutes the residues mod 10**11."""
    return f"R{(row * 48_271_000_003 + offset) % 10**11:011d}"


def household_id(row):
    return 10_000_000 + (row // 3 * 7_919) % 10**7  # about three residents per household


BIRTH_BASE = datetime.date(1935, 1, 1)
BIRTH_SPAN = 32_000  # days: births 1935-2022


def birth_date(row):
    return BIRTH_BASE + datetime.timedelta(days=row * 104_729 % BIRTH_SPAN)


def csv_path(rows):
    return DATA_DIR / f"residents-v{CSV_VERSION}-{rows}.csv"


def id_offset(rows):
    return rows * 7 + 12_345  # a different set of resident numbers per release size


def _money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def generate_csv(rows):
    """Write the release CSV for ``rows`` rows once (a temporary name, renamed when complete)."""
    path = csv_path(rows)
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rng = random.Random(SEED + rows)
    births = [(BIRTH_BASE + datetime.timedelta(days=d)).isoformat() for d in range(BIRTH_SPAN)]
    recent = [
        (datetime.date(2000, 1, 1) + datetime.timedelta(days=d)).isoformat() for d in range(9_000)
    ]
    districts = [f"44{rng.randrange(10_000):04d}" for _ in range(60)]
    employers = [
        "91" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))
        for _ in range(5_000)
    ]
    offset = id_offset(rows)
    choice, randrange, random_ = rng.choice, rng.randrange, rng.random
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ITEM_NAMES)
        batch = []
        for row in range(rows):
            district = choice(districts)
            batch.append(
                (
                    resident_id(row, offset),
                    household_id(row),
                    f"{choice(FAMILY)} {choice(GIVEN)}",
                    "F" if random_() < 0.5 else "M",
                    births[row * 104_729 % BIRTH_SPAN],
                    district,
                    f"{randrange(1, 1000)} {choice(STREETS)}",
                    district[:4] + "00",
                    "" if random_() < 0.1 else f"1{randrange(10**10):010d}",
                    choice(recent),
                    "" if random_() < 0.3 else choice(employers),
                    _money(randrange(0, 5_000_000)),
                    "" if random_() < 0.6 else _money(randrange(10_000, 300_000)),
                    randrange(1, 9),
                    randrange(0, 5),
                    "true" if random_() < 0.93 else "false",
                    "true" if random_() < 0.04 else "false",
                    "" if random_() < 0.25 else choice(recent),
                    choice(STATUSES),
                    _money(randrange(0, 10_000)),
                )
            )
            if len(batch) == 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    temporary.rename(path)
    return path, time.perf_counter() - started


# --- People, resources, releases ---


def ensure_people():
    """Office, owner and grantee departments, and a steward, a requester and a reviewer, all made
    through rights.services (idempotent)."""
    from django.contrib.auth import get_user_model

    from departments import services as department_services
    from departments.models import Department, Membership

    user_model = get_user_model()

    def department(code, name, kind):
        found = Department.objects.filter(code=code).first()
        return found or department_services.department_create(code=code, name=name, kind=kind)

    def user(username, dept, role):
        found, created = user_model.objects.get_or_create(username=username)
        if created:
            found.set_unusable_password()
            found.save(update_fields=["password"])
        department_services.membership_grant(user=found, department=dept, role=role)
        return user_model.objects.get(pk=found.pk)  # no cached roles or permissions

    office = department(*OFFICE, Department.Kind.OFFICE)
    owner = department(*OWNER, Department.Kind.ORDINARY)
    grantee = department(*GRANTEE, Department.Kind.ORDINARY)
    return SimpleNamespace(
        office=office,
        owner=owner,
        grantee=grantee,
        steward=user("share_steward", owner, Membership.Role.STEWARD),
        requester=user("share_requester", grantee, Membership.Role.REQUESTER),
        reviewer=user("share_reviewer", office, Membership.Role.REVIEWER),
    )


def ensure_resource(people, rows):
    """The published resource ``bench-share-<rows>`` with the 20 items, created if missing."""
    from catalog import services as catalog_services
    from catalog.models import Resource

    identifier = f"bench-share-{rows}"
    resource = Resource.objects.filter(identifier=identifier).first()
    if resource is None:
        resource = catalog_services.resource_create(
            actor=people.steward,
            owner_department=people.owner,
            data={
                "identifier": identifier,
                "title": f"Resident register extract ({rows:,} rows, sharing benchmark)",
                "abstract": "Residents with household, address, income and insurance status.",
                "classification": "Population / Register",
                "management_right_holder": people.office,
                "format": "CSV",
                "sharing_type": "conditional",
                "sharing_conditions": "Statutory duties of the requesting department only.",
                "collection_legal_basis": "Resident Registration Regulations, art. 5.",
                "update_cycle": "daily",
            },
            methods=["periodic_copy", "realtime", "result_only"],
            items=[
                {
                    "name": name,
                    "type": type_,
                    "sensitivity": sensitivity,
                    "required": required,
                    "lookup_key": lookup_key,
                    "description": description,
                }
                for name, type_, sensitivity, required, lookup_key, description in ITEMS
            ],
        )
    if resource.status == Resource.Status.DRAFT:
        resource = catalog_services.resource_publish(actor=people.steward, resource=resource)
    names = list(resource.data_items.order_by("position").values_list("name", flat=True))
    if names != ITEM_NAMES:
        fail(f"{identifier} exists with other data items ({names}); use another database")
    return resource


def ensure_timings_table():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TIMINGS_TABLE} ("
            "release_id bigint PRIMARY KEY, rows bigint NOT NULL, seconds double precision NOT "
            "NULL, parts jsonb NOT NULL, measured_at timestamptz NOT NULL DEFAULT now())"
        )


class StepTimer:
    """Times named app functions while they run (one wrapper call each: no measurable cost)."""

    def __init__(self):
        self.seconds = {}
        self._restore = []

    def wrap(self, module, name, label):
        original = getattr(module, name)

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0) + time.perf_counter() - began

        setattr(module, name, timed)
        self._restore.append((module, name, original))

    def restore(self):
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)
        self._restore.clear()


def ensure_release(people, resource, rows, path, reingest):
    """The newest release of ``resource``, ingested now through release_ingest if there is none
    (or ``reingest``). Returns (release, timing dict or None, ingested now?)."""
    from django.core.files import File
    from django.db import connection

    from catalog import release_store
    from catalog import services as catalog_services

    release = resource.releases.order_by("-sequence").first()
    if release is not None and not reingest:
        if release.row_count != rows:
            fail(f"{resource.identifier} release {release.sequence} has {release.row_count} rows")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seconds, parts, measured_at FROM {TIMINGS_TABLE} WHERE release_id = %s",  # noqa: S608
                [release.pk],
            )
            found = cursor.fetchone()
        timing = None
        if found:
            parts = json.loads(found[1]) if isinstance(found[1], str) else found[1]  # Django: text
            timing = {"seconds": found[0], "parts": parts, "measured_at": found[2]}
        return release, timing, False
    print(f"ingesting {path.name} ({path.stat().st_size / 1e6:,.0f} MB) ...", flush=True)
    steps = StepTimer()
    steps.wrap(release_store, "load_release", "load_release")
    steps.wrap(release_store, "create_indexes", "create_indexes")
    try:
        with open(path, "rb") as handle:
            upload = File(handle, name=path.name)
            began = time.perf_counter()
            release = catalog_services.release_ingest(
                actor=people.steward, resource=resource, upload=upload
            )
            seconds = time.perf_counter() - began
    finally:
        steps.restore()
    if release.row_count != rows:
        fail(f"release_ingest stored {release.row_count} rows, expected {rows}")
    parts = dict(steps.seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TIMINGS_TABLE} (release_id, rows, seconds, parts) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            [release.pk, rows, seconds, json.dumps(parts)],
        )
    print(f"  release {release.sequence} in {seconds:.1f} s ({parts})", flush=True)
    return release, {"seconds": seconds, "parts": parts, "measured_at": None}, True


# --- Floors: plain COPY ---


def copy_in_floor(path):
    """COPY the CSV into a fresh plain table of the same column types; then the same indexes.
    Returns (copy seconds, index seconds)."""
    from django.db import connection

    from catalog.release_store import POSTGRES_TYPES

    columns = ", ".join(f"{name} {POSTGRES_TYPES[type_]}" for name, type_, *_rest in ITEMS)
    keys = [name for name, _t, _s, _r, lookup_key, _d in ITEMS if lookup_key]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        began = time.perf_counter()
        cursor.execute(f"CREATE TABLE {PLAIN_TABLE} ({columns})")
        copy_sql = f"COPY {PLAIN_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(copy_sql) as copy, open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        copied = time.perf_counter() - began
        began = time.perf_counter()
        for key in keys:
            cursor.execute(f"CREATE INDEX {PLAIN_TABLE}_{key} ON {PLAIN_TABLE} ({key})")
        indexed = time.perf_counter() - began
        cursor.execute(f"VACUUM (ANALYZE) {PLAIN_TABLE}")  # untimed: hint bits, statistics
    return copied, indexed


def copy_out(query, target):
    """Run ``COPY (query) TO STDOUT`` as CSV into the file ``target``; returns (seconds, bytes)."""
    from django.db import connection

    size = 0
    with connection.cursor() as cursor, open(target, "wb") as handle:
        began = time.perf_counter()
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as cp:
            for chunk in cp:
                handle.write(chunk)
                size += len(chunk)
        seconds = time.perf_counter() - began
    return seconds, size


def warm(table):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own names
        return cursor.fetchone()[0]


# --- Grants through the request workflow ---


def make_grant(people, resource, method, fields, max_calls_per_day=None):
    from django.utils import timezone

    from access_requests import services as request_services
    from rights.models import Grant

    today = timezone.localdate()
    request = request_services.request_create(
        actor=people.requester,
        department=people.grantee,
        resource=resource,
        data={
            "purpose": "Check residence and insurance for school admissions.",
            "legal_basis_kind": "statute",
            "legal_basis_citation": "Education Law",
            "legal_basis_article": "art. 12",
            "legal_basis_text": "Schools verify residence before admission.",
            "method": method,
            "frequency": "daily" if method == "periodic_copy" else "",
            "valid_from": today,
            "valid_until": today + datetime.timedelta(days=180),
        },
        items=[{"name": name, "reason": f"{name} is needed for the check."} for name in fields],
    )
    request_services.request_submit(actor=people.requester, request=request)
    request_services.request_endorse(actor=people.steward, request=request)
    request_services.request_approve(
        actor=people.reviewer, request=request, max_calls_per_day=max_calls_per_day
    )
    return Grant.objects.get(request=request)


# --- Deliveries, each in a subprocess ---


def _proc_status(field):
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    return None


def _reset_peak_rss():
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def child_delivery(delivery_id, mode):
    """Subprocess: build one delivery and print its time and memory as one JSON line."""
    url = os.environ["DATABASE_URL"]
    setup_django(url)
    from django.db import connection

    from sharing.deliveries import delivery_build
    from sharing.models import Delivery

    Delivery.objects.filter(pk=delivery_id).exists()  # connect and warm the ORM first
    connection.ensure_connection()
    gc.collect()
    rss_before = _proc_status("VmRSS")
    reset = _reset_peak_rss()
    maxrss_before = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss * 1024
    if mode == "tracemalloc":
        tracemalloc.start()
    began = time.perf_counter()
    delivery = delivery_build(delivery_id)
    seconds = time.perf_counter() - began
    traced_peak = None
    if mode == "tracemalloc":
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    hwm = _proc_status("VmHWM")
    maxrss_after = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss * 1024
    result = {
        "status": delivery.status,
        "error": delivery.error,
        "rows": delivery.row_count,
        "size_bytes": delivery.size_bytes,
        "file": delivery.file.name,
        "seconds": seconds,
        "rss_before": rss_before,
        "rss_growth": (hwm - rss_before) if reset and hwm else None,
        "maxrss_growth": maxrss_after - maxrss_before,
        "traced_peak": traced_peak,
    }
    print("RESULT " + json.dumps(result), flush=True)


def run_delivery(grant, mode):
    """A fresh Delivery row for ``grant``, built by a subprocess; returns its figures."""
    from django.conf import settings

    from sharing.models import Delivery

    delivery = Delivery.objects.create(grant=grant, period_key=f"bench-{uuid.uuid4().hex}")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-delivery",
        str(delivery.pk),
        "--child-mode",
        mode,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())  # noqa: S603
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        fail(
            f"delivery {delivery.pk} subprocess failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result = json.loads(lines[-1][len("RESULT ") :])
    if result["status"] != Delivery.Status.SUCCEEDED:
        fail(f"delivery {delivery.pk} is {result['status']}: {result['error']}")
    if result["file"]:
        (Path(settings.MEDIA_ROOT) / result["file"]).unlink(missing_ok=True)  # bench media only
    return result


# --- Lookups ---


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def timed(function, argument_lists, warmup=WARMUP):
    """p50/p95 in ms of ``function(*arguments)`` over the argument lists (after a warm-up)."""
    for arguments in argument_lists[:warmup]:
        function(*arguments)
    seconds, results = [], []
    for arguments in argument_lists:
        began = time.perf_counter()
        results.append(function(*arguments))
        seconds.append(time.perf_counter() - began)
    ms = [s * 1000 for s in seconds]
    return {"p50": statistics.median(ms), "p95": p95(ms), "n": len(ms)}, results


def queries_per_call(function, arguments):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function(*arguments)
    return len(captured.captured_queries)


def backlog_target(grant):
    return f"grant {grant.pk} records (bench backlog)"


def drop_busy_day(grant, calls):
    """Remove the rows log_busy_day made and take its calls off the counter (bench rows only; the
    timed calls' own rows stay)."""
    from django.db.models import F

    from audit.models import AccessLog
    from rights.models import GrantUsage

    AccessLog.objects.filter(grant=grant, target=backlog_target(grant)).delete()
    GrantUsage.objects.filter(grant=grant, action="records").update(
        calls=F("calls") - calls, records=F("records") - calls
    )


def sql_share(function, argument_lists):
    """Median wall time of a call and median time inside its database round trips, in ms."""
    from django.db import connection

    inside = [0.0]

    def wrapper(execute, sql_text, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            inside[0] += time.perf_counter() - began

    totals, database = [], []
    with connection.execute_wrapper(wrapper):
        for arguments in argument_lists:
            inside[0] = 0.0
            began = time.perf_counter()
            function(*arguments)
            totals.append((time.perf_counter() - began) * 1000)
            database.append(inside[0] * 1000)
    return statistics.median(totals), statistics.median(database)


def log_busy_day(grant, user, calls):
    """Bench only: ``calls`` allowed real-time calls logged today for ``grant`` (one INSERT) and
    counted in its usage row."""
    from django.db import connection

    from audit.models import AccessLog

    meta = AccessLog._meta
    column = {f.name: f.column for f in meta.concrete_fields}
    names = [
        "at",
        "user",
        "department",
        "action",
        "grant",
        "target",
        "detail",
        "records",
        "remote_addr",
        "outcome",
    ]
    benchdb.check_columns(AccessLog, [column[n] for n in names], fail)
    columns = ", ".join(connection.ops.quote_name(column[n]) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({columns}) "  # noqa: S608 - names from the model
            "SELECT now() - (g || ' milliseconds')::interval, %s, %s, 'records', %s, %s, "
            "'{}'::jsonb, 1, '127.0.0.1', %s FROM generate_series(1, %s) AS g",
            [
                user.pk,
                grant.grantee_department_id,
                grant.pk,
                backlog_target(grant),
                AccessLog.Outcome.ALLOWED,
                calls,
            ],
        )
        cursor.execute(f"ANALYZE {meta.db_table}")
    # ... and counted, as the service counts each call it serves.
    from django.db.models import F
    from django.utils import timezone

    from rights.models import GrantUsage

    usage, _made = GrantUsage.objects.get_or_create(
        grant=grant, day=timezone.localdate(), action="records"
    )
    GrantUsage.objects.filter(pk=usage.pk).update(
        calls=F("calls") + calls, records=F("records") + calls
    )


def measure_lookups(people, grants, release, rows, samples, busy_calls):
    from django.db import connection

    from sharing import access

    http_request = SimpleNamespace(user=people.requester, META={"REMOTE_ADDR": "127.0.0.1"})
    rng = random.Random(SEED)
    offset = id_offset(rows)
    picked = [rng.randrange(rows) for _ in range(samples)]
    ids = [resident_id(r, offset) for r in picked]
    households = [str(household_id(r)) for r in picked]
    table = release.table_name
    quote = connection.ops.quote_name
    realtime_columns = ", ".join(quote(n) for n in REALTIME_FIELDS)
    results = {}

    def raw_select(column, value):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {realtime_columns} FROM {quote(table)} WHERE {quote(column)} = %s",  # noqa: S608
                [value],
            )
            return cursor.fetchall()

    def lookup(grant, column, value):
        return access.records_lookup(
            user=people.requester,
            grant=grant,
            filters={column: value},
            page=1,
            page_size=50,
            http_request=http_request,
        )

    realtime = grants["realtime"]
    results["raw_id"], found = timed(raw_select, [("resident_id", v) for v in ids])
    if any(len(f) != 1 for f in found):
        fail("a generated resident_id did not match exactly one row")
    results["lookup_id"], found = timed(lookup, [(realtime, "resident_id", v) for v in ids])
    if any(count != 1 for count, _rows in found):
        fail("records_lookup did not find exactly one row per resident_id")
    results["raw_household"], _ = timed(raw_select, [("household_id", int(v)) for v in households])
    results["lookup_household"], found = timed(
        lookup, [(realtime, "household_id", v) for v in households]
    )
    results["lookup_household_rows"] = statistics.mean(count for count, _rows in found)
    results["lookup_queries"] = queries_per_call(lookup, (realtime, "resident_id", ids[0]))
    results["lookup_sql_share"] = sql_share(
        lookup, [(realtime, "resident_id", v) for v in ids[: max(WARMUP, samples // 5)]]
    )

    # Result-only: half the checks name the true birth date, half a wrong one.
    verify = grants["result_only"]
    checks = []
    for i, (row, value) in enumerate(zip(picked, ids, strict=True)):
        born = birth_date(row)
        if i % 2:
            born += datetime.timedelta(days=1)
        checks.append((value, born.isoformat(), i % 2 == 0))

    def raw_exists(value, born):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote(table)} "  # noqa: S608
                "WHERE resident_id = %s AND birth_date = %s)",
                [value, datetime.date.fromisoformat(born)],
            )
            return cursor.fetchone()[0]

    def check(value, born):
        return access.result_verify(
            user=people.requester,
            grant=verify,
            match={"resident_id": value},
            check={"birth_date": born},
            http_request=http_request,
        )

    results["raw_exists"], answers = timed(raw_exists, [(v, b) for v, b, _want in checks])
    if answers != [want for _v, _b, want in checks]:
        fail("the raw EXISTS baseline gave unexpected answers")
    results["verify"], answers = timed(check, [(v, b) for v, b, _want in checks])
    if answers != [want for _v, _b, want in checks]:
        fail("result_verify gave unexpected answers")
    results["verify_queries"] = queries_per_call(check, checks[0][:2])

    # The same lookup on a grant that has already served ``busy_calls`` calls today.
    if busy_calls:
        busy = grants["busy"]
        log_busy_day(busy, people.requester, busy_calls)
        share = ids[: max(WARMUP + 1, samples // 2)]
        try:
            results["lookup_busy"], _ = timed(lookup, [(busy, "resident_id", v) for v in share])
        finally:
            drop_busy_day(busy, busy_calls)
    return results


# --- Report ---


def machine_context():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        context = {"pg": cursor.fetchone()[0]}
        for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            context[name] = cursor.fetchone()[0]
    return context


def table_size(table):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
        return cursor.fetchone()[0]


def best_of(results):
    """The fastest run's time; the largest memory figures of all runs."""
    best = dict(min(results, key=lambda r: r["seconds"]))
    for key in ("rss_growth", "maxrss_growth", "traced_peak", "rss_before"):
        values = [r[key] for r in results if r[key] is not None]
        best[key] = max(values) if values else None
    return best


def mb(value):
    return "—" if value is None else f"{value / 2**20:,.1f}"


def ratio(value, base):
    return f"{value / base:.2f}×" if base else "—"


def verdict(ok):
    return "met" if ok else "**missed**"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="large release (1000000)")
    parser.add_argument("--small-rows", type=int, default=100_000, help="small release (100000)")
    parser.add_argument("--samples", type=int, default=500, help="timed lookups each (500)")
    parser.add_argument(
        "--busy-calls", type=int, default=100_000, help="calls logged on the busy grant (100000)"
    )
    parser.add_argument("--reingest", action="store_true", help="ingest new releases this run")
    parser.add_argument(
        "--delivery-runs", type=int, default=2, help="timed builds and floors each, best kept (2)"
    )
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the tracemalloc delivery runs"
    )
    parser.add_argument("--child-delivery", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", default="rss", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_delivery:
        child_delivery(args.child_delivery, args.child_mode)
        return
    if min(args.rows, args.small_rows, args.samples) <= WARMUP or args.busy_calls < 0:
        fail(f"--rows, --small-rows and --samples must exceed {WARMUP}", 2)
    if args.delivery_runs < 1:
        fail("--delivery-runs must be positive", 2)
    if os.environ.get("DEBUG", "").strip().lower() not in {"1", "true", "yes", "on"}:
        fail("run with DEBUG=true (as `make bench` does)", 2)
    began = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="sharing-bench-") as key_dir:
        setup_django(url, key_dir)
        run(args, began)


def run(args, began):
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        fail(f"expected PostgreSQL, got {connection.vendor}", 2)
    call_command("migrate", interactive=False, verbosity=0)
    ensure_timings_table()
    people = ensure_people()

    # 1. CSV files (once), resources and releases (once), the COPY floor (every run).
    generated = {}
    paths = {}
    for rows in (args.rows, args.small_rows):
        if not csv_path(rows).exists():
            print(f"generating {rows:,} rows ...", flush=True)
        paths[rows], generated[rows] = generate_csv(rows)
        size = paths[rows].stat().st_size
        if size > settings.RELEASE_MAX_BYTES:
            fail(f"{paths[rows]} is {size:,} bytes, over RELEASE_MAX_BYTES")
    releases, ingests, ingested_now = {}, {}, {}
    for rows in (args.rows, args.small_rows):
        resource = ensure_resource(people, rows)
        releases[rows], ingests[rows], ingested_now[rows] = ensure_release(
            people, resource, rows, paths[rows], args.reingest
        )
    large, small = releases[args.rows], releases[args.small_rows]
    print("COPY FROM into the plain table ...", flush=True)
    copy_in, index_seconds = copy_in_floor(paths[args.rows])

    # 2. Deliveries: grants through the workflow, floors, then each build in a subprocess.
    print("grants through the request workflow ...", flush=True)
    grants = {
        "copy_large": make_grant(people, large.resource, "periodic_copy", DELIVERY_FIELDS),
        "copy_small": make_grant(people, small.resource, "periodic_copy", DELIVERY_FIELDS),
        "realtime": make_grant(people, large.resource, "realtime", REALTIME_FIELDS),
        "result_only": make_grant(
            people, large.resource, "result_only", VERIFY_FIELDS, max_calls_per_day=10**9
        ),
        "busy": make_grant(
            people, large.resource, "realtime", REALTIME_FIELDS, max_calls_per_day=10**9
        ),
    }
    for table in (PLAIN_TABLE, large.table_name, small.table_name):
        warm(table)  # hint bits set and pages cached before anything is timed
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in DELIVERY_FIELDS)
    scratch = DATA_DIR / "copy-out.csv"
    print("COPY TO floors ...", flush=True)
    release_table = quote(large.table_name)
    floors = {"plain": [], "release": []}
    for _run in range(args.delivery_runs):
        seconds, floor_bytes = copy_out(f"SELECT {columns} FROM {PLAIN_TABLE}", scratch)  # noqa: S608
        floors["plain"].append(seconds)
        floors["release"].append(
            copy_out(f"SELECT {columns} FROM {release_table}", scratch)[0]  # noqa: S608
        )
    floor_plain, floor_release = min(floors["plain"]), min(floors["release"])
    scratch.unlink(missing_ok=True)
    print("delivery_build in subprocesses ...", flush=True)
    modes = ["rss"] * args.delivery_runs + ([] if args.no_tracemalloc else ["tracemalloc"])
    built = {}
    for mode in modes:
        for case, grant, want in (
            ("small", grants["copy_small"], args.small_rows),
            ("large", grants["copy_large"], args.rows),
        ):
            result = run_delivery(grant, mode)
            if result["rows"] != want:
                fail(f"the {case} delivery ({mode}) holds {result['rows']} rows, expected {want}")
            print(
                f"  {case}, {mode}: {result['seconds']:.2f} s, RSS growth "
                f"{mb(result['rss_growth'])} MiB, tracemalloc peak {mb(result['traced_peak'])} MiB",
                flush=True,
            )
            built.setdefault((case, mode), []).append(result)

    # 3. Lookups.
    print("lookups ...", flush=True)
    looked = measure_lookups(people, grants, large, args.rows, args.samples, args.busy_calls)

    # --- The table ---
    context = machine_context()
    out = []

    def row(figure, value, unit, versus="", target=""):
        out.append((figure, value, unit, versus, target))

    n, s = f"{args.rows:,}", f"{args.small_rows:,}"
    ingest_large = ingests[args.rows]
    row(
        f"COPY FROM of the CSV into a plain typed table, {n} rows (floor)",
        f"{copy_in:.1f}",
        "s",
        "1.00×",
    )
    row(
        "  + the same 2 lookup-key indexes (floor with indexes)",
        f"{copy_in + index_seconds:.1f}",
        "s",
        ratio(copy_in + index_seconds, copy_in),
    )
    if ingest_large:
        when = (
            "this run"
            if ingested_now[args.rows]
            else f"measured {ingest_large['measured_at']:%Y-%m-%d %H:%M} UTC, earlier run"
        )
        seconds = ingest_large["seconds"]
        row(
            f"release_ingest, {n} rows × 20 items ({when})",
            f"{seconds:.1f}",
            "s",
            f"{ratio(seconds, copy_in)} floor; {ratio(seconds, copy_in + index_seconds)} "
            "floor with indexes",
            f"≤ 3× floor: {verdict(seconds <= 3 * copy_in)}",
        )
        parts = ingest_large["parts"]
        accounted = sum(parts.values())
        for label, key in (
            (
                "    validate(): separate pass (releases ingested before the one-pass load)",
                "validate",
            ),
            (
                "    load_rows(): parse every cell + COPY (releases before the COPY-text load)",
                "load_rows",
            ),
            ("    load_release(): read, check each row, write COPY text + COPY", "load_release"),
            ("    create_indexes(): the 2 lookup keys", "create_indexes"),
        ):
            if key in parts:
                row(label, f"{parts[key]:.1f}", "s", f"{parts[key] / seconds:.0%} of the ingest")
        row(
            "    rest: file copy into storage, release row, ledger, commit",
            f"{seconds - accounted:.1f}",
            "s",
            f"{(seconds - accounted) / seconds:.0%} of the ingest",
        )
    else:
        row(f"release_ingest, {n} rows", "—", "", "reused a release with no recorded figure")
    ingest_small = ingests[args.small_rows]
    if ingest_small:
        row(
            f"release_ingest, {s} rows × 20 items",
            f"{ingest_small['seconds']:.1f}",
            "s",
            f"{ingest_small['seconds'] / args.small_rows * 1e6:.0f} µs/row"
            + (
                f" (vs {ingest_large['seconds'] / args.rows * 1e6:.0f} µs/row at {n})"
                if ingest_large
                else ""
            ),
        )
    row(
        f"COPY TO a file: the 5 columns of the plain table, {n} rows (floor)",
        f"{floor_plain:.2f}",
        "s",
        "1.00×",
    )
    row(
        "COPY TO a file: the 5 columns of the release's own table",
        f"{floor_release:.2f}",
        "s",
        ratio(floor_release, floor_plain) + " floor",
    )
    large_rss, small_rss = (best_of(built[case, "rss"]) for case in ("large", "small"))
    seconds = large_rss["seconds"]
    row(
        f"delivery_build, {n} rows × 5 items (stored zip of data.csv + manifest, "
        f"{floor_bytes / 2**20:,.0f} MiB of CSV hashed)",
        f"{seconds:.2f}",
        "s",
        f"{ratio(seconds, floor_plain)} floor; {ratio(seconds, floor_release)} release-table COPY",
        f"≤ 1.5× floor: {verdict(seconds <= 1.5 * floor_plain)}",
    )
    row(
        f"delivery_build, {s} rows × 5 items",
        f"{small_rss['seconds']:.2f}",
        "s",
        f"{small_rss['seconds'] / args.small_rows * 1e6:.1f} µs/row "
        f"(vs {seconds / args.rows * 1e6:.1f} µs/row at {n})",
    )
    flat_limit = 8 * 2**20  # growth may differ by allocator noise, not by the row count
    rss_flat = None
    if large_rss["rss_growth"] is not None and small_rss["rss_growth"] is not None:
        rss_flat = large_rss["rss_growth"] - small_rss["rss_growth"] <= flat_limit
    row(
        f"peak RSS growth during delivery_build, {s} / {n} rows",
        f"{mb(small_rss['rss_growth'])} / {mb(large_rss['rss_growth'])}",
        "MiB",
        f"RSS before the build {mb(small_rss['rss_before'])} / {mb(large_rss['rss_before'])} MiB; "
        f"ru_maxrss delta {mb(small_rss['maxrss_growth'])} / {mb(large_rss['maxrss_growth'])}",
        "flat: " + ("—" if rss_flat is None else verdict(rss_flat)),
    )
    if not args.no_tracemalloc:
        small_tm, large_tm = (best_of(built[case, "tracemalloc"]) for case in ("small", "large"))
        traced_flat = large_tm["traced_peak"] - small_tm["traced_peak"] <= flat_limit
        row(
            f"tracemalloc peak during delivery_build, {s} / {n} rows",
            f"{mb(small_tm['traced_peak'])} / {mb(large_tm['traced_peak'])}",
            "MiB",
            f"separate runs (tracing slows them: {small_tm['seconds']:.1f} / "
            f"{large_tm['seconds']:.1f} s)",
            f"flat: {verdict(traced_flat)}",
        )

    def latency(figure, stats, base=None, target=True):
        versus = (
            "1.00×"
            if base is None
            else f"{ratio(stats['p50'], base['p50'])} p50, {ratio(stats['p95'], base['p95'])} p95"
        )
        row(
            figure,
            f"{stats['p50']:.2f} / {stats['p95']:.2f}",
            "ms p50 / p95",
            versus,
            f"p95 < 10 ms: {verdict(stats['p95'] < 10)}" if target else "",
        )

    k = args.samples
    latency(
        f"raw indexed SELECT of 5 columns WHERE resident_id = … ({k} random ids; baseline)",
        looked["raw_id"],
        target=False,
    )
    latency(
        f"records_lookup, filter resident_id ({looked['lookup_queries']} queries a call)",
        looked["lookup_id"],
        looked["raw_id"],
    )
    total_ms, sql_ms = looked["lookup_sql_share"]
    row(
        "  of which inside database round trips (median of a call, execute_wrapper)",
        f"{sql_ms:.2f} of {total_ms:.2f}",
        "ms",
        f"{sql_ms / total_ms:.0%} SQL, {1 - sql_ms / total_ms:.0%} Python (ORM, permissions)",
    )
    latency(
        "raw indexed SELECT WHERE household_id = … (integer key; baseline)",
        looked["raw_household"],
        target=False,
    )
    latency(
        f"records_lookup, filter household_id ({looked['lookup_household_rows']:.1f} rows a call)",
        looked["lookup_household"],
        looked["raw_household"],
    )
    latency(
        "raw SELECT EXISTS (… resident_id = … AND birth_date = …) (baseline)",
        looked["raw_exists"],
        target=False,
    )
    latency(
        f"result_verify, match resident_id, check birth_date ({looked['verify_queries']} queries"
        " a call; half true, half false)",
        looked["verify"],
        looked["raw_exists"],
    )
    if "lookup_busy" in looked:
        latency(
            f"records_lookup on a limited grant with {args.busy_calls:,} calls already made today",
            looked["lookup_busy"],
            looked["raw_id"],
        )

    total = time.perf_counter() - began
    print("\n## Sharing benchmark\n")
    print(
        f"- machine: {len(os.sched_getaffinity(0))} CPUs (nproc), PostgreSQL {context['pg']} "
        f"(shared_buffers {context['shared_buffers']}, work_mem {context['work_mem']}, "
        f"maintenance_work_mem {context['maintenance_work_mem']}, synchronous_commit "
        f"{context['synchronous_commit']}), Python {sys.version.split()[0]}; load average at the "
        f"end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"- releases: `{large.table_name}` ({n} rows, {table_size(large.table_name)}), "
        f"`{small.table_name}` ({s} rows); CSV {paths[args.rows].stat().st_size / 2**20:,.0f} MiB"
        + (
            f", generated this run in {sum(generated.values()):.0f} s"
            if any(generated.values())
            else ", generated by an earlier run"
        )
    )
    print(
        f"- deliveries: items {', '.join(DELIVERY_FIELDS)}; each build in its own subprocess "
        "(peak RSS growth = VmHWM after the build − VmRSS before it, the peak reset through "
        f"/proc/self/clear_refs); builds and COPY TO floors best of {args.delivery_runs} runs, "
        "memory the largest of the runs; floors written to a file from this process"
    )
    print(
        f"- lookups: {WARMUP} warm-up + {k} timed calls each, in-process (no HTTP); the access log "
        "is written for every call, as in production"
    )
    print()
    print("| figure | value | unit | vs baseline | target |")
    print("|---|---:|---|---|---|")
    for figure, value, unit, versus, target in out:
        print(f"| {figure} | {value} | {unit} | {versus} | {target} |")
    print(f"\ntotal run time: {total:.0f} s")


if __name__ == "__main__":
    main()
