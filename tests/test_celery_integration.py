"""Deliveries through a real Celery worker, on Redis and PostgreSQL.

Each test starts ``celery -A govshare worker`` as a subprocess that shares the test's
PostgreSQL database, ``MEDIA_ROOT`` and ledger key, on a Redis database claimed for this test alone
(so no stale message of another run can reach it), and points this process's Celery app at the
same database; recovery tests also run ``celery beat`` (the seeded schedule: the sweep every 15 s)
with the default heartbeat and staleness settings. Covered: a periodic copy end to end; a worker
killed in the middle of a build and a new worker started (delivered exactly once, within 60 s,
no file of the dead attempt left); killed and the grant revoked meanwhile (failed, no file of the
delivery left); a broker that lost its queue with three deliveries in it (all delivered within
60 s); and a broker that is down at enqueue time (the delivery waits, the sweeper sends it).
Release uploads: a worker killed in the middle of a web upload's check and load, and a new
worker started (the job is checked again from its stored file and accepted once, within 60 s).
"""

import csv
import datetime
import hashlib
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from access_requests import services as rs
from catalog import release_uploads
from catalog import services as catalog_services
from catalog.models import ReleaseUpload
from govshare.celery import app as celery_app
from ledger.models import LedgerEntry
from rights import services as grant_services
from rights.models import Grant
from sharing.deliveries import deliveries_dispatch, deliveries_sweep
from sharing.models import Delivery
from tests.beat_schedule import beat_schedule_seed
from tests.conftest import csv_upload, request_data, sign_agreement

ALL_ITEMS = ["resident_id", "birth_date", "dose_number", "fee", "adverse_event"]
# Big enough that a build takes seconds (3-8 s here), so a worker can be killed in the middle.
BIG_RELEASE_ROWS = 500_000
CLAIM_KEY = "govshare-tests:claimed-by"
RECOVERY_SECONDS = 60  # issue #12: a delivery recovers within a minute of a worker being there


# --- Redis database and broker ---------------------------------------------------------------


def _with_db(url, db):
    return urlsplit(url)._replace(path=f"/{db}").geturl()


@pytest.fixture
def redis_url():
    """A Redis database nobody else uses, claimed atomically for this test and emptied after."""
    base = os.environ["CELERY_BROKER_URL"]
    token = uuid.uuid4().hex
    # A database named in CELERY_BROKER_URL (other than 0) is this run's own: use only that one.
    named = urlsplit(base).path.strip("/")
    candidates = (
        [int(named)] if named.isdigit() and named != "0" else random.sample(range(1, 16), 15)
    )
    for db in candidates:
        url = _with_db(base, db)
        client = redis.Redis.from_url(url)
        try:
            if client.dbsize() == 0 and client.set(CLAIM_KEY, token, nx=True, ex=3600):
                break
        except redis.ResponseError:  # fewer databases configured
            continue
        finally:
            client.close()
    else:
        pytest.fail(f"no empty Redis database ({candidates}) to run a worker on")
    yield url
    client = redis.Redis.from_url(url)
    if client.get(CLAIM_KEY) == token.encode():
        client.flushdb()
    client.close()


@pytest.fixture
def use_broker(monkeypatch, redis_url):
    """Point this process's Celery app at another broker; the original is restored after.

    Celery reads ``CELERY_BROKER_URL`` from the environment before its own setting, so that is
    what changes. The app's pools are dropped so the next task opens a connection to the new
    broker, and all of kombu's pools are closed after the test (a pool once closed must never be
    handed out again: acquiring from it waits forever).
    """

    def drop_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def use(url):
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        drop_pools()
        assert celery_app.conf.broker_write_url == url

    yield use
    kombu.pools.reset()
    drop_pools()


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


# --- workers ---------------------------------------------------------------------------------


