"""Release uploads checked and loaded in a worker, with their progress on record (issue #15.4).

- ``release_upload_start`` (the web form) makes the checks a file passes before it is read (who
  may upload, the resource's state, the size, its data items), stores the file in a folder of its
  own under ``MEDIA_ROOT/release-uploads/`` and creates a queued ``ReleaseUpload``; the task is
  sent once that row is committed.
- ``release_upload_run`` (the Celery task ``catalog.tasks.release_upload_run``) claims the job
  (queued → running), counts the file's lines (``rows_total``: the lines less the header), then
  runs ``catalog.services.release_ingest`` — the same checks, report, ledger entry and rollback
  on refusal as an upload through the API — while a thread writes the rows checked and the
  problems found so far to the row every ``PROGRESS_SECONDS``. The job ends succeeded (with its
  release) or failed (with the refusal report, or the error); either way the stored file and its
  folder are removed.

Live counts need a database that takes a second writer while the ingest's transaction is open:
PostgreSQL. SQLite (the quick start) locks the whole file for that transaction, so there the row
shows the job running, with its total, until it ends.
"""

import logging
import threading
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
COUNT_BLOCK = 1 << 20

_S = ReleaseUpload.State
# action: (states it may start from, state it leads to)
UPLOAD_TRANSITIONS = {
    "start": ({_S.QUEUED}, _S.RUNNING),
    "accept": ({_S.RUNNING}, _S.SUCCEEDED),
    "refuse": ({_S.RUNNING}, _S.FAILED),  # refused by the checks, or the ingest failed
    "abandon": ({_S.QUEUED}, _S.FAILED),  # the task could not be sent
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


def _enqueue(job_id: int) -> None:
    from catalog.tasks import release_upload_run  # the task module imports this one

    try:
        release_upload_run.delay(job_id)
    except Exception:  # kombu raises its own OperationalError family
        logger.warning("broker unavailable; release upload %s abandoned", job_id)
        _abandon(job_id)


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
    and writes nothing else. Whatever happens, the stored file and its folder are removed.
    """
    job = _claim(job_id)
    if job is None:
        return ReleaseUpload.objects.get(pk=job_id)
    name = job.file.name
    try:
        with translation.override(language_of(job.uploaded_by) or settings.LANGUAGE_CODE):
            return _check_and_load(job)
    finally:
        _remove_file(name)


def _claim(job_id: int) -> ReleaseUpload | None:
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if job.state != ReleaseUpload.State.QUEUED:
            return None
        job.started_at = timezone.now()
        UPLOADS.move(job, "start", actor=None)
    return ReleaseUpload.objects.select_related("resource", "uploaded_by").get(pk=job_id)


def _check_and_load(job: ReleaseUpload) -> ReleaseUpload:
    report = Report(max_errors=settings.RELEASE_MAX_ERRORS)
    try:
        total = _count_records(job.file.name or "")
        ReleaseUpload.objects.filter(pk=job.pk).update(rows_total=total)
        with _open_stored(job) as handle, _ProgressWriter(job.pk, report):
            release = services.release_ingest(
                actor=job.uploaded_by,
                resource=job.resource,
                upload=File(handle, name=job.original_name),
                report=report,
            )
    except services.ReleaseRejected as exc:
        return _finish(job.pk, "refuse", report, report_dict=exc.report)
    except (ValidationError, PermissionDenied, DomainError) as exc:
        return _finish(job.pk, "refuse", report, error=_message(exc))
    except Exception as exc:
        logger.exception("release upload %s failed", job.pk)
        _finish(
            job.pk,
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
    return _finish(job.pk, "accept", report, release=release)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _finish(
    job_id: int,
    action: str,
    report: Report,
    *,
    release: Release | None = None,
    report_dict: Any = None,
    error: str = "",
) -> ReleaseUpload:
    with transaction.atomic():
        job: ReleaseUpload = UPLOADS.lock(job_id)
        if job.state != ReleaseUpload.State.RUNNING:
            return job
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
    """Writes the report's counts to the job every ``PROGRESS_SECONDS`` from a thread of its own,
    with its own database connection: the ingest's connection is inside a transaction whose
    writes no one sees before it ends. The ingest itself pays nothing (it only counts, as it
    always did); on SQLite no thread runs (see the module's docstring)."""

    def __init__(self, job_id: int, report: Report) -> None:
        self.job_id = job_id
        self.report = report
        self._written = (0, 0)
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

    def write(self) -> None:
        """One update, if the counts moved since the last one."""
        counts = (self.report.row_count, len(self.report.errors))
        if counts == self._written:
            return
        ReleaseUpload.objects.filter(pk=self.job_id, state=ReleaseUpload.State.RUNNING).update(
            rows_checked=counts[0], problems_so_far=counts[1], progress_at=timezone.now()
        )
        self._written = counts

    def _run(self) -> None:
        try:
            while not self._stop.wait(PROGRESS_SECONDS):
                try:
                    self.write()
                except DatabaseError:
                    logger.warning("release upload %s: progress not written", self.job_id)
        finally:
            connection.close()  # this thread's own connection
