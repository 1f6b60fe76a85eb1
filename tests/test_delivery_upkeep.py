"""No delivery file without its row: own leftovers, the sweep, orphans, retention and fsck."""

import datetime
import hashlib
import io
import json
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessLog
from catalog import services as catalog_services
from ledger.models import LedgerEntry
from rights import services as grant_services
from rights.models import Grant
from sharing import delivery_files, tasks, upkeep
from sharing.deliveries import (
    Superseded,
    _Heartbeat,
    deliveries_dispatch,
    deliveries_sweep,
    delivery_build,
)
from sharing.models import Delivery
from tests.test_sharing import api, make_grant


def files_on_disk():
    root = Path(settings.MEDIA_ROOT) / "deliveries"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def entries(event):
    return [json.loads(bytes(e.entry)) for e in LedgerEntry.objects.filter(entry_type=event)]


def leftover(delivery, name, body=b"half a zip"):
    folder = delivery_files.directory(delivery.grant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    return folder / name


def as_killed(delivery, attempts=1, seconds_ago=60):
    """The row as a worker killed mid-build leaves it: running, heartbeat stopped."""
    stopped = timezone.now() - datetime.timedelta(seconds=seconds_ago)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.RUNNING, attempts=attempts, started_at=stopped, heartbeat_at=stopped
    )


@pytest.fixture
def grant_for(released, requester, steward, reviewer, departments):
    """Grants of the given method on the released resource (as in test_sharing)."""
    resource = catalog_services.resource_update(
        actor=steward, resource=released, data={}, methods=["periodic_copy", "upload"]
    )

    def build(method):
        return make_grant(resource, requester, steward, reviewer, departments, method)

    return build


@pytest.fixture
def sent(monkeypatch):
    """Deliveries handed to the broker (the task's ``delay``), in order."""
    ids = []
    monkeypatch.setattr(tasks.deliver, "delay", ids.append)
    return ids


@pytest.fixture
def four_built(grant_for):
    """A daily grant that started three days ago: four periods, all delivered."""
    grant = grant_for("periodic_copy")
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=timezone.localdate() - datetime.timedelta(days=3)
    )
    return grant, [delivery_build(d.pk) for d in deliveries_dispatch()]


# --- a build's own files --------------------------------------------------------------------


def test_a_refused_retry_removes_every_file_of_its_delivery_and_nothing_else(grant_for, reviewer):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    as_killed(delivery)
    partial = leftover(delivery, delivery_files.temporary_name(delivery.pk, 1))
    complete = leftover(delivery, delivery_files.final_name(delivery, 1), b"renamed, not committed")
    other = leftover(delivery, f"d{delivery.pk + 100}-a1-2026-01-01.zip", b"another delivery")
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")

    result = delivery_build(delivery.pk)

    assert (result.status, result.attempts) == (Delivery.Status.FAILED, 2)
    assert "revoked" in result.error
    assert not partial.exists() and not complete.exists()
    assert other.read_bytes() == b"another delivery"
    assert files_on_disk() == [f"{grant.pk}/{other.name}"]


def test_the_next_attempt_removes_earlier_attempts_files_and_keeps_only_its_own(grant_for):
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    as_killed(delivery)
    leftover(delivery, delivery_files.temporary_name(delivery.pk, 1))
    leftover(delivery, delivery_files.final_name(delivery, 1))

    result = delivery_build(delivery.pk)

    assert (result.status, result.attempts) == (Delivery.Status.SUCCEEDED, 2)
    assert result.file.name == f"deliveries/{grant.pk}/d{delivery.pk}-a2-{delivery.period_key}.zip"
    assert files_on_disk() == [f"{grant.pk}/d{delivery.pk}-a2-{delivery.period_key}.zip"]


def test_a_second_task_for_a_live_build_returns_at_once_and_changes_nothing(grant_for):
    grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    as_killed(delivery, seconds_ago=1)  # beating a second ago: alive
    before = Delivery.objects.filter(pk=delivery.pk).values().get()

    result = delivery_build(delivery.pk)

    assert result.status == Delivery.Status.RUNNING
    assert Delivery.objects.filter(pk=delivery.pk).values().get() == before
    assert files_on_disk() == []


def test_a_failed_attempt_removes_its_file_and_waits_for_the_sweeper(
    grant_for, monkeypatch, sent, django_capture_on_commit_callbacks
):
    grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()

    def broken_export(table, columns, names, write):
        write(bytearray(b"resident_id\n" * 1000))
        raise OSError("disk full")

    monkeypatch.setattr("catalog.release_store.export_csv", broken_export)
    with pytest.raises(OSError, match="disk full"):
        delivery_build(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.enqueued_at) == ("pending", 1, None)
    assert delivery.error == "OSError: disk full"
    wait = (delivery.retry_at - timezone.now()).total_seconds()
    assert 25 < wait <= 30
    assert files_on_disk() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 0  # still waiting for its retry
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep(now=delivery.retry_at + datetime.timedelta(seconds=1)) == 1
    assert sent == [delivery.pk]


