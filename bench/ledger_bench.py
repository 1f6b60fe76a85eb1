"""Transparency-ledger benchmark on PostgreSQL: `make bench` (after the catalog benchmark).

Uses the same dedicated database as ``catalog_bench.py`` (``govshare_bench`` unless
``BENCH_DATABASE_URL`` names another). Brings the ledger to a million entries once, with COPY and
the service's own hashing, then measures:

- durable appends through ``audit.ledger.ledger_append`` (each its own committed transaction) with
  1 and 4 writers, against plain single-row INSERT+COMMIT into an unrelated table in the same run;
- batched appends (1,000 per transaction), against 1,000 plain INSERTs per transaction;
- checkpoint signing, roots, inclusion and consistency proofs at ~1M entries, against a
  single-row read by primary key;
- a full ``audit.verification.ledger_verify()``, against reading the same rows without checking.

    DEBUG=true .venv/bin/python bench/ledger_bench.py [--entries N] [--samples K]

The signing key is generated for each run in a temporary directory, so checkpoints left by an
earlier run (signed with another key) are removed first: the bench database only.
"""

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import benchdb  # bench/ is the script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench"
BASELINE_TABLE = "bench_ledger_baseline"  # the "unrelated table" for plain INSERTs
CHUNK = 50_000  # generated entries per COPY transaction
SPACING = timedelta(seconds=30)  # generated entries: one every 30 s (a million ≈ a year)
WARMUP = 10
SEED = 20_260_102

DEPARTMENT_CODES = [
    "TRANSPORT", "HEALTH", "EDUCATION", "FINANCE", "TAXATION", "PUBLIC_SECURITY", "ENVIRONMENT",
    "HOUSING", "AGRICULTURE", "LABOUR", "JUSTICE", "CUSTOMS", "STATISTICS", "CIVIL_AFFAIRS",
    "WATER", "ENERGY", "CULTURE", "MARKET", "PLANNING", "EMERGENCY", "OFFICE",
]  # fmt: skip
# Event types of the services (catalog, releases, requests, grants) and rough frequencies.
EVENT_WEIGHTS = {
    "resource.published": 8,
    "resource.changed": 12,
    "release.accepted": 20,
    "request.submit": 12,
    "request.approve": 8,
    "request.reject": 3,
    "request.return": 3,
    "request.withdraw": 2,
    "grant.suspend": 2,
    "grant.resume": 2,
    "grant.revoke": 1,
    "grant.expire": 3,
    "grant.renew": 4,
}
STATES = ["draft", "submitted", "owner_review", "office_review", "approved", "rejected"]


def fail(message, code=1):
    print(f"ledger_bench: {message}", file=sys.stderr)
    sys.exit(code)


# --- Database and Django set-up ---


def ensure_database(url):
    benchdb.ensure_database(url, fail)


def setup_django(url, key_dir):
    """Point the settings at the bench database and a fresh signing key, then set Django up."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    from ledger.keys import write_new_key

    key_file = Path(key_dir) / "ledger-bench.key"
    write_new_key(key_file, os.environ.get("LEDGER_ORIGIN") or "govshare.local/ledger")
    os.environ["LEDGER_SIGNING_KEY_FILE"] = str(key_file)  # the settings check it exists
    import django

    django.setup()

    from django.conf import settings

    # Measure what production runs: DEBUG=true (needed for the settings without SECRET_KEY etc.)
    # would otherwise wrap every query in Django's debug cursor, which times and logs it.
    settings.DEBUG = False


def drop_stale_checkpoints():
    """Checkpoints of earlier runs are signed with their own temporary key: this run can neither
    verify them nor sign a successor to them. The ledger's triggers refuse DELETE and TRUNCATE;
    a harness may TRUNCATE with ``govshare.ledger_reset`` on for its transaction (migration
    ledger/0003), as the test suite's flush does. Bench database only."""
    from django.db import connection, transaction

    from ledger.models import LedgerCheckpoint

    stale = LedgerCheckpoint.objects.count()
    if stale:
        print(f"removing {stale} checkpoint(s) signed with an earlier run's key", flush=True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('govshare.ledger_reset', 'on', true)")
            cursor.execute(f"TRUNCATE {LedgerCheckpoint._meta.db_table} CASCADE")


def ensure_baseline_table():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} ("
            "id bigserial PRIMARY KEY, payload bytea NOT NULL, created_at timestamptz NOT NULL)"
        )
        cursor.execute(f"TRUNCATE {BASELINE_TABLE}")


