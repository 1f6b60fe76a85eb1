"""Release uploads checked in a worker, with their progress (issue #15.4); delivery progress."""

import datetime
import io
import os
import re
import threading
import time

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from catalog import release_uploads, services, tasks
from catalog.models import ReleaseUpload
from catalog.release_validation import Report
from core.exceptions import IllegalTransition, PayloadTooLarge
from ledger.models import LedgerEntry
from sharing.deliveries import _Heartbeat, deliveries_dispatch, delivery_build
from sharing.models import Delivery
from tests.conftest import GOOD_CSV, ITEMS, csv_upload, resource_data
from tests.test_releases import HEADER, release_state
from tests.test_sharing import make_grant

BAD_CSV = HEADER + "R1,1980-01-01,x,,false\nR2,1980-13-01,1,,false\nR3,1980-01-01,1,,true"


def media_files():
    """Every file under MEDIA_ROOT, relative to it."""
    found = []
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found += [os.path.relpath(os.path.join(root, name), settings.MEDIA_ROOT) for name in files]
    return sorted(found)


def upload_folders():
    path = settings.MEDIA_ROOT / "release-uploads"
    return sorted(os.listdir(path)) if path.exists() else []


def state_of(resource):
    """What a refused upload may not change: releases, their tables, the ledger, the files."""
    return release_state(resource), LedgerEntry.objects.count(), media_files()


@pytest.fixture
def queued(released, steward, django_capture_on_commit_callbacks):
    def start(text):
        with django_capture_on_commit_callbacks() as callbacks:
            job = release_uploads.release_upload_start(
                actor=steward, resource=released, upload=csv_upload(text, name="vaccinations.csv")
            )
        return job, callbacks

    return start


# --- the service --------------------------------------------------------------------------------


def test_start_stores_the_file_in_a_folder_of_its_own_and_queues_the_job(queued, released):
    before = release_state(released)
    job, callbacks = queued(GOOD_CSV)
    assert (job.state, job.original_name, job.size_bytes) == (
        "queued",
        "vaccinations.csv",
        len(GOOD_CSV.encode()),
    )
    (folder,) = upload_folders()
    assert job.file.name == f"release-uploads/{folder}/upload.csv"
    assert default_storage.open(job.file.name).read() == GOOD_CSV.encode()
    assert len(callbacks) == 1  # the task, sent once the job is committed
    assert release_state(released) == before


def test_the_task_sent_on_commit_is_the_job(queued, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.release_upload_run, "delay", sent.append)
    job, callbacks = queued(GOOD_CSV)
    callbacks[0]()
    assert sent == [job.pk]


def test_run_accepts_the_file_records_progress_and_removes_the_file(queued, released, steward):
    job, _callbacks = queued(GOOD_CSV)
    entries = LedgerEntry.objects.count()
    job = release_uploads.release_upload_run(job.pk)
    release = released.releases.get(sequence=2)
    assert (job.state, job.release, job.rows_total, job.rows_checked, job.problems_so_far) == (
        "succeeded",
        release,
        3,
        3,
        0,
    )
    assert job.report == release.report
    assert (job.error, job.file.name) == ("", "")
    assert job.started_at <= job.finished_at
    assert (release.row_count, release.original_name, release.uploaded_by) == (
        3,
        "vaccinations.csv",
        steward,
    )
    assert release.file.read() == GOOD_CSV.encode()
    # The same ledger entry as a direct upload: one, release.accepted.
    assert LedgerEntry.objects.count() == entries + 1
    assert LedgerEntry.objects.order_by("-index").first().entry_type == "release.accepted"
    assert upload_folders() == []


def test_refused_file_keeps_the_report_writes_nothing_and_removes_the_file(queued, released):
    job, _callbacks = queued(BAD_CSV)
    before = state_of(released)
    before = (before[0], before[1], [f for f in before[2] if not f.startswith("release-uploads")])
    job = release_uploads.release_upload_run(job.pk)
    assert (job.state, job.release, job.rows_total, job.rows_checked, job.problems_so_far) == (
        "failed",
        None,
        3,  # three records, the last without a line break
        3,
        2,
    )
    assert job.report["accepted"] is False
    assert [(e["line"], e["column"]) for e in job.report["errors"]] == [
        (2, "dose_number"),
        (3, "birth_date"),
    ]
    assert job.error == ""
    assert state_of(released) == before
    assert upload_folders() == []


