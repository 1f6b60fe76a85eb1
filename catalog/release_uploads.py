"""Release uploads checked and loaded in a worker, with their progress on record (issue #15.4).

- ``release_upload_start`` (the web form) makes the checks a file passes before it is read (who
  may upload, the resource's state, the size, its data items), stores the file in a folder of its
  own under ``MEDIA_ROOT/release-uploads/`` and creates a queued ``ReleaseUpload``; the task is
  sent once that row is committed.
- ``release_upload_run`` (the Celery task ``catalog.tasks.release_upload_run``) claims the job
  (queued → running), counts the file's lines (``rows_total``: the lines less the header), then
  runs ``catalog.services.release_ingest`` — the same checks, report, ledger entry and rollback
  on refusal as an upload through the API — while a thread writes the rows checked and the
  problems found so far to the row every ``PROGRESS_SECONDS`` and beats (``progress_at``) at
  least every ``HEARTBEAT_SECONDS``. The job ends succeeded (with its release) or failed (with
  the refusal report, or the error); either way the stored file and its folder are removed.
- ``release_uploads_sweep`` (the periodic task ``release-uploads-sweep``, every 15 s) recovers
  what no live worker does: a queued job not picked up ``RELEASE_UPLOAD_STALE_SECONDS`` after it
  was sent (the broker lost the message) is sent again; a running job whose heartbeat stopped
  that long ago (its worker was killed; the ingest's transaction rolled back, so nothing of it was
  loaded) goes back to queued and is sent again, to be checked again from the stored file, or,
  after ``MAX_ATTEMPTS`` claims, fails with its file removed.

Each claim is an attempt (``attempts``). A worker finishes a job only while its attempt is the
job's current one: the load and the accept are one transaction that ends by locking the job's row
and checking the attempt, so a slow worker that was taken over rolls its release back and the
taker's stands; its progress ``UPDATE`` names its attempt too, and changes nothing any more.

Live counts and the heartbeat need a database that takes a second writer while the ingest's
transaction is open: PostgreSQL. SQLite (the quick start) locks the whole file for that
transaction, so there the row shows the job running, with its total, until it ends, and beats
only before the load starts: the sweep takes a running job over only after
``SQLITE_STALE_SECONDS`` (an hour, longer than any load of ``RELEASE_MAX_BYTES`` takes there);
queued jobs are sent again after ``RELEASE_UPLOAD_STALE_SECONDS`` on both.
"""

import datetime
import logging
import threading
import time
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog import services
from catalog.models import Release, ReleaseUpload, Resource
from catalog.release_validation import Report
from core.exceptions import DomainError
from departments.selectors import language_of
from workflow.engine import Workflow

logger = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.5
HEARTBEAT_SECONDS = 5  # a running job writes progress_at at least this often (PostgreSQL)
SQLITE_STALE_SECONDS = 3600  # SQLite: no beat during the load (see the module's docstring)
MAX_ATTEMPTS = 3
COUNT_BLOCK = 1 << 20

_S = ReleaseUpload.State
# action: (states it may start from, state it leads to)
UPLOAD_TRANSITIONS = {
    "start": ({_S.QUEUED}, _S.RUNNING),
    "accept": ({_S.RUNNING}, _S.SUCCEEDED),
    "refuse": ({_S.RUNNING}, _S.FAILED),  # refused by the checks, or the ingest failed
    "abandon": ({_S.QUEUED}, _S.FAILED),  # the task could not be sent
    # The sweep: the job's worker stopped beating. Sent again (checked again from the file)...
    "requeue": ({_S.RUNNING}, _S.QUEUED),
    # ... or, once MAX_ATTEMPTS claims ended so, failed with its file removed.
    "give_up": ({_S.RUNNING}, _S.FAILED),
}
UPLOADS = Workflow(
    model=ReleaseUpload,
    transitions=UPLOAD_TRANSITIONS,
    noun=gettext_lazy("release upload"),
    past={"start": gettext_lazy("started"), "accept": gettext_lazy("accepted")},
)


def live_progress() -> bool:
    """Whether the counts are written while the ingest runs (see the module's docstring)."""
    return connection.vendor == "postgresql"


