"""Deliveries: data handed over under a grant (periodic copy and upload), exactly once a period.

- ``deliveries_dispatch`` creates the delivery of every due period (catching up missed ones,
  flagged ``caught_up``) and of every new release for upload grants, and enqueues them after
  commit. The unique ``(grant, period_key)`` makes a period's delivery exist once.
- ``delivery_build`` claims the delivery, re-checks the grant, streams the approved items of the
  newest release into a zip (``data.csv`` + ``manifest.json``) under a temporary name while it
  beats a heartbeat, renames it into place and records it with its hashes and its ledger entry.
  A second run for the same delivery changes nothing; a build that does not succeed leaves no
  file of its own (names in sharing/delivery_files.py).
- ``deliveries_sweep`` (every ~15 s) re-enqueues deliveries no live task works on: pending ones
  the broker lost or never got, running ones whose heartbeat stopped (worker died).
"""

import datetime
import hashlib
import json
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from catalog import release_store
from catalog.models import Method, Release
from catalog.selectors import latest_release
from notifications.services import Localized, notify
from rights.models import Grant
from rights.selectors import grant_unusable_because, usable_grants
from sharing import delivery_files
from sharing.models import Delivery
from standards.odrl import grant_policy
from workflow.engine import Workflow

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
RETRY_BACKOFF = 30  # seconds before the second attempt; doubled for each further one

_S = Delivery.Status
# action: (statuses it may start from, status it leads to)
DELIVERY_TRANSITIONS = {
    # A build starts from pending, or again from running when its worker died (no lock held).
    "start": ({_S.PENDING, _S.RUNNING}, _S.RUNNING),
    "succeed": ({_S.RUNNING}, _S.SUCCEEDED),
    "refuse": ({_S.RUNNING}, _S.FAILED),  # the grant no longer allows it
    "requeue": ({_S.RUNNING}, _S.PENDING),  # an attempt failed; another comes
    "fail": ({_S.RUNNING}, _S.FAILED),  # the last attempt failed
    "retry": ({_S.FAILED}, _S.PENDING),  # the office retries a failed delivery
    # deliveries_fsck --repair: the stored copy is missing or not the one recorded; build again
    "rebuild": ({_S.SUCCEEDED}, _S.PENDING),
    # the retention rule deleted the stored copy of an ended grant; the record stays
    "purge": ({_S.SUCCEEDED}, None),
}
DELIVERIES = Workflow(
    model=Delivery,
    transitions=DELIVERY_TRANSITIONS,
    state_field="status",
    noun=gettext_lazy("delivery"),
    past={"retry": gettext_lazy("retried")},
    refusals={"retry": gettext_lazy("Only a failed delivery can be retried.")},
)


# --- periods --------------------------------------------------------------------------------


def period_start(frequency: str, day: datetime.date) -> datetime.date:
    if frequency == "weekly":
        return day - datetime.timedelta(days=day.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    return day


def next_period(frequency: str, start: datetime.date) -> datetime.date:
    if frequency == "weekly":
        return start + datetime.timedelta(days=7)
    if frequency == "monthly":
        return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start + datetime.timedelta(days=1)


def period_key(frequency: str, start: datetime.date) -> str:
    if frequency == "weekly":
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "monthly":
        return f"{start:%Y-%m}"
    return start.isoformat()


# --- dispatch -------------------------------------------------------------------------------


def enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    """Send the tasks once the rows are committed; a broker that is down is left to the sweeper."""
    from sharing.tasks import deliver

    def send() -> None:
        for delivery_id in delivery_ids:
            try:
                deliver.delay(delivery_id)
            except Exception:  # kombu raises its own OperationalError family
                logger.warning("broker unavailable; delivery %s waits for the sweeper", delivery_id)
                return
            Delivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())

    transaction.on_commit(send)