# --- the sweep ------------------------------------------------------------------------------


def test_the_sweep_resends_only_lost_pending_and_dead_running_deliveries(
    four_built, sent, django_capture_on_commit_callbacks
):
    _grant, built = four_built
    now = timezone.now()
    ago = lambda seconds: now - datetime.timedelta(seconds=seconds)  # noqa: E731
    lost, queued, dead, alive = built
    Delivery.objects.filter(pk=lost.pk).update(status="pending", enqueued_at=ago(25))
    Delivery.objects.filter(pk=queued.pk).update(status="pending", enqueued_at=ago(10))
    Delivery.objects.filter(pk=dead.pk).update(
        status="running", heartbeat_at=ago(25), enqueued_at=ago(600)
    )
    Delivery.objects.filter(pk=alive.pk).update(
        status="running", heartbeat_at=ago(5), enqueued_at=ago(600)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep(now=now) == 2
    assert sent == [lost.pk, dead.pk]
    # Sent again just now: the next sweep leaves them alone until they are stale again.
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 0
    assert sent == [lost.pk, dead.pk]


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_and_stops_a_build_that_was_taken_over(grant_for, settings):
    settings.DELIVERY_HEARTBEAT_SECONDS = 0.05
    grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    as_killed(delivery)
    stopped = Delivery.objects.get(pk=delivery.pk).heartbeat_at
    with _Heartbeat(delivery.pk, 1) as heartbeat:
        deadline = time.monotonic() + 10
        while Delivery.objects.get(pk=delivery.pk).heartbeat_at == stopped:
            assert time.monotonic() < deadline, "no heartbeat in 10 s"
            time.sleep(0.02)
        heartbeat.check()  # still the current attempt
        Delivery.objects.filter(pk=delivery.pk).update(attempts=2)  # another worker took over
        while not heartbeat.superseded:
            assert time.monotonic() < deadline, "the takeover went unnoticed for 10 s"
            time.sleep(0.02)
        with pytest.raises(Superseded):
            heartbeat.check()


# --- orphans --------------------------------------------------------------------------------


def test_the_orphan_job_removes_old_unclaimed_files_and_records_each(four_built, settings):
    grant, built = four_built
    claimed_before = files_on_disk()
    hour_ago = time.time() - 2 * settings.DELIVERY_ORPHAN_GRACE_SECONDS
    old = leftover(built[0], delivery_files.temporary_name(built[0].pk, 7), b"stale copy")
    os.utime(old, (hour_ago, hour_ago))
    young = leftover(built[1], delivery_files.temporary_name(built[1].pk, 7), b"just written")
    as_killed(built[2], attempts=3, seconds_ago=1)  # a live build: attempt 3
    live = leftover(built[2], delivery_files.temporary_name(built[2].pk, 3), b"being written")
    os.utime(live, (hour_ago, hour_ago))
    ledger_size = LedgerEntry.objects.count()

    assert upkeep.orphan_files_remove() == 1

    assert not old.exists()
    assert young.read_bytes() == b"just written" and live.read_bytes() == b"being written"
    assert sorted(
        set(files_on_disk()) - {f"{grant.pk}/{young.name}", f"{grant.pk}/{live.name}"}
    ) == [name for name in claimed_before if name.startswith(f"{grant.pk}/d")]
    assert LedgerEntry.objects.count() == ledger_size + 1
    (entry,) = entries("delivery.file_removed")
    assert entry["subject"] == {"delivery": built[0].pk, "attempt": 7, "grant": grant.pk}
    assert entry["hashes"] == {"file_sha256": hashlib.sha256(b"stale copy").hexdigest()}
    assert entry["detail"] == {"bytes": 10, "rule": "orphan"}
    assert "deliveries/" not in json.dumps(entry)  # ids and hashes, never a path


# --- retention ------------------------------------------------------------------------------


def test_copies_of_a_grant_ended_beyond_retention_are_purged_and_downloads_say_so(
    grant_for, reviewer, requester, django_capture_on_commit_callbacks
):
    ended = grant_for("periodic_copy")
    recent = grant_for("periodic_copy")
    running = grant_for("periodic_copy")
    built = {d.grant_id: delivery_build(d.pk) for d in deliveries_dispatch()}
    for grant in (ended, recent):
        grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Ended.")
    days = settings.DELIVERY_RETENTION_DAYS
    Grant.objects.filter(pk=ended.pk).update(
        ended_at=timezone.now() - datetime.timedelta(days=days, hours=1)
    )
    Grant.objects.filter(pk=recent.pk).update(
        ended_at=timezone.now() - datetime.timedelta(days=days - 1)
    )
    purged = built[ended.pk]
    path = Path(settings.MEDIA_ROOT) / purged.file.name
    untouched = {
        pk: Delivery.objects.filter(pk=built[pk].pk).values().get()
        for pk in (recent.pk, running.pk)
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert upkeep.deliveries_purge_retained() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert upkeep.deliveries_purge_retained() == 0  # once

    row = Delivery.objects.get(pk=purged.pk)
    assert row.purged_at is not None and row.file.name == ""
    assert (row.status, row.sha256, row.row_count) == ("succeeded", purged.sha256, 3)
    assert not path.exists()
    for pk, values in untouched.items():
        assert Delivery.objects.filter(pk=built[pk].pk).values().get() == values
        assert (Path(settings.MEDIA_ROOT) / values["file"]).is_file()
    (entry,) = entries("delivery.purged")
    assert entry["subject"] == {"delivery": purged.pk, "grant": ended.pk}
    assert entry["hashes"] == {"sha256": purged.sha256, "file_sha256": purged.file_sha256}
    assert entry["detail"] == {"rule": "retention", "retention_days": days}

    response = api(requester).get(f"/api/v1/deliveries/{purged.pk}/download/")
    assert response.status_code == 410
    assert "deleted" in response.json()["detail"] and "retention rule" in response.json()["detail"]
    log = AccessLog.objects.get(target=f"delivery {purged.pk}")
    assert (log.outcome, log.detail) == ("refused", {"reason": "purged"})
    listed = api(requester).get(f"/api/v1/grants/{ended.pk}/deliveries/").json()["results"][0]
    assert listed["download"] is None and listed["purged_at"] is not None


# --- deliveries_fsck ------------------------------------------------------------------------


def run_fsck(*args):
    out = io.StringIO()
    try:
        call_command("deliveries_fsck", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_fsck_reports_every_mismatch_and_changes_nothing(four_built):
    grant, (intact, missing, differs, _fourth) = four_built
    (Path(settings.MEDIA_ROOT) / missing.file.name).unlink()
    (Path(settings.MEDIA_ROOT) / differs.file.name).write_bytes(b"tampered")
    stray = leftover(intact, delivery_files.temporary_name(intact.pk, 9), b"stray")
    disk = {
        name: (Path(settings.MEDIA_ROOT) / "deliveries" / name).read_bytes()
        for name in files_on_disk()
    }
    rows = list(Delivery.objects.order_by("pk").values())
    ledger_size = LedgerEntry.objects.count()

    status, out = run_fsck()

    assert status == 1
    lines = out.strip().splitlines()
    assert lines[:3] == [
        f"missing_file: {missing.file.name} (delivery #{missing.pk})",
        f"file_differs: {differs.file.name} (delivery #{differs.pk}) recorded "
        f"{differs.size_bytes} bytes SHA-256 {differs.file_sha256}, found 8 bytes SHA-256 "
        f"{hashlib.sha256(b'tampered').hexdigest()}",
        f"file_without_row: deliveries/{grant.pk}/{stray.name} (delivery #{intact.pk})",
    ]
    assert lines[3:] == ["3 problem(s) found, 0 repaired."]
    assert {
        n: (Path(settings.MEDIA_ROOT) / "deliveries" / n).read_bytes() for n in files_on_disk()
    } == disk
    assert list(Delivery.objects.order_by("pk").values()) == rows
    assert LedgerEntry.objects.count() == ledger_size


def test_fsck_repair_mends_each_mismatch_and_a_rebuild_makes_it_clean(
    four_built, sent, django_capture_on_commit_callbacks
):
    grant, (intact, missing, differs, fourth) = four_built
    (Path(settings.MEDIA_ROOT) / missing.file.name).unlink()
    (Path(settings.MEDIA_ROOT) / differs.file.name).write_bytes(b"tampered")
    stray = leftover(intact, delivery_files.temporary_name(intact.pk, 9), b"stray")
    kept = {d.pk: Delivery.objects.filter(pk=d.pk).values().get() for d in (intact, fourth)}

    with django_capture_on_commit_callbacks(execute=True):
        status, out = run_fsck("--repair")

    assert status == 0
    assert out.strip().splitlines()[-1] == "3 problem(s) found, 3 repaired."
    assert not stray.exists()
    assert files_on_disk() == sorted(
        f"{grant.pk}/{Path(kept[pk]['file']).name}" for pk in (intact.pk, fourth.pk)
    )
    for pk, values in kept.items():
        assert Delivery.objects.filter(pk=pk).values().get() == values
    for delivery in (missing, differs):
        row = Delivery.objects.get(pk=delivery.pk)
        assert (row.status, row.file.name, row.sha256, row.attempts) == ("pending", "", "", 0)
    assert sent == [missing.pk, differs.pk]
    invalidated = entries("delivery.invalidated")
    assert [(e["subject"]["delivery"], e["detail"]["problem"]) for e in invalidated] == [
        (missing.pk, "missing_file"),
        (differs.pk, "file_differs"),
    ]
    assert invalidated[1]["hashes"]["file_sha256"] == differs.file_sha256
    (removed,) = entries("delivery.file_removed")
    assert removed["detail"] == {"bytes": 5, "rule": "fsck"}

    for delivery in (missing, differs):
        assert delivery_build(delivery.pk).status == "succeeded"
    status, out = run_fsck()
    assert (status, out.strip()) == (0, "0 problem(s) found, 0 repaired.")