def test_a_job_runs_once(queued, released):
    job, _callbacks = queued(GOOD_CSV)
    release_uploads.release_upload_run(job.pk)
    after = state_of(released)
    again = release_uploads.release_upload_run(job.pk)
    assert (again.state, again.release.sequence) == ("succeeded", 2)
    assert state_of(released) == after


def test_a_resource_retired_before_the_check_refuses_the_file(queued, released, steward):
    job, _callbacks = queued(GOOD_CSV)
    services.resource_retire(actor=steward, resource=released, reason="Replaced.")
    before = release_state(released)
    job = release_uploads.release_upload_run(job.pk)
    assert (job.state, job.report, job.error) == (
        "failed",
        None,
        "A retired resource takes no new releases.",
    )
    assert release_state(released) == before
    assert upload_folders() == []


def test_an_unexpected_error_fails_the_job_removes_the_file_and_is_raised(queued, monkeypatch):
    job, _callbacks = queued(GOOD_CSV)

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "release_ingest", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        release_uploads.release_upload_run(job.pk)
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == (
        "The file could not be checked because of an error on the server (RuntimeError). "
        "Nothing was changed; upload it again, and tell the administrators if it happens again."
    )
    assert upload_folders() == []


def test_a_broker_that_is_down_fails_the_job_and_removes_the_file(queued, monkeypatch, released):
    def down(job_id):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.release_upload_run, "delay", down)
    job, callbacks = queued(GOOD_CSV)
    callbacks[0]()
    job.refresh_from_db()
    assert (job.state, job.error) == (
        "failed",
        "The file could not be queued for checking. Upload it again.",
    )
    assert upload_folders() == []
    assert released.releases.count() == 1


def test_checks_before_the_file_is_read_refuse_it_and_store_nothing(released, steward, settings):
    settings.RELEASE_MAX_BYTES = 10
    with pytest.raises(PayloadTooLarge):
        release_uploads.release_upload_start(
            actor=steward, resource=released, upload=csv_upload(GOOD_CSV)
        )
    settings.RELEASE_MAX_BYTES = 1000
    retired = services.resource_retire(actor=steward, resource=released, reason="Replaced.")
    with pytest.raises(IllegalTransition):
        release_uploads.release_upload_start(
            actor=steward, resource=retired, upload=csv_upload(GOOD_CSV)
        )
    assert not ReleaseUpload.objects.exists()
    assert upload_folders() == []


def test_the_progress_writer_writes_the_counts_when_they_move(queued):
    job, _callbacks = queued(GOOD_CSV)
    ReleaseUpload.objects.filter(pk=job.pk).update(state="running", attempts=1)
    report = Report(max_errors=100)
    report.row_count = 1234
    report.add(7, "fee", "bad")
    writer = release_uploads._ProgressWriter(job.pk, 1, report)
    start = writer._written_at
    assert writer.write(now=start) is True
    job.refresh_from_db()
    assert (job.rows_checked, job.problems_so_far) == (1234, 1)
    written_at = job.progress_at
    assert writer.write(now=start + 4.9) is False  # nothing moved, a beat not yet due: no update
    job.refresh_from_db()
    assert job.progress_at == written_at


def test_the_progress_writer_beats_every_five_seconds_when_nothing_moves(queued):
    job, _callbacks = queued(GOOD_CSV)
    ReleaseUpload.objects.filter(pk=job.pk).update(state="running", attempts=1, progress_at=None)
    writer = release_uploads._ProgressWriter(job.pk, 1, Report(max_errors=100))
    start = writer._written_at
    assert writer.write(now=start + release_uploads.HEARTBEAT_SECONDS) is True
    job.refresh_from_db()
    assert (job.rows_checked, job.problems_so_far) == (0, 0)
    assert job.progress_at is not None
    beat = job.progress_at
    assert writer.write(now=start + release_uploads.HEARTBEAT_SECONDS + 1) is False
    job.refresh_from_db()
    assert job.progress_at == beat


