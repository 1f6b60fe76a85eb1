"""Deliveries: data handed over under a grant (periodic copy and upload), exactly once a period.

- ``deliveries_dispatch`` creates the delivery of every due period (catching up missed ones,
  flagged ``caught_up``) and of every new release for upload grants, and enqueues them after
  commit. The unique ``(grant, period_key)`` makes a period's delivery exist once.
- ``delivery_build`` re-checks the grant, streams the approved items of the newest release into a
  zip (``data.csv`` + ``manifest.json``) under a temporary name, renames it into place and records
  it with its hashes and its ledger entry. A second run for the same delivery changes nothing.
- ``deliveries_sweep`` re-enqueues deliveries left pending (broker down, worker died).
"""

import datetime
import hashlib
import json
import logging
import os
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog import release_store
from catalog.models import Method, Release
from catalog.selectors import latest_release
from notifications.services import notify
from rights.models import Grant
from rights.selectors import grant_unusable_because, usable_grants
from sharing.models import Delivery
from workflow.engine import Workflow

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

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


def _enqueue(delivery_ids: Sequence[int]) -> None:
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
        _enqueue([d.pk for d in created])
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
    _enqueue([d.pk for d in created])
    return created


def deliveries_sweep(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Re-enqueue deliveries still pending (never sent, or sent while the broker was away) and
    running ones whose worker died (nothing holds their row lock). Returns how many."""
    cutoff = timezone.now() - older_than
    stale = list(
        Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RUNNING])
        .exclude(enqueued_at__gt=cutoff)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        _enqueue(stale)
    return len(stale)


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
    path: Path, delivery: Delivery, grant: Grant, release: Release
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

                def write(block: bytearray) -> None:
                    data_digest.update(block)
                    entry.write(block)

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
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return data_digest.hexdigest(), stream.digest.hexdigest(), rows, manifest


def delivery_build(delivery_id: int, *, today: datetime.date | None = None) -> Delivery:
    """Build one delivery, exactly once. Safe to call again, concurrently or after a crash.

    The build holds the delivery's row lock: a second worker waits and then finds it done; a
    worker that dies releases the lock with its connection and the next run starts over. The
    file becomes visible only by an atomic rename, after it is complete.
    """
    today = today or timezone.localdate()
    claimed = _claim(delivery_id)
    if claimed.status != Delivery.Status.RUNNING:
        return claimed
    final_path: list[Path] = []  # set once the file is in place, for the failure path
    try:
        return _build_claimed(delivery_id, today, final_path)
    except Exception as exc:
        if final_path:
            final_path[0].unlink(missing_ok=True)  # the row never said it exists
        _attempt_failed(delivery_id, exc)
        raise


def _claim(delivery_id: int) -> Delivery:
    """Pending (or left running by a dead worker) → running, one attempt more; a delivery that
    is finished, or being built by a live worker, is returned unchanged."""
    with transaction.atomic():
        # A build in progress holds the row: a duplicate task (sweeper, redelivery) returns at
        # once instead of occupying a worker until that build ends.
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        )
        if delivery is None:
            return Delivery.objects.get(pk=delivery_id)
        if not DELIVERIES.allows(delivery, "start"):
            return delivery
        delivery.started_at = timezone.now()
        delivery.attempts += 1
        DELIVERIES.move(delivery, "start", actor=None, change_reason="")
        return delivery


def _build_claimed(delivery_id: int, today: datetime.date, final_path: list[Path]) -> Delivery:
    """Running → succeeded (file, hashes, ledger entry) or failed (the grant refuses it)."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(
            delivery_id, related=("grant__resource", "grant__grantee_department")
        )
        if delivery.status != Delivery.Status.RUNNING:
            return delivery  # finished meanwhile by another worker's run
        grant = Grant.objects.select_related(
            "resource__owner_department",
            "resource__management_right_holder",
            "grantee_department",
        ).get(pk=delivery.grant_id)
        release = _release_for(delivery)
        refusal = _refusal(grant, release, today)
        if refusal:
            delivery.error = refusal
            delivery.finished_at = timezone.now()
            DELIVERIES.move(delivery, "refuse", actor=None, change_reason="")
            return delivery
        assert release is not None  # _refusal refuses a delivery without a release
        name, data_sha, file_sha, rows, manifest = _write_in_place(delivery, grant, release)
        final_path.append(Path(settings.MEDIA_ROOT) / "deliveries" / str(grant.pk) / name)
        delivery.release = release
        delivery.file.name = f"deliveries/{grant.pk}/{name}"
        delivery.manifest = manifest
        delivery.sha256 = data_sha
        delivery.file_sha256 = file_sha
        delivery.row_count = rows
        delivery.size_bytes = final_path[0].stat().st_size
        delivery.error = ""
        delivery.finished_at = timezone.now()
        entry = DELIVERIES.record(
            None,
            event="delivery.succeeded",
            actor=None,
            departments=[
                grant.grantee_department,
                grant.resource.owner_department,
                grant.resource.management_right_holder,
            ],
            subject={"delivery": delivery.pk, "grant": grant.pk, "release": release.pk},
            hashes={"sha256": data_sha, "file_sha256": delivery.file_sha256},
            detail={"period": delivery.period_key, "rows": rows, "items": grant.fields},
        )
        delivery.ledger_index = entry.index
        DELIVERIES.move(delivery, "succeed", actor=None, change_reason="")
        _tell_grantee(grant, delivery)
        return delivery


