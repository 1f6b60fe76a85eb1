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
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import release_store
from catalog.models import Method, Release
from ledger.services import ledger_append
from rights.models import Grant
from sharing.models import Delivery

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


# --- periods --------------------------------------------------------------------------------


def period_start(frequency, day):
    if frequency == "weekly":
        return day - datetime.timedelta(days=day.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    return day


def next_period(frequency, start):
    if frequency == "weekly":
        return start + datetime.timedelta(days=7)
    if frequency == "monthly":
        return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start + datetime.timedelta(days=1)


def period_key(frequency, start):
    if frequency == "weekly":
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "monthly":
        return f"{start:%Y-%m}"
    return start.isoformat()


# --- dispatch -------------------------------------------------------------------------------


def _enqueue(delivery_ids):
    """Send the tasks once the rows are committed; a broker that is down is left to the sweeper."""
    from sharing.tasks import deliver

    def send():
        for delivery_id in delivery_ids:
            try:
                deliver.delay(delivery_id)
            except Exception:  # kombu raises its own OperationalError family
                logger.warning("broker unavailable; delivery %s waits for the sweeper", delivery_id)
                return
            Delivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())

    transaction.on_commit(send)


def deliveries_dispatch(*, today=None):
    """Create and enqueue the deliveries of every due period; returns the new deliveries."""
    today = today or timezone.localdate()
    grants = Grant.objects.filter(
        status=Grant.Status.ACTIVE,
        method=Method.PERIODIC_COPY,
        valid_from__lte=today,
        valid_until__gte=today,
    )
    created = []
    with transaction.atomic():
        for grant in grants.select_for_update(skip_locked=True):
            current = period_start(grant.frequency, today)
            last = grant.deliveries.exclude(period_start=None).order_by("-period_start").first()
            start = (
                next_period(grant.frequency, last.period_start)
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


def deliveries_for_release(*, release):
    """Upload method: every active upload grant on the resource gets the new release."""
    today = timezone.localdate()
    grants = Grant.objects.filter(
        resource_id=release.resource_id,
        status=Grant.Status.ACTIVE,
        method=Method.UPLOAD,
        valid_from__lte=today,
        valid_until__gte=today,
    )
    created = [
        Delivery.objects.get_or_create(
            grant=grant, period_key=f"release-{release.sequence}", defaults={"release": release}
        )[0]
        for grant in grants
    ]
    _enqueue([d.pk for d in created])
    return created


def deliveries_sweep(*, older_than=datetime.timedelta(minutes=5)):
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

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data):
        self.digest.update(data)
        return self.target.write(data)

    def flush(self):
        self.target.flush()


def _refusal(grant, release, today):
    if grant.status != Grant.Status.ACTIVE:
        return _("the grant is %(s)s") % {"s": grant.get_status_display().lower()}
    if not grant.valid_from <= today <= grant.valid_until:
        return _("the grant is outside its validity period")
    if release is None:
        return _("the resource has no accepted release yet")
    missing = set(grant.fields) - set(release.column_names)
    if missing:
        return _("the release lacks approved items: %(m)s") % {"m": ", ".join(sorted(missing))}
    return None


def _release_for(delivery):
    if delivery.release_id:
        return delivery.release
    return (
        Release.objects.filter(resource_id=delivery.grant.resource_id).order_by("-sequence").first()
    )


def _write_zip(path, delivery, grant, release):
    """Stream the rows into ``path``; returns (data sha256, file sha256, rows, manifest).

    The zip is stored, not deflated: the data is hashed, written and checksummed in one pass at
    the speed of the database's own CSV output (deflate would triple the build time).
    """
    fields = list(grant.fields)
    data_digest = hashlib.sha256()
    with open(path, "wb") as handle:
        stream = _HashingStream(handle)
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            with archive.open("data.csv", "w", force_zip64=True) as entry:

                def write(block):
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