# --- Generating a large ledger ---


def _fake_record(rng, index, when):
    """A record shaped like the services' ledger_append calls (ids, codes and hashes only)."""
    event = rng.choices(list(EVENT_WEIGHTS), weights=list(EVENT_WEIGHTS.values()))[0]
    codes = sorted(set(rng.sample(DEPARTMENT_CODES, rng.randint(2, 4))))
    resource = rng.randint(1, 100_000)
    hashes = None
    if event.startswith("resource."):
        subject = {"resource": resource}
        detail = {"identifier": f"bench-{resource:07d}", "version": rng.randint(1, 6)}
    elif event == "release.accepted":
        subject = {"resource": resource, "release": rng.randint(1, 500_000)}
        hashes = {"sha256": rng.randbytes(32).hex()}
        detail = {"sequence": rng.randint(1, 50), "rows": rng.randint(1, 2_000_000)}
    else:
        subject = {"request": rng.randint(1, 300_000), "resource": resource}
        if event.startswith("grant.") or event == "request.approve":
            subject["grant"] = rng.randint(1, 100_000)
        if rng.random() < 0.5:
            hashes = {"reason_sha256": rng.randbytes(32).hex()}
        detail = {"from": rng.choice(STATES), "to": rng.choice(STATES)}
    record = {
        "index": index,
        "type": event,
        "time": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "departments": codes,
        "actor": rng.randint(1, 5_000),
        "subject": subject,
    }
    if hashes:
        record["hashes"] = hashes
    record["detail"] = detail
    return record


def _right_edge(size):
    """{level: (index, hash)} of the complete subtrees that make up a tree of ``size`` leaves:
    exactly the left siblings that appending leaf ``size`` onwards can ask for."""
    from django.db.models import Q

    from ledger.models import LedgerNode

    wanted = {level: (size >> level) - 1 for level in range(size.bit_length()) if size >> level & 1}
    if not wanted:
        return {}
    condition = Q()
    for level, position in wanted.items():
        condition |= Q(level=level, index=position)
    found = {
        level: (position, bytes(digest))
        for level, position, digest in LedgerNode.objects.filter(condition).values_list(
            "level", "index", "hash"
        )
    }
    if found.keys() != wanted.keys():
        fail(f"the stored tree of size {size} lacks right-edge nodes {sorted(wanted - found)}")
    return found