class Workers:
    """Celery workers started as subprocesses, each in its own process group."""

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = log_dir
        self.started = []

    def start(self, **extra_env):
        log_path = self.log_dir / f"worker-{len(self.started) + 1}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "govshare",
                    "worker",
                    # The production pool: its main process acknowledges a task as the child
                    # starts it (the solo pool's event loop, blocked by the task, would send
                    # the acknowledgement only when it ends).
                    "--pool=prefork",
                    "--concurrency=1",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                    "--hostname",
                    f"test-{uuid.uuid4().hex[:8]}@%h",
                ],
                cwd=settings.BASE_DIR,
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_path = log_path
        self.started.append(process)
        return process

    def start_beat(self):
        """``celery beat`` with the project's schedule: the DatabaseScheduler (the settings'
        CELERY_BEAT_SCHEDULER) reading the seeded jobs from this test's database."""
        beat_schedule_seed()  # an earlier transactional test's flush took the seeded rows away
        log_path = self.log_dir / "beat.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "govshare",
                    "beat",
                    "--loglevel=INFO",
                ],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_path = log_path
        self.started.append(process)
        return process

    def kill(self, process):
        """SIGKILL: the worker and anything it started die at once, acknowledging nothing."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self):
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # warm shutdown
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def check_alive(self):
        for process in self.started:
            if process.returncode is None and process.poll() is not None:
                pytest.fail(f"worker exited with {process.returncode}\n{self.logs()}")

    def logs(self, tail=4000):
        return "\n".join(
            f"--- {p.log_path.name} ---\n{p.log_path.read_text(errors='replace')[-tail:]}"
            for p in self.started
        )


def _database_url():
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    return f"postgresql://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def workers(redis_url, use_broker, settings, tmp_path):
    """Workers sharing this test's database, files and ledger key, on ``redis_url``."""
    use_broker(redis_url)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_VISIBILITY_TIMEOUT", "CELERY_TASK_ALWAYS_EAGER"}
        and not key.startswith("DELIVERY_")  # the recovery figures are the defaults'
    }
    env.update(
        DEBUG="true",
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=redis_url,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        LEDGER_SIGNING_KEY_FILE=str(settings.LEDGER_SIGNING_KEY_FILE),
        LEDGER_ORIGIN=settings.LEDGER_ORIGIN,
        EMAIL_BACKEND="locmem",
        PYTHONUNBUFFERED="1",
    )
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_for(predicate, workers, what, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        workers.check_alive()
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{workers.logs()}")


def wait_until_succeeded(delivery, workers, timeout=60.0):
    def done():
        delivery.refresh_from_db()
        assert delivery.status != Delivery.Status.FAILED, delivery.error
        return delivery.status == Delivery.Status.SUCCEEDED

    wait_for(done, workers, f"delivery {delivery.pk} to succeed", timeout=timeout)
    return delivery


# --- data --------------------------------------------------------------------------------------


@pytest.fixture
def periodic_grant(released, requester, steward, reviewer, departments):
    """An active daily periodic-copy grant on every item of the released resource, its
    data-sharing agreement signed by both departments: the workers run with production's
    settings (GRANT_AGREEMENT_REQUIRED on), not the test process's."""
    request = rs.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(method="periodic_copy", frequency="daily"),
        items=[{"name": name, "reason": "Needed for the check."} for name in ALL_ITEMS],
    )
    rs.request_submit(actor=requester, request=request)
    rs.request_endorse(actor=steward, request=request)
    rs.request_approve(actor=reviewer, request=request)
    return sign_agreement(Grant.objects.get(request=request), steward, requester)


def big_csv(rows):
    out = io.StringIO()
    out.write(",".join(ALL_ITEMS) + "\n")
    start = datetime.date(1940, 1, 1)
    for i in range(rows):
        born = start + datetime.timedelta(days=i % 25000)
        adverse = "true" if i % 7 == 0 else "false"
        out.write(f"R{i:07d},{born},{i % 4 + 1},{i % 100}.{i % 97:02d},{adverse}\n")
    return out.getvalue()


def read_delivery(delivery):
    path = Path(settings.MEDIA_ROOT) / delivery.file.name
    raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return path, raw, archive.read("data.csv"), json.loads(archive.read("manifest.json"))


def assert_delivered(delivery, rows):
    """The file is there, and its hashes agree with the row, the manifest and the ledger."""
    path, raw, data, manifest = read_delivery(delivery)
    assert path.name == f"d{delivery.pk}-a{delivery.attempts}-{delivery.period_key}.zip"
    assert hashlib.sha256(raw).hexdigest() == delivery.file_sha256
    assert hashlib.sha256(data).hexdigest() == delivery.sha256 == manifest["data_sha256"]
    assert delivery.row_count == manifest["row_count"] == rows
    assert data.count(b"\n") == rows + 1
    entry = json.loads(bytes(LedgerEntry.objects.get(index=delivery.ledger_index).entry))
    assert entry["type"] == "delivery.succeeded"
    assert entry["subject"]["delivery"] == delivery.pk
    assert entry["hashes"] == {"sha256": delivery.sha256, "file_sha256": delivery.file_sha256}
    return data, manifest