def test_the_progress_writer_of_a_taken_over_attempt_writes_nothing(queued):
    job, _callbacks = queued(GOOD_CSV)
    ReleaseUpload.objects.filter(pk=job.pk).update(state="running", attempts=2)
    report = Report(max_errors=100)
    report.row_count = 500
    release_uploads._ProgressWriter(job.pk, 1, report).write()
    job.refresh_from_db()
    assert (job.rows_checked, job.progress_at) == (0, None)


def test_the_progress_writer_leaves_an_ended_job_alone(queued):
    job, _callbacks = queued(GOOD_CSV)
    # Ended under this very attempt: only the running state lets the writer in.
    ReleaseUpload.objects.filter(pk=job.pk).update(state="succeeded", attempts=1)
    report = Report(max_errors=100)
    report.row_count = 99
    release_uploads._ProgressWriter(job.pk, 1, report).write()
    job.refresh_from_db()
    assert (job.rows_checked, job.progress_at) == (0, None)


class GatedFile(io.RawIOBase):
    """A file whose reading stops at ``gate`` (a byte offset) until ``opened`` is set."""

    def __init__(self, raw, gate):
        self.raw, self.gate = raw, gate
        self.reached = threading.Event()
        self.opened = threading.Event()

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()

    def read(self, size=-1):
        position = self.raw.tell()
        if not self.opened.is_set() and position >= self.gate:
            self.reached.set()
            self.opened.wait(timeout=60)
        if not self.opened.is_set() and (size < 0 or position + size > self.gate):
            size = self.gate - position
        return self.raw.read(size)

    def close(self):
        self.raw.close()
        super().close()


def generated_csv(rows):
    lines = [HEADER] + [f"R{n:07d},1980-01-01,1,12.50,false\n" for n in range(rows)]
    return "".join(lines)


def gate_after(text, rows):
    """The byte offset at the end of record ``rows`` (the header is line 1)."""
    return len("".join(text.splitlines(keepends=True)[: rows + 1]).encode())


@pytest.fixture
def gated(monkeypatch):
    """The stored file opened by the worker stops at a gate, so a test sees the job mid-way."""
    holder = {}

    def open_stored(job):
        holder["file"] = GatedFile(default_storage.open(job.file.name, "rb"), holder["gate"])
        holder["ready"].set()
        return holder["file"]

    holder["ready"] = threading.Event()
    monkeypatch.setattr(release_uploads, "_open_stored", open_stored)
    return holder


def wait_for(condition, timeout=30):
    """A bounded wait for work another thread does (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition did not come true in time")


def run_and_close(job_id):
    """The job as a worker thread runs it, closing the thread's own connection at the end."""
    try:
        release_uploads.release_upload_run(job_id)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_checked_are_visible_while_the_ingest_runs(released, steward, gated, monkeypatch):
    """PostgreSQL: another connection sees the counts of an ingest still in its transaction."""
    sent = []  # the job commits for real here: keep its task from the broker, run it below
    monkeypatch.setattr(tasks.release_upload_run, "delay", sent.append)
    text = generated_csv(20_000)
    gated["gate"] = gate_after(text, 12_000)
    job = ReleaseUpload.objects.get(
        pk=release_uploads.release_upload_start(
            actor=steward, resource=released, upload=csv_upload(text)
        ).pk
    )
    assert sent == [job.pk]
    worker = threading.Thread(target=run_and_close, args=(job.pk,))
    worker.start()
    try:
        gated["ready"].wait(timeout=30)
        gated["file"].reached.wait(timeout=30)
        mid = wait_for(lambda: ReleaseUpload.objects.filter(pk=job.pk, rows_checked__gt=0).first())
        assert (mid.state, mid.rows_total, mid.rows_checked, mid.problems_so_far) == (
            "running",
            20_000,
            12_000,
            0,
        )
        assert released.releases.count() == 1  # nothing is visible before the commit
    finally:
        gated["file"].opened.set()
        worker.join(timeout=60)
    job.refresh_from_db()
    assert (job.state, job.rows_checked, job.release.row_count) == ("succeeded", 20_000, 20_000)
    assert upload_folders() == []