def fill(target):
    """Append generated entries until the ledger holds ``target``: the bytes, leaf hashes and
    stored nodes are made exactly as ``ledger_append`` makes them (RFC 8785 records with their
    index, ``merkle.leaf_hash``, ``merkle.new_nodes``), then loaded with COPY in chunks, each in
    one transaction holding the LedgerState lock. Bench data only: a million ledger_append calls
    would take far too long. Interrupted runs resume where they stopped."""
    import rfc8785
    from django.db import connection, transaction

    from ledger import merkle
    from ledger.models import LedgerEntry, LedgerNode, LedgerState

    def columns(model, names):
        found = [model._meta.get_field(n).column for n in names]
        benchdb.check_columns(model, found, fail)  # a NOT NULL column added since: stop here
        return ", ".join(connection.ops.quote_name(column) for column in found)

    entry_columns = columns(
        LedgerEntry,
        [
            "index",
            "entry",
            "leaf_hash",
            "previous_leaf",
            "entry_type",
            "departments",
            "subject",
            "created_at",
        ],  # fmt: skip
    )
    node_columns = columns(LedgerNode, ["level", "index", "hash"])
    copy_entries = f"COPY {LedgerEntry._meta.db_table} ({entry_columns}) FROM STDIN"
    copy_nodes = f"COPY {LedgerNode._meta.db_table} ({node_columns}) FROM STDIN"

    started = time.perf_counter()
    generated = 0
    first = None
    base = None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            state, _ = LedgerState.objects.select_for_update().get_or_create(pk=1)
            size = state.size
            if size >= target:
                break
            if first is None:
                first = size
                print(f"generating {target - size:,} ledger entries (ledger holds {size:,}) ...")
                base = datetime.now(UTC) - SPACING * (target - size + 1) - SPACING * size
            rng = random.Random(SEED + size)
            edge = _right_edge(size)

            def node(level, position, edge=edge):
                stored_position, digest = edge[level]
                assert stored_position == position, (level, position, stored_position)
                return digest

            count = min(CHUNK, target - size)
            entries, nodes = [], []
            previous = bytes(state.last_leaf)
            for index in range(size, size + count):
                when = base + SPACING * index + timedelta(microseconds=rng.randrange(1, 10**6))
                record = _fake_record(rng, index, when)
                data = rfc8785.dumps(record)
                leaf = merkle.leaf_hash(data)
                subject = " ".join(f"{k}:{v}" for k, v in sorted(record["subject"].items()))
                entries.append(
                    (
                        index,
                        data,
                        leaf,
                        previous,
                        record["type"],
                        " ".join(record["departments"]),
                        subject[:200],
                        when,
                    )
                )
                created = merkle.new_nodes(index, leaf, node)
                nodes.extend(created)
                for level, position, digest in created:
                    edge[level] = (position, digest)
                previous = leaf
            # Reserve the indices first (the ledger's triggers take entries only there), then
            # load them and their nodes.
            state.size, state.last_leaf = size + count, previous
            state.save(update_fields=["size", "last_leaf"])
            raw = cursor.cursor  # the psycopg cursor, for COPY
            with raw.copy(copy_entries) as copy:
                for row in entries:
                    copy.write_row(row)
            with raw.copy(copy_nodes) as copy:
                for row in nodes:
                    copy.write_row(row)
        generated += count
        elapsed = time.perf_counter() - started
        print(f"  {size + count:,}/{target:,} entries ({elapsed:.0f} s)", flush=True)
    if generated:
        print("  VACUUM ANALYZE ...", flush=True)
        with connection.cursor() as cursor:
            for model in (LedgerEntry, LedgerNode, LedgerState):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return generated, time.perf_counter() - started


# --- Measurement helpers ---


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def summary(seconds):
    ms = [s * 1000 for s in seconds]
    return {"median": statistics.median(ms), "p95": p95(ms), "n": len(ms)}


def run_writers(writers, operation, quota, seconds):
    """Run ``operation`` from ``writers`` threads (each with its own connection) until ``quota``
    operations are done or ``seconds`` have passed; returns the rate and per-call latencies."""
    from django.db import connection

    lock = threading.Lock()
    shared = {"issued": 0, "start": None, "deadline": None}
    latencies, ends, errors = [], [], []

    def start_clock():
        shared["start"] = time.perf_counter()
        shared["deadline"] = shared["start"] + seconds

    barrier = threading.Barrier(writers, action=start_clock)

    def worker():
        mine = []
        try:
            for _ in range(WARMUP):
                operation()
            barrier.wait()
            while True:
                with lock:
                    if shared["issued"] >= quota or time.perf_counter() >= shared["deadline"]:
                        break
                    shared["issued"] += 1
                began = time.perf_counter()
                operation()
                mine.append(time.perf_counter() - began)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            with lock:
                latencies.extend(mine)
                ends.append(time.perf_counter())
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise (real or errors)[0]
    elapsed = max(ends) - shared["start"]
    return {"ops": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed} | summary(
        latencies
    )