def delivery_build(delivery_id, *, today=None):
    """Build one delivery, exactly once. Safe to call again, concurrently or after a crash.

    The build holds the delivery's row lock: a second worker waits and then finds it done; a
    worker that dies releases the lock with its connection and the next run starts over. The
    file becomes visible only by an atomic rename, after it is complete.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        # A build in progress holds the row: a duplicate task (sweeper, redelivery) returns at
        # once instead of occupying a worker until that build ends.
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        )
        if delivery is None:
            return Delivery.objects.get(pk=delivery_id)
        if delivery.status in (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED):
            return delivery
        delivery.status = Delivery.Status.RUNNING
        delivery.started_at = timezone.now()
        delivery.attempts += 1
        delivery.save(update_fields=["status", "started_at", "attempts"])
    final_path = None
    try:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update()
                .select_related("grant__resource", "grant__grantee_department")
                .get(pk=delivery_id)
            )
            if delivery.status == Delivery.Status.SUCCEEDED:
                return delivery
            grant = Grant.objects.select_related(
                "resource__owner_department",
                "resource__management_right_holder",
                "grantee_department",
            ).get(pk=delivery.grant_id)
            release = _release_for(delivery)
            refusal = _refusal(grant, release, today)
            if refusal:
                delivery.status = Delivery.Status.FAILED
                delivery.error = refusal
                delivery.finished_at = timezone.now()
                delivery.save()
                return delivery
            directory = Path(settings.MEDIA_ROOT) / "deliveries" / str(grant.pk)
            directory.mkdir(parents=True, exist_ok=True)
            # We hold the row lock, so no other build of this delivery is running: what a killed
            # worker left half-written is garbage.
            for leftover in directory.glob(f".tmp-{delivery.pk}-*"):
                leftover.unlink(missing_ok=True)
            temporary = directory / f".tmp-{delivery.pk}-{uuid.uuid4().hex}.zip"
            try:
                data_sha, file_sha, rows, manifest = _write_zip(temporary, delivery, grant, release)
                name = f"{delivery.period_key}-{delivery.pk}.zip"
                final_path = directory / name
                os.replace(temporary, final_path)  # visible only when complete
            finally:
                temporary.unlink(missing_ok=True)
            delivery.release = release
            delivery.file.name = f"deliveries/{grant.pk}/{name}"
            delivery.manifest = manifest
            delivery.sha256 = data_sha
            delivery.file_sha256 = file_sha
            delivery.row_count = rows
            delivery.size_bytes = final_path.stat().st_size
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.error = ""
            delivery.finished_at = timezone.now()
            entry = ledger_append(
                event="delivery.succeeded",
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
            delivery.save()
            _tell_grantee(grant, delivery)
    except Exception as exc:
        if final_path is not None:
            final_path.unlink(missing_ok=True)  # the row never said it exists
        with transaction.atomic():
            delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
            delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Delivery.Status.FAILED
                delivery.finished_at = timezone.now()
            else:
                delivery.status = Delivery.Status.PENDING
            delivery.save()
        raise
    return delivery


def delivery_retry(*, actor, delivery):
    """Admin 'retry' of a failed delivery: back to pending, enqueued again."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status != Delivery.Status.FAILED:
            from core.exceptions import IllegalTransition

            raise IllegalTransition(_("Only a failed delivery can be retried."))
        delivery.status = Delivery.Status.PENDING
        delivery.attempts = 0
        delivery.error = ""
        delivery._history_user = actor
        delivery.save()
        _enqueue([delivery.pk])
    return delivery


def _tell_grantee(grant, delivery):
    from notifications.services import notify

    notify(
        recipients=grant.grantee_department.group.user_set.all(),
        subject=_("Delivery %(p)s of grant #%(g)d is ready")
        % {"p": delivery.period_key, "g": grant.pk},
        body=_("%(rows)d rows of %(res)s, SHA-256 %(sha)s.")
        % {"rows": delivery.row_count, "res": grant.resource.title, "sha": delivery.sha256},
        url=f"/grants/{grant.pk}/",
    )