# --- tests -------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_periodic_copy(periodic_grant, workers):
    workers.start()
    (delivery,) = deliveries_dispatch()  # the task is sent once the rows are committed
    delivery.refresh_from_db()
    assert delivery.enqueued_at is not None

    delivery = wait_until_succeeded(delivery, workers)
    data, manifest = assert_delivered(delivery, rows=3)
    assert list(csv.reader(io.StringIO(data.decode()))) == [
        ALL_ITEMS,
        ["R001", "1980-02-29", "1", "12.50", "false"],
        ["R002", "1975-12-01", "2", "", "true"],
        ["R003", "2001-07-15", "1", "0", ""],
    ]
    assert manifest["grant"] == periodic_grant.pk
    assert manifest["items"] == ALL_ITEMS
    assert delivery.attempts == 1
    assert LedgerEntry.objects.filter(entry_type="delivery.succeeded").count() == 1


def kill_mid_build(workers, released, steward, grant):
    """A big release, a worker and beat; the delivery dispatched and its worker SIGKILLed while
    it writes the file. Returns the delivery and its folder."""
    catalog_services.release_ingest(
        actor=steward, resource=released, upload=csv_upload(big_csv(BIG_RELEASE_ROWS))
    )
    first = workers.start()
    (delivery,) = deliveries_dispatch()
    directory = Path(settings.MEDIA_ROOT) / "deliveries" / str(grant.pk)
    partial = directory / f".tmp-d{delivery.pk}-a1.zip"

    def building():
        status = Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)
        assert status != Delivery.Status.SUCCEEDED, "built before it could be killed: add rows"
        try:
            return status == Delivery.Status.RUNNING and partial.stat().st_size > 0
        except FileNotFoundError:  # not started, or renamed into place: the status says next
            return False

    wait_for(building, workers, "the build to be writing its file")
    workers.kill(first)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.RUNNING, 1)
    assert not delivery.file
    assert partial.exists()  # what the dead worker left: removed by whatever comes next
    assert not LedgerEntry.objects.filter(entry_type="delivery.succeeded").exists()
    return delivery, directory


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_build_is_recovered_within_a_minute_of_a_new_worker(
    periodic_grant, released, steward, workers, redis_url
):
    delivery, directory = kill_mid_build(workers, released, steward, periodic_grant)
    broker = redis.Redis.from_url(redis_url)
    # Acknowledged on receipt: the killed task is not left in Redis's unacknowledged set.
    assert (broker.hlen("unacked"), broker.llen("celery")) == (0, 0)

    started = time.monotonic()
    workers.start()
    workers.start_beat()
    delivery = wait_until_succeeded(delivery, workers, timeout=RECOVERY_SECONDS)
    elapsed = time.monotonic() - started
    assert elapsed < RECOVERY_SECONDS

    assert delivery.attempts == 2
    assert Delivery.objects.filter(grant=periodic_grant).count() == 1
    assert LedgerEntry.objects.filter(entry_type="delivery.succeeded").count() == 1
    assert_delivered(delivery, rows=BIG_RELEASE_ROWS)
    # Only the second attempt's file: the first attempt's partial zip was removed.
    assert sorted(p.name for p in directory.iterdir()) == [Path(delivery.file.name).name]
    assert broker.hlen("unacked") == 0
    broker.close()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_build_then_the_grant_revoked_leaves_no_file(
    periodic_grant, released, steward, reviewer, workers
):
    delivery, directory = kill_mid_build(workers, released, steward, periodic_grant)
    grant_services.grant_revoke(actor=reviewer, grant=periodic_grant, reason="Misuse.")

    workers.start()
    workers.start_beat()

    def refused():
        delivery.refresh_from_db()
        return delivery.status == Delivery.Status.FAILED

    wait_for(refused, workers, "the retry to be refused", timeout=RECOVERY_SECONDS)
    assert "revoked" in delivery.error
    assert delivery.attempts == 2
    assert not delivery.file
    assert list(directory.iterdir()) == []  # no file of the delivery: partial nor complete
    assert not LedgerEntry.objects.filter(entry_type="delivery.succeeded").exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_deliveries_lost_with_the_brokers_queue_are_delivered_within_a_minute(
    periodic_grant, workers, redis_url
):
    Grant.objects.filter(pk=periodic_grant.pk).update(
        valid_from=periodic_grant.valid_from - datetime.timedelta(days=2)
    )
    queued = deliveries_dispatch()  # three periods, sent to a broker with no worker
    broker = redis.Redis.from_url(redis_url)
    assert (len(queued), broker.llen("celery")) == (3, 3)
    claim = broker.get(CLAIM_KEY)
    broker.flushdb()  # Redis restarted empty: the three messages are gone
    broker.set(CLAIM_KEY, claim, ex=3600)
    assert broker.llen("celery") == 0

    started = time.monotonic()
    workers.start()
    workers.start_beat()
    for delivery in queued:
        wait_until_succeeded(delivery, workers, timeout=RECOVERY_SECONDS)
    assert time.monotonic() - started < RECOVERY_SECONDS
    for delivery in queued:
        delivery.refresh_from_db()
        assert delivery.attempts == 1
        assert_delivered(delivery, rows=3)
    assert LedgerEntry.objects.filter(entry_type="delivery.succeeded").count() == 3
    broker.close()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_delivery_enqueued_while_the_broker_is_down_is_sent_by_the_sweeper(
    periodic_grant, workers, use_broker, redis_url, caplog
):
    use_broker(f"redis://127.0.0.1:{_closed_port()}/0")
    with caplog.at_level("WARNING", logger="sharing.deliveries"):
        (delivery,) = deliveries_dispatch()  # must not raise
    assert f"delivery {delivery.pk} waits for the sweeper" in caplog.text
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.enqueued_at is None

    use_broker(redis_url)
    workers.start()
    assert deliveries_sweep() == 1  # never enqueued: swept at once, whatever its age
    delivery.refresh_from_db()
    assert delivery.enqueued_at is not None

    delivery = wait_until_succeeded(delivery, workers)
    assert_delivered(delivery, rows=3)
    assert delivery.attempts == 1
    assert LedgerEntry.objects.filter(entry_type="delivery.succeeded").count() == 1