def _write_in_place(
    delivery: Delivery, grant: Grant, release: Release
) -> tuple[str, str, str, int, dict[str, Any]]:
    """Write the zip under a temporary name and rename it into place once complete; returns
    (file name, data sha256, file sha256, rows, manifest)."""
    directory = Path(settings.MEDIA_ROOT) / "deliveries" / str(grant.pk)
    directory.mkdir(parents=True, exist_ok=True)
    # We hold the row lock, so no other build of this delivery is running: what a killed worker
    # left half-written is garbage.
    for leftover in directory.glob(f".tmp-{delivery.pk}-*"):
        leftover.unlink(missing_ok=True)
    temporary = directory / f".tmp-{delivery.pk}-{uuid.uuid4().hex}.zip"
    try:
        data_sha, file_sha, rows, manifest = _write_zip(temporary, delivery, grant, release)
        name = f"{delivery.period_key}-{delivery.pk}.zip"
        os.replace(temporary, directory / name)  # visible only when complete
    finally:
        temporary.unlink(missing_ok=True)
    return name, data_sha, file_sha, rows, manifest


def _attempt_failed(delivery_id: int, exc: Exception) -> None:
    """Running → pending for another attempt, or failed once ``MAX_ATTEMPTS`` are used."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(delivery_id)
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.finished_at = timezone.now()
            DELIVERIES.move(delivery, "fail", actor=None, change_reason="")
        else:
            DELIVERIES.move(delivery, "requeue", actor=None, change_reason="")


def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """Admin 'retry' of a failed delivery: back to pending, enqueued again."""
    with transaction.atomic():
        delivery = DELIVERIES.lock(delivery.pk)
        DELIVERIES.check(delivery, "retry")
        delivery.attempts = 0
        delivery.error = ""
        DELIVERIES.move(delivery, "retry", actor=actor, change_reason="")
        _enqueue([delivery.pk])
    return delivery


def _tell_grantee(grant: Grant, delivery: Delivery) -> None:
    notify(
        recipients=grant.grantee_department.group.user_set.all(),
        subject=_("Delivery %(p)s of grant #%(g)d is ready")
        % {"p": delivery.period_key, "g": grant.pk},
        body=_("%(rows)d rows of %(res)s, SHA-256 %(sha)s.")
        % {"rows": delivery.row_count, "res": grant.resource.title, "sha": delivery.sha256},
        url=grant.get_absolute_url(),
    )