# --- the pages ----------------------------------------------------------------------------------


def test_form_post_redirects_to_the_job_page_which_refreshes_while_queued(
    client, released, steward
):
    client.force_login(steward)
    response = client.post(
        reverse("catalog:release_upload", args=[released.pk]), {"file": csv_upload(GOOD_CSV)}
    )
    job = ReleaseUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/{released.pk}/releases/uploads/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Waiting for a worker to check the file." in page
    assert f'data-status-url="/catalog/{released.pk}/releases/uploads/{job.pk}/status/"' in page


def test_status_json_while_running_and_when_done(client, queued, steward, released):
    job, _callbacks = queued(generated_csv(2500))
    client.force_login(steward)
    url = reverse("catalog:release_upload_status", args=[released.pk, job.pk])
    ReleaseUpload.objects.filter(pk=job.pk).update(
        state="running", rows_total=2500, rows_checked=1200, progress_at=timezone.now()
    )
    assert client.get(url).json() == {
        "state": "running",
        "state_label": "Being checked and loaded",
        "finished": False,
        "rows_total": 2500,
        "rows_checked": 1200,
        "problems_so_far": 0,
        "summary": "1,200 of 2,500 rows checked; 0 problems so far.",
        "release": None,
        "url": f"/catalog/{released.pk}/releases/uploads/{job.pk}/",
    }
    ReleaseUpload.objects.filter(pk=job.pk).update(state="queued", progress_at=None)
    release_uploads.release_upload_run(job.pk)
    body = client.get(url).json()
    assert (body["state"], body["finished"], body["release"], body["summary"]) == (
        "succeeded",
        True,
        2,
        "2,500 rows checked and loaded.",
    )


def test_running_without_counts_yet_says_how_many_rows_it_checks(client, queued, steward):
    job, _callbacks = queued(GOOD_CSV)
    release_uploads._claim(job.pk)  # running, with its first heartbeat
    ReleaseUpload.objects.filter(pk=job.pk).update(rows_total=200_000)  # counted, none checked
    client.force_login(steward)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Checking 200,000 rows." in page
    assert '<progress id="check-bar" max="1"></progress>' in page  # indeterminate
    assert '<meta http-equiv="refresh" content="2">' in page


def test_job_page_shows_the_accepted_release_and_stops_refreshing(client, queued, steward):
    job, _callbacks = queued(GOOD_CSV)
    release_uploads.release_upload_run(job.pk)
    client.force_login(steward)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Release 2 accepted: 3 rows." in page
    assert "3 rows checked and loaded." in page
    assert '<progress id="check-bar" max="3" value="3"></progress>' in page
    assert 'http-equiv="refresh"' not in page


def test_job_page_lists_the_problems_of_a_refused_file(client, queued, steward):
    job, _callbacks = queued(BAD_CSV)
    release_uploads.release_upload_run(job.pk)
    client.force_login(steward)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "The file was refused. Nothing was changed." in page
    assert "3 rows checked; 2 problems found." in page
    assert "2 problems found. The previous release is unchanged." in page
    assert "&#x27;x&#x27; is not a whole number" in page
    assert "&#x27;1980-13-01&#x27; is not a date (expected YYYY-MM-DD)" in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize("name", ["release_upload_detail", "release_upload_status"])
def test_outsider_steward_and_requester_get_404_for_a_job(
    client, queued, released, outsider_steward, requester, name
):
    job, _callbacks = queued(GOOD_CSV)
    url = reverse(f"catalog:{name}", args=[released.pk, job.pk])
    for user in (outsider_steward, requester):
        client.force_login(user)
        assert client.get(url).status_code == 404
    job.refresh_from_db()
    assert (job.state, job.rows_checked, job.progress_at) == ("queued", 0, None)