def deliveries_dispatch(*, today: datetime.date | None = None) -> list[Delivery]:
    """Create and enqueue the deliveries of every due period; returns the new deliveries."""
    today = today or timezone.localdate()
    grants = usable_grants(today).filter(method=Method.PERIODIC_COPY)
    created: list[Delivery] = []
    with transaction.atomic():
        for grant in grants.select_for_update(skip_locked=True):
            current = period_start(grant.frequency, today)
            last = grant.deliveries.exclude(period_start=None).order_by("-period_start").first()
            start = (
                next_period(grant.frequency, last.period_start)  # type: ignore[arg-type]  # None is excluded
                if last
                else period_start(grant.frequency, grant.valid_from)
            )
            while start <= current:
                delivery, made = Delivery.objects.get_or_create(
                    grant=grant,
                    period_key=period_key(grant.frequency, start),
                    defaults={"period_start": start, "caught_up": start < current},
                )
                if made:
                    created.append(delivery)
                start = next_period(grant.frequency, start)
        enqueue_deliveries([d.pk for d in created])
    return created


def deliveries_for_release(*, release: Release) -> list[Delivery]:
    """Upload method: every active upload grant on the resource gets the new release."""
    grants = usable_grants().filter(resource_id=release.resource_id, method=Method.UPLOAD)
    created = [
        Delivery.objects.get_or_create(
            grant=grant, period_key=f"release-{release.sequence}", defaults={"release": release}
        )[0]
        for grant in grants
    ]
    enqueue_deliveries([d.pk for d in created])
    return created