def run_batches(operation, batch_size, batches, seconds):
    """``batch_size`` operations per transaction, up to ``batches`` batches or ``seconds``."""
    from django.db import transaction

    with transaction.atomic():
        for _ in range(WARMUP):
            operation()
    times = []
    started = time.perf_counter()
    for _ in range(batches):
        began = time.perf_counter()
        with transaction.atomic():
            for _ in range(batch_size):
                operation()
        times.append(time.perf_counter() - began)
        if time.perf_counter() - started >= seconds:
            break
    return {"ops": batch_size * len(times), "seconds": sum(times)} | {
        "rate": batch_size * len(times) / sum(times)
    }


def timed(function, argument_lists):
    for arguments in argument_lists[:WARMUP]:
        function(*arguments)
    seconds, results = [], []
    for arguments in argument_lists:
        began = time.perf_counter()
        results.append(function(*arguments))
        seconds.append(time.perf_counter() - began)
    return summary(seconds), results


# --- Witnesses ---


class Witnesses:
    """Two real witness processes (tools/govshare_witness.py) on loopback, trusting this run's
    log key, configured as ``LEDGER_WITNESSES`` with quorum 2; and a thread that signs a
    checkpoint and asks both witnesses every ``interval`` seconds (beat does it every minute)."""

    def __init__(self, directory, interval):
        self.directory, self.interval = Path(directory), interval
        self.processes, self.rounds, self.cosigned, self.errors = [], 0, 0, []
        self.stop_event = threading.Event()
        self.thread = None

    def __enter__(self):
        import socket
        import subprocess

        from django.conf import settings

        from ledger import keys

        tool = ROOT / "tools" / "govshare_witness.py"
        entries = []
        for name in ("health.bench/witness", "civil.bench/witness"):
            key = self.directory / f"{name.split('.')[0]}.key"
            vkey = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
                [sys.executable, str(tool), "keygen", name, "--out", str(key)],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]  # fmt: skip
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
                    [
                        sys.executable,
                        str(tool),
                        "serve",
                        "--key",
                        str(key),
                        "--log-key",
                        keys.verifier_key(),
                        "--state",
                        str(self.directory / f"{name.split('.')[0]}.state"),
                        "--listen",
                        f"127.0.0.1:{port}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            )
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        fail(f"witness {name} did not start")
                    time.sleep(0.05)
            entries.append(f"{vkey}=http://127.0.0.1:{port}")
        settings.LEDGER_WITNESSES = entries
        settings.LEDGER_WITNESS_QUORUM = 2
        settings.LEDGER_WITNESS_TIMEOUT = 5
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self):
        from django.db import connection

        from ledger import services as ledger
        from ledger import witnesses

        try:
            while not self.stop_event.wait(self.interval):
                ledger.ledger_checkpoint_sign()
                answers = witnesses.witness_checkpoints(wait=True)
                self.rounds += 1
                self.cosigned += sum(a.outcome == "cosigned" for a in answers)
                refused = [a for a in answers if a.outcome not in ("cosigned", "already")]
                self.errors += [f"{a.witness}: {a.outcome} {a.detail}" for a in refused]
        finally:
            connection.close()

    def __exit__(self, *exc):
        from django.conf import settings

        self.stop_event.set()
        if self.thread:
            self.thread.join(timeout=30)
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)
        settings.LEDGER_WITNESSES, settings.LEDGER_WITNESS_QUORUM = [], 0


# --- Operations ---