def test_a_job_under_another_resource_url_is_404(client, queued, released, steward):
    job, _callbacks = queued(GOOD_CSV)
    client.force_login(steward)
    other = services.resource_create(
        actor=steward,
        owner_department=released.owner_department,
        data=resource_data(identifier="HEALTH-OTHER-002"),
        methods=["periodic_copy"],
        items=ITEMS,
    )
    url = reverse("catalog:release_upload_detail", args=[other.pk, job.pk])
    assert client.get(url).status_code == 404


# --- deliveries ---------------------------------------------------------------------------------


@pytest.fixture
def periodic_grant(released, requester, steward, reviewer, departments):
    resource = services.resource_update(
        actor=steward, resource=released, data={}, methods=["periodic_copy", "upload"]
    )
    return make_grant(resource, requester, steward, reviewer, departments, "periodic_copy")


def grant_page(client, user, grant):
    client.force_login(user)
    return client.get(reverse("grants:grant_detail", args=[grant.pk])).content.decode()


def test_a_delivery_build_records_its_rows_written_and_total(periodic_grant):
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    assert (delivery.status, delivery.rows_written, delivery.rows_total) == ("succeeded", 3, 3)


def test_each_heartbeat_writes_the_rows_written_so_far(periodic_grant):
    (delivery,) = deliveries_dispatch()
    Delivery.objects.filter(pk=delivery.pk).update(status="running", attempts=1)
    heartbeat = _Heartbeat(delivery.pk, 1)
    heartbeat.written(1500)
    assert heartbeat.beat() is True
    delivery.refresh_from_db()
    assert delivery.rows_written == 1500
    assert _Heartbeat(delivery.pk, 2).beat() is False  # another attempt's: taken over


def test_grant_page_shows_a_running_delivery_and_refreshes(client, periodic_grant, requester):
    (delivery,) = deliveries_dispatch()
    beat = timezone.make_aware(datetime.datetime(2026, 3, 4, 10, 11, 12))
    Delivery.objects.filter(pk=delivery.pk).update(
        status="running", attempts=1, rows_written=1500, rows_total=3000, heartbeat_at=beat
    )
    page = grant_page(client, requester, periodic_grant)
    assert "1,500 of 3,000 rows written; last heartbeat at 10:11:12" in page
    assert '<meta http-equiv="refresh" content="5">' in page


def test_grant_page_says_queued_done_and_failed_in_words(client, periodic_grant, requester):
    (delivery,) = deliveries_dispatch()
    page = grant_page(client, requester, periodic_grant)
    assert re.search(r"<td>Queued\s*</td>", page)
    assert 'http-equiv="refresh"' not in page
    delivery = delivery_build(delivery.pk)
    page = grant_page(client, requester, periodic_grant)
    assert (
        f'Done\n<span class="muted delivery-progress">3 rows, {filesizeformat(delivery.size_bytes)}'
        in page
    )
    assert 'http-equiv="refresh"' not in page
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", error="the grant is revoked")
    page = grant_page(client, requester, periodic_grant)
    assert 'Failed<br><span class="error">the grant is revoked</span>' in page


# --- the sweep: lost messages, killed workers ---------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """The tasks the sweep sends, kept from the broker."""
    sent = []
    monkeypatch.setattr(tasks.release_upload_run, "delay", sent.append)
    return sent


def long_ago():
    return timezone.now() - datetime.timedelta(hours=2)


def job_row(job):
    return ReleaseUpload.objects.filter(pk=job.pk).values().get()


def killed(job):
    """The job claimed by a worker that was then killed: no beat since long ago. Its attempt."""
    claimed, attempt = release_uploads._claim(job.pk)
    ReleaseUpload.objects.filter(pk=job.pk).update(progress_at=long_ago(), started_at=long_ago())
    return attempt


def test_the_stale_bound_is_the_setting_on_postgresql_and_an_hour_on_sqlite(settings):
    settings.RELEASE_UPLOAD_STALE_SECONDS = 45
    expected = 45 if connection.vendor == "postgresql" else 3600
    assert release_uploads.stale_seconds() == expected