# --- release uploads: a worker killed mid-ingest ------------------------------------------------

BIG_UPLOAD_ROWS = BIG_RELEASE_ROWS  # a load of 2-3 s here: long enough to kill it mid-way


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_ingest_is_recovered_within_a_minute_of_a_new_worker(
    released, steward, workers, redis_url
):
    accepted_before = LedgerEntry.objects.filter(entry_type="release.accepted").count()
    first = workers.start()
    job = release_uploads.release_upload_start(
        actor=steward, resource=released, upload=csv_upload(big_csv(BIG_UPLOAD_ROWS))
    )  # sent to the worker once committed

    def ingesting():
        row = ReleaseUpload.objects.values("state", "rows_checked").get(pk=job.pk)
        assert row["state"] != ReleaseUpload.State.SUCCEEDED, "loaded before the kill: add rows"
        return row["state"] == ReleaseUpload.State.RUNNING and row["rows_checked"] > 0

    wait_for(ingesting, workers, "the ingest to be reading the file")
    workers.kill(first)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (ReleaseUpload.State.RUNNING, 1)
    assert released.releases.count() == 1  # the killed load's transaction rolled back
    stored = Path(settings.MEDIA_ROOT) / job.file.name
    assert stored.is_file()

    started = time.monotonic()
    workers.start()
    workers.start_beat()

    def accepted():
        job.refresh_from_db()
        assert job.state != ReleaseUpload.State.FAILED, job.error or job.report
        return job.state == ReleaseUpload.State.SUCCEEDED

    wait_for(accepted, workers, f"release upload {job.pk} to succeed", timeout=RECOVERY_SECONDS)
    assert time.monotonic() - started < RECOVERY_SECONDS
    assert (job.attempts, job.rows_checked, job.release.row_count) == (
        2,
        BIG_UPLOAD_ROWS,
        BIG_UPLOAD_ROWS,
    )
    assert list(released.releases.values_list("sequence", flat=True)) == [2, 1]
    # One entry for the upload: the killed attempt's was rolled back with its load.
    assert LedgerEntry.objects.filter(entry_type="release.accepted").count() == accepted_before + 1
    assert not stored.parent.exists()  # the stored file and its folder are gone