def deliveries_sweep(*, now: datetime.datetime | None = None) -> int:
    """Re-enqueue what no live task is working on; returns how many were sent.

    - ``pending`` rows never sent, or sent more than ``DELIVERY_STALE_SECONDS`` ago and still not
      picked up (the broker lost the message, or it was down), once any retry wait is over;
    - ``running`` rows whose build stopped beating for that long (its worker died), not sent
      again within that time already.

    A delivery sent twice is built once (``_claim``), so a late duplicate costs one short query.
    """
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.DELIVERY_STALE_SECONDS)
    not_sent_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    lost = Q(status=Delivery.Status.PENDING) & (Q(retry_at__isnull=True) | Q(retry_at__lte=now))
    dead = Q(status=Delivery.Status.RUNNING) & (
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    swept = list(
        Delivery.objects.filter((lost | dead) & not_sent_lately)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        enqueue_deliveries(swept)
    return len(swept)


# --- building -------------------------------------------------------------------------------


class _HashingStream:
    """A write-only, forward-only file: what passes is hashed. zipfile, finding it cannot seek,
    writes each entry's sizes and CRC after the data, so the file is hashed as it is written."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def _refusal(grant: Grant, release: Release | None, today: datetime.date) -> str | None:
    unusable = grant_unusable_because(grant, today)
    if unusable:
        return unusable
    if release is None:
        return _("the resource has no accepted release yet")
    missing = set(grant.fields) - set(release.column_names)
    if missing:
        return _("the release lacks approved items: %(m)s") % {"m": ", ".join(sorted(missing))}
    return None


def _release_for(delivery: Delivery) -> Release | None:
    if delivery.release_id:
        return delivery.release
    return latest_release(delivery.grant.resource)


def _write_zip(
    path: Path,
    delivery: Delivery,
    grant: Grant,
    release: Release,
    check: Callable[[], None] = lambda: None,
    written: Callable[[int], object] = lambda rows: None,
) -> tuple[str, str, int, dict[str, Any]]:
    """Stream the rows into ``path``; returns (data sha256, file sha256, rows, manifest).

    The zip is stored, not deflated: the data is hashed, written and checksummed in one pass at
    the speed of the database's own CSV output (deflate would triple the build time).
    """
    fields = list(grant.fields)
    data_digest = hashlib.sha256()
    with open(path, "wb") as handle:
        stream = _HashingStream(handle)
        # The stubs want close() too; zipfile never closes a file object it was given.
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
            with archive.open("data.csv", "w", force_zip64=True) as entry:
                lines = 0

                def write(block: bytearray) -> None:
                    nonlocal lines
                    check()  # stops a build that was taken over (one attribute read a MiB)
                    data_digest.update(block)
                    entry.write(block)
                    # Progress: the lines so far less the header (a value holding a line break
                    # counts twice until the end, when the count is the database's).
                    lines += block.count(b"\n")
                    written(max(lines - 1, 0))

                rows = release_store.export_csv(release.table_name, release.columns, fields, write)
            manifest = {
                "format": "govshare-delivery/1",
                "delivery": delivery.pk,
                "grant": grant.pk,
                "grantee_department": grant.grantee_department.code,
                "resource": {"id": grant.resource_id, "identifier": grant.resource.identifier},
                "release": {
                    "id": release.pk,
                    "sequence": release.sequence,
                    "sha256": release.sha256,
                },
                "period": delivery.period_key,
                "items": fields,
                "purpose": grant.purpose,
                "legal_basis": grant.legal_basis,
                "valid_until": grant.valid_until.isoformat(),
                "row_count": rows,
                "data_file": "data.csv",
                "data_sha256": data_digest.hexdigest(),
                # The grant's ODRL agreement, as GET /api/v1/grants/{id}/policy/ answers it.
                "policy": grant_policy(grant),
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return data_digest.hexdigest(), stream.digest.hexdigest(), rows, manifest


class Superseded(Exception):
    """This attempt is no longer the delivery's current one (it was taken over, or finished)."""


class _Heartbeat:
    """Beats for one attempt every ``DELIVERY_HEARTBEAT_SECONDS`` from a thread of its own (with
    its own database connection: the build's connection is busy streaming ``COPY``). The
    ``UPDATE`` is conditional on the attempt, so a build that was taken over learns it at the next
    beat and stops (``check``). Each beat also writes the rows written so far (``written``)."""

    def __init__(self, delivery_id: int, attempt: int) -> None:
        self.delivery_id = delivery_id
        self.attempt = attempt
        self.superseded = False
        self.rows_written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"delivery-{delivery_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.DELIVERY_HEARTBEAT_SECONDS):
                try:
                    if not self.beat():
                        return
                except DatabaseError:
                    logger.warning("delivery %s: heartbeat failed", self.delivery_id)
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> bool:
        """One beat, with the rows written so far; False once the attempt was taken over."""
        beat = Delivery.objects.filter(
            pk=self.delivery_id, status=Delivery.Status.RUNNING, attempts=self.attempt
        ).update(heartbeat_at=timezone.now(), rows_written=self.rows_written)
        if not beat:
            self.superseded = True
        return bool(beat)

    def check(self) -> None:
        if self.superseded:
            raise Superseded

    def written(self, rows: int) -> None:
        self.rows_written = rows  # read by the next beat


def delivery_build(delivery_id: int, *, today: datetime.date | None = None) -> Delivery:
    """Build one delivery, exactly once. Safe to call again, concurrently or after a crash.

    A build claims the delivery (pending, or running with a stale heartbeat, becomes running with
    one attempt more) and then writes its file outside any lock, beating every few seconds; a
    second task for a delivery that is being built returns at once. Whatever ends an attempt
    other than success, no file of that delivery stays: the attempt removes its own files when it
    fails or is taken over, the next attempt removes earlier attempts' files when it claims, and
    a refusal or a last failure removes all of them (sharing/upkeep.py finds what a killed
    process left when nothing came after it).
    """
    today = today or timezone.localdate()
    claimed, attempt = _claim(delivery_id)
    if attempt is None:
        return claimed
    grant_id = claimed.grant_id
    try:
        return _build_attempt(delivery_id, attempt, today)
    except Superseded:
        delivery_files.remove_files_of(delivery_id, grant_id, attempt=attempt)
        return Delivery.objects.get(pk=delivery_id)
    except Exception as exc:
        delivery_files.remove_files_of(delivery_id, grant_id, attempt=attempt)
        _attempt_failed(delivery_id, attempt, exc)
        raise


def _claimable(delivery: Delivery, now: datetime.datetime) -> bool:
    if delivery.status == Delivery.Status.PENDING:
        return delivery.retry_at is None or delivery.retry_at <= now
    if delivery.status == Delivery.Status.RUNNING:
        beat = delivery.heartbeat_at or delivery.started_at
        stale = now - datetime.timedelta(seconds=settings.DELIVERY_STALE_SECONDS)
        return beat is None or beat < stale
    return False


def _claim(delivery_id: int) -> tuple[Delivery, int | None]:
    """Pending (or running with a stale heartbeat: its worker died) → running, one attempt more;
    returns the delivery and the attempt, or ``None`` when there is nothing to do (finished,
    being built by a live worker, or waiting for its retry)."""
    now = timezone.now()
    with transaction.atomic():
        # A claim or a finish in progress holds the row for milliseconds: a duplicate task
        # skips it rather than waiting, and then finds the row running (or finished).
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        )
        if delivery is None:
            return Delivery.objects.get(pk=delivery_id), None
        if not _claimable(delivery, now):
            return delivery, None
        delivery.attempts += 1
        delivery.started_at = now
        delivery.heartbeat_at = now
        delivery.retry_at = None
        DELIVERIES.move(delivery, "start", actor=None, change_reason="")
        attempt = delivery.attempts
    # Earlier attempts are dead or taken over: what they left is garbage.
    delivery_files.remove_files_of(delivery_id, delivery.grant_id, keep="")
    return delivery, attempt


def _grant_of(delivery: Delivery) -> Grant:
    return Grant.objects.select_related(
        "resource__owner_department",
        "resource__management_right_holder",
        "grantee_department",
    ).get(pk=delivery.grant_id)


def _build_attempt(delivery_id: int, attempt: int, today: datetime.date) -> Delivery:
    """Check the grant, write the file (beating), then finish or refuse under the row lock."""
    delivery = Delivery.objects.select_related("release").get(pk=delivery_id)
    release = _release_for(delivery)
    grant = _grant_of(delivery)
    refusal = _refusal(grant, release, today)
    if refusal:
        return _refuse(delivery_id, attempt, refusal)
    assert release is not None  # _refusal refuses a delivery without a release
    folder = delivery_files.directory(grant.pk)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / delivery_files.temporary_name(delivery_id, attempt)
    # The build's total, for its progress on the grant page (the rows come with the heartbeat).
    Delivery.objects.filter(pk=delivery_id, attempts=attempt).update(
        rows_total=release.row_count, rows_written=0
    )
    try:
        with _Heartbeat(delivery_id, attempt) as heartbeat:
            written = _write_zip(
                temporary, delivery, grant, release, heartbeat.check, heartbeat.written
            )
        return _finish(delivery_id, attempt, today, release, temporary, written)
    finally:
        temporary.unlink(missing_ok=True)


def _refuse(delivery_id: int, attempt: int, refusal: str) -> Delivery:
    """Running → failed because the grant no longer allows it; every file of it is removed."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(delivery_id)
        if delivery.status != Delivery.Status.RUNNING or delivery.attempts != attempt:
            raise Superseded
        return _refuse_locked(delivery, refusal)


def _refuse_locked(delivery: Delivery, refusal: str) -> Delivery:
    delivery.error = refusal
    delivery.finished_at = timezone.now()
    DELIVERIES.move(delivery, "refuse", actor=None, change_reason="")
    # We hold the row of the current attempt: no other attempt is live.
    delivery_files.remove_files_of(delivery.pk, delivery.grant_id)
    return delivery


def _finish(
    delivery_id: int,
    attempt: int,
    today: datetime.date,
    release: Release,
    temporary: Path,
    written: tuple[str, str, int, dict[str, Any]],
) -> Delivery:
    """Running → succeeded (file renamed into place, hashes, ledger entry), unless the attempt
    was taken over meanwhile or the grant stopped allowing it during the build."""
    data_sha, file_sha, rows, manifest = written
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(
            delivery_id, related=("grant__resource", "grant__grantee_department")
        )
        if delivery.status != Delivery.Status.RUNNING or delivery.attempts != attempt:
            raise Superseded
        grant = _grant_of(delivery)
        refusal = _refusal(grant, release, today)  # revoked or suspended while we wrote?
        if refusal:
            return _refuse_locked(delivery, refusal)
        final = temporary.with_name(delivery_files.final_name(delivery, attempt))
        # Visible only when complete. Killed before the commit, the file is this attempt's, and
        # the next attempt, a refusal or the orphan job removes it.
        os.replace(temporary, final)
        delivery.release = release
        delivery.file.name = delivery_files.relative(final)
        delivery.manifest = manifest
        delivery.sha256 = data_sha
        delivery.file_sha256 = file_sha
        delivery.row_count = rows
        delivery.rows_written = rows
        delivery.size_bytes = final.stat().st_size
        delivery.error = ""
        delivery.finished_at = timezone.now()
        entry = DELIVERIES.record(
            None,
            event="delivery.succeeded",
            actor=None,
            departments=grant_parties(grant),
            subject={"delivery": delivery.pk, "grant": grant.pk, "release": release.pk},
            hashes={"sha256": data_sha, "file_sha256": delivery.file_sha256},
            detail={"period": delivery.period_key, "rows": rows, "items": grant.fields},
        )
        delivery.ledger_index = entry.index
        DELIVERIES.move(delivery, "succeed", actor=None, change_reason="")
        _tell_grantee(grant, delivery)
        return delivery


def grant_parties(grant: Grant) -> list[Any]:
    return [
        grant.grantee_department,
        grant.resource.owner_department,
        grant.resource.management_right_holder,
    ]


def retry_delay(attempts: int) -> datetime.timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, doubling, at most 30 minutes."""
    return datetime.timedelta(seconds=min(RETRY_BACKOFF * 2 ** max(attempts - 1, 0), 1800))


def _attempt_failed(delivery_id: int, attempt: int, exc: Exception) -> None:
    """Running → pending, to be sent again by the sweeper after ``retry_delay``, or failed
    (every file removed) once ``MAX_ATTEMPTS`` are used. Nothing if the attempt was taken over."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(delivery_id)
        if delivery.status != Delivery.Status.RUNNING or delivery.attempts != attempt:
            return
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.finished_at = timezone.now()
            DELIVERIES.move(delivery, "fail", actor=None, change_reason="")
            delivery_files.remove_files_of(delivery.pk, delivery.grant_id)
        else:
            delivery.retry_at = timezone.now() + retry_delay(delivery.attempts)
            delivery.enqueued_at = None  # the sweeper sends it once retry_at has passed
            DELIVERIES.move(delivery, "requeue", actor=None, change_reason="")


def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """Admin 'retry' of a failed delivery: back to pending, enqueued again."""
    with transaction.atomic():
        delivery = DELIVERIES.lock(delivery.pk)
        DELIVERIES.check(delivery, "retry")
        delivery.attempts = 0
        delivery.error = ""
        delivery.retry_at = None
        DELIVERIES.move(delivery, "retry", actor=actor, change_reason="")
        enqueue_deliveries([delivery.pk])
    return delivery


def _tell_grantee(grant: Grant, delivery: Delivery) -> None:
    notify(
        recipients=grant.grantee_department.group.user_set.all(),
        subject=Localized(
            gettext_noop("Delivery %(p)s of grant #%(g)d is ready"),
            {"p": delivery.period_key, "g": grant.pk},
        ),
        body=Localized(
            gettext_noop("%(rows)d rows of %(res)s, SHA-256 %(sha)s."),
            {"rows": delivery.row_count, "res": grant.resource.title, "sha": delivery.sha256},
        ),
        url=grant.get_absolute_url(),
    )