def stale_seconds() -> int:
    """How long a running job may go without a beat before the sweep takes it over."""
    if live_progress():
        return int(settings.RELEASE_UPLOAD_STALE_SECONDS)
    return max(int(settings.RELEASE_UPLOAD_STALE_SECONDS), SQLITE_STALE_SECONDS)


class Superseded(Exception):
    """This attempt is no longer the job's current one (the sweep took it over)."""


def release_upload_start(*, actor: User, resource: Resource, upload: UploadedFile) -> ReleaseUpload:
    """Store ``upload`` and queue its check and load; returns the queued job.

    Raises what ``services.release_upload_columns`` raises (``PermissionDenied``, a retired
    resource's ``IllegalTransition``, ``PayloadTooLarge``, ``ValidationError`` without data
    items) before anything is stored. The task is sent after the job's row is committed.
    """
    services.release_upload_columns(actor, resource, upload)
    job = ReleaseUpload(
        resource=resource,
        uploaded_by=actor,
        original_name=(upload.name or "release.csv")[:255],
        size_bytes=upload.size or 0,
    )
    job.file.save("upload.csv", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            transaction.on_commit(partial(_enqueue, job.pk))
    except BaseException:
        _remove_file(job.file.name)
        raise
    return job


def _send(job_id: int) -> bool:
    """Send the job's task; whether the broker took it."""
    from catalog.tasks import release_upload_run  # the task module imports this one

    try:
        release_upload_run.delay(job_id)
    except Exception:  # kombu raises its own OperationalError family
        return False
    return True


def _enqueue(job_id: int) -> None:
    if not _send(job_id):
        logger.warning("broker unavailable; release upload %s abandoned", job_id)
        _abandon(job_id)
        return
    ReleaseUpload.objects.filter(pk=job_id, state=ReleaseUpload.State.QUEUED).update(
        enqueued_at=timezone.now()
    )


def _abandon(job_id: int) -> None:
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if job.state != ReleaseUpload.State.QUEUED:
            return
        name = job.file.name
        job.error = _("The file could not be queued for checking. Upload it again.")
        job.file.name = ""
        job.finished_at = timezone.now()
        UPLOADS.move(job, "abandon", actor=None)
    _remove_file(name)


def release_upload_run(job_id: int) -> ReleaseUpload:
    """Check and load a queued upload, once; returns the job as it ended.

    A second call for a job that is no longer queued changes nothing. The release is made by
    ``services.release_ingest`` exactly as a direct upload makes it; a refusal keeps the report
    and writes nothing else. When the job ends, the stored file and its folder are removed; an
    attempt that was taken over leaves the job, its file and the data as the taker has them.
    """
    job, attempt = _claim(job_id)
    if attempt is None:
        return job
    try:
        with translation.override(_language(job)):
            return _check_and_load(job, attempt)
    except Superseded:
        logger.warning("release upload %s: attempt %s was taken over", job_id, attempt)
        return ReleaseUpload.objects.get(pk=job_id)


def _language(job: ReleaseUpload) -> str:
    """The uploader's language: the job's messages are theirs."""
    return language_of(job.uploaded_by) or settings.LANGUAGE_CODE


def _claim(job_id: int) -> tuple[ReleaseUpload, int | None]:
    """Queued → running, one attempt more; the job and the attempt, or ``None`` for a job that is
    no longer queued (a duplicate task, or a job another worker claimed)."""
    now = timezone.now()
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if job.state != ReleaseUpload.State.QUEUED:
            return job, None
        job.attempts += 1
        job.started_at = now
        job.progress_at = now  # the first beat
        job.rows_checked = job.problems_so_far = 0
        UPLOADS.move(job, "start", actor=None)
    return ReleaseUpload.objects.select_related("resource", "uploaded_by").get(
        pk=job_id
    ), job.attempts


def _check_and_load(job: ReleaseUpload, attempt: int) -> ReleaseUpload:
    report = Report(max_errors=settings.RELEASE_MAX_ERRORS)
    try:
        total = _count_records(job.file.name or "")
        ReleaseUpload.objects.filter(pk=job.pk, attempts=attempt).update(
            rows_total=total, progress_at=timezone.now()
        )
        return _load(job, attempt, report)
    except Superseded:
        raise
    except services.ReleaseRejected as exc:
        return _end(job, attempt, "refuse", report, report_dict=exc.report)
    except (ValidationError, PermissionDenied, DomainError) as exc:
        return _end(job, attempt, "refuse", report, error=_message(exc))
    except Exception as exc:
        logger.exception("release upload %s failed", job.pk)
        _end(
            job,
            attempt,
            "refuse",
            report,
            error=_(
                "The file could not be checked because of an error on the server (%(kind)s). "
                "Nothing was changed; upload it again, and tell the administrators if it happens "
                "again."
            )
            % {"kind": type(exc).__name__},
        )
        raise


def _load(job: ReleaseUpload, attempt: int, report: Report) -> ReleaseUpload:
    """The ingest and the accept in one transaction: the release is committed only if this
    attempt is still the job's current one when it ends (``_finish`` checks under the lock)."""
    name = job.file.name
    release = None
    try:
        with transaction.atomic():
            with _open_stored(job) as handle, _ProgressWriter(job.pk, attempt, report):
                release = services.release_ingest(
                    actor=job.uploaded_by,
                    resource=job.resource,
                    upload=File(handle, name=job.original_name),
                    report=report,
                )
            # The progress thread has stopped (it would wait on this row's lock otherwise).
            ended = _finish(job.pk, attempt, "accept", report, release=release)
    except Superseded:
        if release is not None and release.file.name:
            default_storage.delete(release.file.name)  # rolled back: its stored copy goes too
        raise
    _remove_file(name)
    return ended


def _end(
    job: ReleaseUpload, attempt: int, action: str, report: Report, **fields: Any
) -> ReleaseUpload:
    """``_finish`` in a transaction of its own, then the stored file removed."""
    name = job.file.name
    with transaction.atomic():
        ended = _finish(job.pk, attempt, action, report, **fields)
    _remove_file(name)
    return ended


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _finish(
    job_id: int,
    attempt: int,
    action: str,
    report: Report,
    *,
    release: Release | None = None,
    report_dict: Any = None,
    error: str = "",
) -> ReleaseUpload:
    """Running → succeeded or failed, under the row's lock; ``Superseded`` (and nothing changed)
    unless ``attempt`` is still the job's current one. The caller removes the file once this is
    committed."""
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if job.state != ReleaseUpload.State.RUNNING or job.attempts != attempt:
            raise Superseded
        job.rows_checked = report.row_count
        job.problems_so_far = len(report.errors)
        if report.ok and release is not None:
            job.rows_total = report.row_count
        job.release = release
        job.report = release.report if release is not None else report_dict
        job.error = error
        job.file.name = ""
        job.finished_at = timezone.now()
        UPLOADS.move(job, action, actor=None)
    return job


def _count_records(name: str) -> int:
    """The file's lines less the header: its records, unless a quoted value spans lines or a
    line is blank (the check then finds the real count). About a second for 256 MiB."""
    lines, last = 0, b"\n"
    with default_storage.open(name, "rb") as handle:
        while block := handle.read(COUNT_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1  # the last line has no line break
    return max(lines - 1, 0)


def _open_stored(job: ReleaseUpload) -> IO[bytes]:
    return default_storage.open(job.file.name or "", "rb")


def _remove_file(name: str | None) -> None:
    if not name:
        return
    default_storage.delete(name)
    try:
        Path(default_storage.path(str(Path(name).parent))).rmdir()
    except OSError:  # not empty, or already gone
        logger.warning("release upload folder of %s not removed", name)


class _ProgressWriter:
    """Writes the report's counts to the job every ``PROGRESS_SECONDS`` when they moved, and at
    least every ``HEARTBEAT_SECONDS`` all the same (``progress_at`` is the job's heartbeat), from
    a thread of its own, with its own database connection: the ingest's connection is inside a
    transaction whose writes no one sees before it ends. The ``UPDATE`` names the attempt, so an
    attempt that was taken over writes nothing. The ingest itself pays nothing (it only counts,
    as it always did); on SQLite no thread runs (see the module's docstring)."""

    def __init__(self, job_id: int, attempt: int, report: Report) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.report = report
        self._written = (0, 0)
        self._written_at = time.monotonic()  # the claim wrote the first beat
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"release-upload-{job_id}-progress", daemon=True
        )

    def __enter__(self) -> "_ProgressWriter":
        if live_progress():
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def write(self, now: float | None = None) -> bool:
        """One update if the counts moved since the last one or the last beat is
        ``HEARTBEAT_SECONDS`` old (``now``: ``time.monotonic()``); whether it wrote."""
        now = time.monotonic() if now is None else now
        counts = (self.report.row_count, len(self.report.errors))
        if counts == self._written and now - self._written_at < HEARTBEAT_SECONDS:
            return False
        ReleaseUpload.objects.filter(
            pk=self.job_id, state=ReleaseUpload.State.RUNNING, attempts=self.attempt
        ).update(rows_checked=counts[0], problems_so_far=counts[1], progress_at=timezone.now())
        self._written, self._written_at = counts, now
        return True

    def _run(self) -> None:
        try:
            while not self._stop.wait(PROGRESS_SECONDS):
                try:
                    self.write()
                except DatabaseError:
                    logger.warning("release upload %s: progress not written", self.job_id)
        finally:
            connection.close()  # this thread's own connection


# --- the sweep ------------------------------------------------------------------------------


def release_uploads_sweep(*, now: datetime.datetime | None = None) -> int:
    """Recover the jobs no live worker works on; returns how many were sent again or failed.

    - ``queued`` jobs sent (or, never sent, created) more than ``RELEASE_UPLOAD_STALE_SECONDS``
      ago and not claimed: the broker lost the message, or the process died before sending it.
      Sent again; a job sent twice is claimed once, the other task changes nothing.
    - ``running`` jobs whose heartbeat (``progress_at``, else ``started_at``) is older than
      ``stale_seconds()``: their worker ended. Back to queued and sent again, to be checked again
      from the stored file; after ``MAX_ATTEMPTS`` claims, failed and their file removed.

    Each job is decided again under its row's lock, so two sweeps (or a worker finishing just
    then) never act on it twice.
    """
    now = now or timezone.now()
    lost_since = now - datetime.timedelta(seconds=settings.RELEASE_UPLOAD_STALE_SECONDS)
    dead_since = now - datetime.timedelta(seconds=stale_seconds())
    due = _lost(lost_since) | _dead(dead_since)
    swept = 0
    for job_id in list(
        ReleaseUpload.objects.filter(due).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            swept += _sweep_one(job_id, now, lost_since, dead_since)
        except DatabaseError:  # SQLite: a load holds the write lock; the next sweep tries again
            logger.warning("release upload %s: not swept (database busy)", job_id)
    return swept


def _lost(since: datetime.datetime) -> Q:
    return Q(state=ReleaseUpload.State.QUEUED) & (
        Q(enqueued_at__lt=since) | Q(enqueued_at__isnull=True, created_at__lt=since)
    )


def _dead(since: datetime.datetime) -> Q:
    return Q(state=ReleaseUpload.State.RUNNING) & (
        Q(progress_at__lt=since) | Q(progress_at__isnull=True, started_at__lt=since)
    )


def _sweep_one(
    job_id: int,
    now: datetime.datetime,
    lost_since: datetime.datetime,
    dead_since: datetime.datetime,
) -> int:
    removed = ""
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if not ReleaseUpload.objects.filter(
            Q(pk=job_id) & (_lost(lost_since) | _dead(dead_since))
        ).exists():
            return 0  # claimed, beating again or finished since the list was read
        if job.state == ReleaseUpload.State.RUNNING:
            if job.attempts >= MAX_ATTEMPTS:
                removed = job.file.name or ""
                with translation.override(_language(job)):
                    job.error = _("The check stopped (the worker ended); upload the file again.")
                job.file.name = ""
                job.finished_at = now
                UPLOADS.move(job, "give_up", actor=None)
            else:
                job.enqueued_at = now
                job.progress_at = None
                UPLOADS.move(job, "requeue", actor=None)
        else:
            job.enqueued_at = now
            job.save(update_fields=["enqueued_at"])
    if removed:
        _remove_file(removed)
        logger.warning("release upload %s failed: its worker ended %s times", job_id, MAX_ATTEMPTS)
    elif not _send(job_id):
        logger.warning("broker unavailable; release upload %s waits for the next sweep", job_id)
    return 1