def ledger_operation():
    """One ledger_append shaped like a service's (a request transition)."""
    from ledger.services import ledger_append

    n = random.randint(1, 300_000)
    ledger_append(
        event="request.submit",
        departments=["HEALTH", "OFFICE", "TRANSPORT"],
        subject={"request": n, "resource": n % 100_000 + 1},
        hashes={"reason_sha256": random.randbytes(32).hex()},
        detail={"from": "draft", "to": "submitted"},
    )


def plain_operation(payload):
    from django.db import connection

    def insert():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {BASELINE_TABLE} (payload, created_at) VALUES (%s, now())",  # noqa: S608
                [payload],
            )

    return insert


def typical_payload():
    from ledger.models import LedgerEntry

    last = LedgerEntry.objects.order_by("-index").values_list("entry", flat=True).first()
    return bytes(last) if last else b"x" * 300


# --- Main ---


def flush_dirty_buffers():
    """A CHECKPOINT first, so writing out the bulk load (or an earlier run) does not compete with
    the timed commits. Needs superuser or pg_checkpoint; skipped otherwise."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        return False
    return True


def machine_context():
    from django.db import connection

    from ledger.models import LedgerEntry, LedgerNode

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        context = {"pg": cursor.fetchone()[0]}
        for name in ("synchronous_commit", "fsync", "shared_buffers", "wal_level"):
            cursor.execute(f"SHOW {name}")
            context[name] = cursor.fetchone()[0]
        for model in (LedgerEntry, LedgerNode):
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s))", [model._meta.db_table]
            )
            context[model._meta.db_table] = cursor.fetchone()[0]
    return context


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger size (1000000)")
    parser.add_argument("--appends", type=int, default=2_000, help="appends per run (2000)")
    parser.add_argument("--seconds", type=float, default=10, help="time limit per run (10)")
    parser.add_argument("--batches", type=int, default=5, help="batches of 1,000 (5)")
    parser.add_argument("--samples", type=int, default=200, help="proofs timed (200)")
    args = parser.parse_args()
    if min(args.entries, args.appends, args.seconds, args.batches, args.samples) <= 0:
        fail("all options must be positive", 2)
    if os.environ.get("DEBUG", "").strip().lower() not in {"1", "true", "yes", "on"}:
        fail("run with DEBUG=true (as `make bench` does)", 2)
    began = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as key_dir:
        setup_django(url, key_dir)
        args.key_dir = key_dir
        run(args, began)


def run(args, began):
    from django.core.management import call_command
    from django.db import connection

    from ledger import merkle
    from ledger import services as ledger
    from ledger.models import LedgerEntry
    from ledger.verification import ledger_verify

    if connection.vendor != "postgresql":
        fail(f"expected PostgreSQL, got {connection.vendor}", 2)
    call_command("migrate", interactive=False, verbosity=0)
    drop_stale_checkpoints()
    ensure_baseline_table()

    # 3. A million entries (generated once, reused by later runs), then a signed checkpoint.
    generated, fill_seconds = fill(args.entries)
    started = time.perf_counter()
    first_checkpoint = ledger.ledger_checkpoint_sign()
    sign_first = time.perf_counter() - started
    print(f"checkpoint signed at {first_checkpoint.tree_size:,} entries", flush=True)

    flushed = flush_dirty_buffers()

    # 1. Durable appends, each its own transaction, against plain INSERT+COMMIT.
    payload = typical_payload()
    plain = plain_operation(payload)
    durable = {}
    for writers in (1, 4):
        for name, operation in (("plain", plain), ("ledger", ledger_operation)):
            durable[name, writers] = result = run_writers(
                writers, operation, args.appends, args.seconds
            )
            print(
                f"  {name}, {writers} writer(s): {result['ops']:,} in {result['seconds']:.1f} s "
                f"= {result['rate']:,.0f}/s",
                flush=True,
            )

    # 1b. The same durable appends with two witnesses configured and witnessing running beside
    # them (a checkpoint signed and sent to both every second: 60× beat's pace), then the plain
    # ledger again, so drift of the machine shows.
    with Witnesses(args.key_dir, interval=1.0) as witnessing:
        for writers in (1, 4):
            durable["witnessed", writers] = result = run_writers(
                writers, ledger_operation, args.appends, args.seconds
            )
            print(
                f"  ledger with witnesses, {writers} writer(s): {result['ops']:,} in "
                f"{result['seconds']:.1f} s = {result['rate']:,.0f}/s",
                flush=True,
            )
    if witnessing.errors or not witnessing.cosigned:
        fail(f"witnessing during the bench failed: {witnessing.errors[:3]}")
    durable["again", 1] = run_writers(1, ledger_operation, args.appends, args.seconds)

    # 2. Batched appends: 1,000 per transaction.
    batched = {}
    for name, operation in (("plain", plain), ("ledger", ledger_operation)):
        batched[name] = result = run_batches(operation, 1_000, args.batches, args.seconds)
        print(
            f"  {name}, batches of 1,000: {result['ops']:,} in {result['seconds']:.1f} s "
            f"= {result['rate']:,.0f}/s",
            flush=True,
        )

    # A second checkpoint over the appends: signing proves consistency with the first.
    started = time.perf_counter()
    checkpoint = ledger.ledger_checkpoint_sign()
    sign_second = time.perf_counter() - started
    size = ledger.tree_size()
    if checkpoint.tree_size != size:
        fail(f"checkpoint covers {checkpoint.tree_size}, the ledger holds {size}")
    root = bytes(checkpoint.root_hash)
    print(f"checkpoint signed at {size:,} entries", flush=True)

    # 4. Roots and proofs at the current size, against a single-row read by primary key.
    rng = random.Random(SEED)
    indices = [rng.randrange(size) for _ in range(args.samples)]
    firsts = [rng.randint(1, size) for _ in range(args.samples)]

    def read_one(index):
        return LedgerEntry.objects.filter(index=index).values_list("leaf_hash", flat=True).get()

    read_stats, _ = timed(read_one, [(i,) for i in indices])
    root_stats, roots = timed(ledger.root_at, [(size,)] * args.samples)
    if any(r != root for r in roots):
        fail("root_at(size) differs from the signed checkpoint's root")
    root_any_stats, first_roots = timed(ledger.root_at, [(f,) for f in firsts])
    inclusion_stats, inclusions = timed(ledger.inclusion_proof, [(i, size) for i in indices])
    consistency_stats, consistencies = timed(ledger.consistency_proof, [(f, size) for f in firsts])
    leaves = {
        index: bytes(digest)
        for index, digest in LedgerEntry.objects.filter(index__in=indices).values_list(
            "index", "leaf_hash"
        )
    }
    bad_inclusion = sum(
        not merkle.verify_inclusion(leaves[i], i, size, proof, root)
        for i, proof in zip(indices, inclusions, strict=True)
    )
    bad_consistency = sum(
        not merkle.verify_consistency(f, size, proof, first_root, root)
        for f, proof, first_root in zip(firsts, consistencies, first_roots, strict=True)
    )
    if bad_inclusion or bad_consistency:
        fail(f"{bad_inclusion} inclusion and {bad_consistency} consistency proofs do not verify")
    inclusion_length = statistics.mean(len(p) for p in inclusions)
    consistency_length = statistics.mean(len(p) for p in consistencies)
    print("  proofs timed and verified", flush=True)

    # 5. Full verification, against reading the same rows without checking anything.
    from ledger.models import LedgerNode

    started = time.perf_counter()
    rows = 0
    for _row in (
        LedgerEntry.objects.order_by("index")
        .values_list("index", "entry", "leaf_hash")
        .iterator(chunk_size=5000)
    ):
        rows += 1
    for _row in (
        LedgerNode.objects.filter(level=0)
        .order_by("index")
        .values_list("index", "hash")
        .iterator(chunk_size=5000)
    ):
        pass
    read_all = time.perf_counter() - started
    print(f"  read {rows:,} entries and their leaf nodes in {read_all:.1f} s", flush=True)
    started = time.perf_counter()
    report = ledger_verify()
    verify_seconds = time.perf_counter() - started
    print(
        f"\nledger_verify(): ok={report.ok} entries={report.entries:,} "
        f"checkpoints={report.checkpoints} first_bad_index={report.first_bad_index} "
        f"problems={report.problems[:5]}"
    )

    context = machine_context()
    total = time.perf_counter() - began

    def ratio(value, base, label):
        return f"{value / base:.2f}× {label}" if base else "—"

    rows_out = []

    def row(figure, value, unit, versus=""):
        rows_out.append((figure, value, unit, versus))

    p1, l1 = durable["plain", 1], durable["ledger", 1]
    p4, l4 = durable["plain", 4], durable["ledger", 4]
    row("plain INSERT+COMMIT, 1 writer (baseline)", f"{p1['rate']:,.0f}", "rows/s", "1.00×")
    row(
        "ledger_append, own transaction, 1 writer",
        f"{l1['rate']:,.0f}",
        "appends/s",
        ratio(l1["rate"], p1["rate"], "plain, 1 writer"),
    )
    row(
        "  latency, plain / ledger, 1 writer (median)",
        f"{p1['median']:.2f} / {l1['median']:.2f}",
        "ms",
        ratio(l1["median"], p1["median"], "plain"),
    )
    row(
        "  latency, plain / ledger, 1 writer (p95)",
        f"{p1['p95']:.2f} / {l1['p95']:.2f}",
        "ms",
        ratio(l1["p95"], p1["p95"], "plain"),
    )
    row(
        "plain INSERT+COMMIT, 4 writers (baseline)",
        f"{p4['rate']:,.0f}",
        "rows/s",
        ratio(p4["rate"], p1["rate"], "plain, 1 writer"),
    )
    row(
        "ledger_append, own transaction, 4 writers",
        f"{l4['rate']:,.0f}",
        "appends/s",
        ratio(l4["rate"], p4["rate"], "plain, 4 writers")
        + "; "
        + ratio(l4["rate"], l1["rate"], "ledger, 1 writer"),
    )
    row(
        "  latency, plain / ledger, 4 writers (median)",
        f"{p4['median']:.2f} / {l4['median']:.2f}",
        "ms",
        ratio(l4["median"], p4["median"], "plain"),
    )
    row(
        "  latency, plain / ledger, 4 writers (p95)",
        f"{p4['p95']:.2f} / {l4['p95']:.2f}",
        "ms",
        ratio(l4["p95"], p4["p95"], "plain"),
    )
    w1, w4, a1 = durable["witnessed", 1], durable["witnessed", 4], durable["again", 1]
    row(
        "ledger_append, 1 writer, witnesses configured and cosigning",
        f"{w1['rate']:,.0f}",
        "appends/s",
        ratio(w1["rate"], l1["rate"], "ledger, 1 writer")
        + f"; {ratio(w1['rate'], a1['rate'], 'ledger, 1 writer, run after')}",
    )
    row(
        "ledger_append, 4 writers, witnesses configured and cosigning",
        f"{w4['rate']:,.0f}",
        "appends/s",
        ratio(w4["rate"], l4["rate"], "ledger, 4 writers"),
    )
    row(
        "  witnessing beside them: rounds / cosignatures",
        f"{witnessing.rounds} / {witnessing.cosigned}",
        "",
        "a checkpoint signed and sent to 2 witnesses each second",
    )
    pb, lb = batched["plain"], batched["ledger"]
    row("plain INSERT ×1,000 per transaction (baseline)", f"{pb['rate']:,.0f}", "rows/s", "1.00×")
    row(
        "ledger_append ×1,000 per transaction",
        f"{lb['rate']:,.0f}",
        "appends/s",
        ratio(lb["rate"], pb["rate"], "plain batched")
        + "; "
        + ratio(lb["rate"], l1["rate"], "ledger, own transaction"),
    )
    if generated:
        row(
            "bulk load (generate + COPY + VACUUM), this run",
            f"{generated / fill_seconds:,.0f}",
            "entries/s",
            f"{generated:,} entries in {fill_seconds:.0f} s",
        )
    else:
        row("bulk load, this run", "0", "entries", "reused the stored ledger")
    row(
        f"ledger_checkpoint_sign at {first_checkpoint.tree_size:,} (no predecessor)",
        f"{sign_first * 1000:.1f}",
        "ms",
    )
    row(
        f"ledger_checkpoint_sign at {size:,} (with consistency check)",
        f"{sign_second * 1000:.1f}",
        "ms",
    )
    row(
        "single entry read by index (baseline, median / p95)",
        f"{read_stats['median']:.2f} / {read_stats['p95']:.2f}",
        "ms",
        "1.00×",
    )
    for label, stats, extra in (
        (f"root_at({size:,}) (median / p95)", root_stats, ""),
        ("root_at(random size) (median / p95)", root_any_stats, ""),
        (
            f"inclusion_proof(random, {size:,}) (median / p95)",
            inclusion_stats,
            f"; {inclusion_length:.1f} hashes",
        ),
        (
            f"consistency_proof(random, {size:,}) (median / p95)",
            consistency_stats,
            f"; {consistency_length:.1f} hashes",
        ),
    ):
        row(
            label,
            f"{stats['median']:.2f} / {stats['p95']:.2f}",
            "ms",
            ratio(stats["median"], read_stats["median"], "single read") + extra,
        )
    row(
        "read all entries + leaf nodes, no checks (baseline)",
        f"{read_all:.1f}",
        "s",
        f"{rows / read_all:,.0f} entries/s",
    )
    row(
        f"ledger_verify() at {report.entries:,} entries",
        f"{verify_seconds:.1f}",
        "s",
        f"{report.entries / verify_seconds:,.0f} entries/s; "
        + ratio(verify_seconds, read_all, "the plain read"),
    )

    print("\n## Ledger benchmark\n")
    print(
        f"- machine: {len(os.sched_getaffinity(0))} CPUs (nproc), PostgreSQL {context['pg']} "
        f"(synchronous_commit {context['synchronous_commit']}, fsync {context['fsync']}, "
        f"shared_buffers {context['shared_buffers']}), Python {sys.version.split()[0]}; "
        f"load average at the end {os.getloadavg()[0]:.2f} (other work on the machine skews "
        "the append figures)"
    )
    print(
        f"- ledger: {size:,} entries; ledger_ledgerentry {context['ledger_ledgerentry']}, "
        f"ledger_ledgernode {context['ledger_ledgernode']} (tables + indexes)"
    )
    print(
        f"- appends: up to {args.appends:,} per run or {args.seconds:g} s, {WARMUP} warm-up calls "
        "per thread; each writer a thread with its own connection; plain = one-row INSERT into "
        f"`{BASELINE_TABLE}` (bytea payload of {len(payload)} bytes, like an entry); "
        f"CHECKPOINT before timing: {'done' if flushed else 'skipped (no privilege)'}"
    )
    print(
        f"- proofs: {args.samples} random indices / first sizes, each proof verified after timing; "
        f"ledger_verify(): ok={report.ok}"
    )
    print()
    print("| figure | value | unit | vs baseline |")
    print("|---|---:|---|---|")
    for figure, value, unit, versus in rows_out:
        print(f"| {figure} | {value} | {unit} | {versus} |")
    print(f"\ntotal run time: {total:.0f} s")
    if not report.ok:
        fail("ledger_verify() found problems: " + "; ".join(report.problems[:5]))


if __name__ == "__main__":
    main()