def test_a_running_job_whose_worker_ended_is_run_again_from_its_file_and_succeeds_once(
    queued, released, sent
):
    job, _callbacks = queued(GOOD_CSV)
    assert killed(job) == 1
    entries = LedgerEntry.objects.count()
    assert release_uploads.release_uploads_sweep() == 1
    row = job_row(job)
    assert (row["state"], row["attempts"], row["progress_at"], row["error"]) == (
        "queued",
        1,
        None,
        "",
    )
    assert sent == [job.pk]
    assert default_storage.open(row["file"]).read() == GOOD_CSV.encode()  # still there
    job = release_uploads.release_upload_run(job.pk)
    assert (job.state, job.attempts, job.release.sequence, job.rows_checked) == (
        "succeeded",
        2,
        2,
        3,
    )
    assert list(released.releases.values_list("sequence", flat=True)) == [2, 1]
    assert LedgerEntry.objects.count() == entries + 1
    assert LedgerEntry.objects.order_by("-index").first().entry_type == "release.accepted"
    assert upload_folders() == []


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(queued, released, sent):
    job, _callbacks = queued(GOOD_CSV)
    release_uploads._claim(job.pk)
    ReleaseUpload.objects.filter(pk=job.pk).update(
        started_at=long_ago(), progress_at=timezone.now() - datetime.timedelta(seconds=5)
    )
    before = job_row(job), state_of(released)
    assert release_uploads.release_uploads_sweep() == 0
    assert (job_row(job), state_of(released)) == before
    assert sent == []


def test_a_queued_job_not_picked_up_is_sent_again_once(queued, released, sent, settings):
    settings.RELEASE_UPLOAD_STALE_SECONDS = 30
    job, callbacks = queued(GOOD_CSV)
    callbacks[0]()
    sent_at = job_row(job)["enqueued_at"]
    assert sent == [job.pk]
    # Not yet past the bound: nothing.
    assert release_uploads.release_uploads_sweep(now=sent_at + datetime.timedelta(seconds=29)) == 0
    assert (sent, job_row(job)["enqueued_at"]) == ([job.pk], sent_at)
    later = sent_at + datetime.timedelta(seconds=31)
    assert release_uploads.release_uploads_sweep(now=later) == 1
    assert sent == [job.pk, job.pk]
    row = job_row(job)
    assert (row["state"], row["attempts"], row["enqueued_at"]) == ("queued", 0, later)
    assert release_uploads.release_uploads_sweep(now=later) == 0  # sent just now
    assert sent == [job.pk, job.pk]
    # Both messages arrive: the job is checked and loaded once.
    assert release_uploads.release_upload_run(job.pk).state == "succeeded"
    after = job_row(job), state_of(released)
    assert release_uploads.release_upload_run(job.pk).state == "succeeded"
    assert (job_row(job), state_of(released)) == after
    assert released.releases.count() == 2


def test_a_queued_job_never_sent_is_sent_once_it_is_past_the_bound(queued, sent, settings):
    settings.RELEASE_UPLOAD_STALE_SECONDS = 30
    job, _callbacks = queued(GOOD_CSV)  # the process ended before its on-commit send
    created = job_row(job)["created_at"]
    assert release_uploads.release_uploads_sweep(now=created + datetime.timedelta(seconds=29)) == 0
    assert release_uploads.release_uploads_sweep(now=created + datetime.timedelta(seconds=31)) == 1
    assert sent == [job.pk]


def test_a_duplicate_task_for_a_running_job_changes_nothing(queued, released):
    job, _callbacks = queued(GOOD_CSV)
    release_uploads._claim(job.pk)
    before = job_row(job), state_of(released)
    again = release_uploads.release_upload_run(job.pk)
    assert (again.state, again.attempts) == ("running", 1)
    assert (job_row(job), state_of(released)) == before


def test_after_the_last_attempt_the_job_fails_with_the_message_and_its_file_is_gone(
    queued, released, sent
):
    job, _callbacks = queued(GOOD_CSV)
    before = release_state(released), LedgerEntry.objects.count()
    for attempt in range(1, release_uploads.MAX_ATTEMPTS):
        assert killed(job) == attempt
        assert release_uploads.release_uploads_sweep() == 1
        assert job_row(job)["state"] == "queued"
    assert killed(job) == 3
    assert release_uploads.release_uploads_sweep() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.file.name, job.release) == ("failed", 3, "", None)
    assert job.error == "The check stopped (the worker ended); upload the file again."
    assert job.finished_at is not None
    assert sent == [job.pk, job.pk]  # the two attempts after the first; none after the last
    assert upload_folders() == []
    assert (release_state(released), LedgerEntry.objects.count()) == before
    # Nothing is left to do: later sweeps and a late duplicate task change nothing.
    ended = job_row(job)
    assert release_uploads.release_uploads_sweep() == 0
    assert release_uploads.release_upload_run(job.pk).state == "failed"
    assert (job_row(job), sent) == (ended, [job.pk, job.pk])


def test_a_worker_taken_over_cannot_finish_the_job_too(queued, released, sent):
    """The old worker was slow, not dead: its load ends after the sweep took the job over, and
    again after the new attempt claimed it. Both times it is rolled back; the taker's stands."""
    job, _callbacks = queued(GOOD_CSV)
    old, attempt = release_uploads._claim(job.pk)
    ReleaseUpload.objects.filter(pk=job.pk).update(progress_at=long_ago())
    assert release_uploads.release_uploads_sweep() == 1
    before = state_of(released)
    with pytest.raises(release_uploads.Superseded):
        release_uploads._check_and_load(old, attempt)  # the job is queued again
    assert state_of(released) == before  # no release, no ledger entry, the file still there
    assert job_row(job)["state"] == "queued"
    new, new_attempt = release_uploads._claim(job.pk)
    assert new_attempt == 2
    with pytest.raises(release_uploads.Superseded):
        release_uploads._check_and_load(old, attempt)  # another attempt is the current one
    assert state_of(released) == before
    row = job_row(job)
    assert (row["state"], row["attempts"], row["release_id"]) == ("running", 2, None)
    entries = LedgerEntry.objects.count()
    done = release_uploads._check_and_load(new, new_attempt)
    assert (done.state, done.release.sequence) == ("succeeded", 2)
    assert released.releases.count() == 2
    assert LedgerEntry.objects.count() == entries + 1
    assert upload_folders() == []


def test_the_sweep_task_runs_the_sweep(queued, sent):
    job, _callbacks = queued(GOOD_CSV)
    killed(job)
    assert tasks.sweep_release_uploads() == 1
    assert sent == [job.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stalled_ingest_still_beats_and_the_sweep_leaves_it_alone(
    released, steward, gated, monkeypatch
):
    """PostgreSQL: with the counts stuck (the file's reading waits at a gate), the progress
    thread still writes ``progress_at``; the sweep sees a live job and does nothing."""
    sent = []  # the job commits for real here: keep its task from the broker, run it below
    monkeypatch.setattr(tasks.release_upload_run, "delay", sent.append)
    monkeypatch.setattr(release_uploads, "HEARTBEAT_SECONDS", 0.2)
    text = generated_csv(5_000)
    gated["gate"] = gate_after(text, 3_000)
    job = release_uploads.release_upload_start(
        actor=steward, resource=released, upload=csv_upload(text)
    )
    worker = threading.Thread(target=run_and_close, args=(job.pk,))
    worker.start()
    try:
        gated["ready"].wait(timeout=30)
        gated["file"].reached.wait(timeout=30)
        first = wait_for(
            lambda: ReleaseUpload.objects.filter(pk=job.pk, rows_checked=3_000).first()
        )
        beat = wait_for(
            lambda: ReleaseUpload.objects.filter(
                pk=job.pk, progress_at__gt=first.progress_at
            ).first()
        )
        assert (beat.state, beat.attempts, beat.rows_checked) == ("running", 1, 3_000)
        assert release_uploads.release_uploads_sweep() == 0
        assert sent == [job.pk]
    finally:
        gated["file"].opened.set()
        worker.join(timeout=60)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.release.row_count) == ("succeeded", 1, 5_000)
    assert released.releases.count() == 2
