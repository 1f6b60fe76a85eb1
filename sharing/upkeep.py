"""Keeping the stored delivery files and the delivery rows in agreement.

- ``orphan_files_remove`` (Celery beat): files under ``MEDIA_ROOT/deliveries`` that no succeeded
  delivery claims, older than ``DELIVERY_ORPHAN_GRACE_SECONDS``, are deleted.
- ``deliveries_purge_retained`` (Celery beat, daily): ``DELIVERY_RETENTION_DAYS`` after a grant
  was revoked or expired, the stored copies of its deliveries are deleted; the rows stay, marked
  purged, and downloads say the copy was deleted under the retention rule.
- ``deliveries_fsck`` (``manage.py deliveries_fsck [--repair]``): files without a row, rows whose
  file is missing or is not the recorded one (SHA-256, size).

Each deletion and each repair appends a ledger entry with ids and hashes only (never a path, a
name or a value): the ledger is where the parties prove what happened to a copy of their data,
and a deleted unaccounted copy of personal data is exactly such a fact. The access log is for
who *read* shared data, and these deletions read nothing for anyone.
"""

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rights.models import Grant
from sharing import delivery_files
from sharing.deliveries import DELIVERIES, enqueue_deliveries, grant_parties
from sharing.models import Delivery

ENDED = [Grant.Status.REVOKED, Grant.Status.EXPIRED]


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _claimed() -> set[str]:
    return set(
        Delivery.objects.filter(status=Delivery.Status.SUCCEEDED, purged_at__isnull=True)
        .exclude(file="")
        .values_list("file", flat=True)
    )


def _live_attempts(now: datetime.datetime) -> set[tuple[int, int]]:
    """``(delivery, attempt)`` of every build beating now: its files are work in progress."""
    fresh = now - datetime.timedelta(seconds=settings.DELIVERY_STALE_SECONDS)
    return set(
        Delivery.objects.filter(status=Delivery.Status.RUNNING, heartbeat_at__gte=fresh)
        .values_list("pk", "attempts")
        .iterator()
    )


def unclaimed_files(*, now: datetime.datetime | None = None, grace: float = 0) -> list[Path]:
    """Files under ``deliveries/`` that no succeeded, unpurged delivery claims, untouched for
    ``grace`` seconds, except those of builds running now."""
    now = now or timezone.now()
    claimed = _claimed()
    live = _live_attempts(now)
    found = []
    for path in delivery_files.all_files():
        if delivery_files.relative(path) in claimed:
            continue
        if delivery_files.owner_of(path.name) in live:
            continue
        if grace and now.timestamp() - path.stat().st_mtime < grace:
            continue
        found.append(path)
    return found


def orphan_file_remove(path: Path, *, rule: str) -> None:
    """Delete one unclaimed file, with a ledger entry (ids of its delivery and grant as its name
    and folder say, its SHA-256 and size, the rule that removed it)."""
    sha256, size = file_digest(path)
    owner = delivery_files.owner_of(path.name)
    grant_id = delivery_files.grant_of(path)
    grant = (
        Grant.objects.select_related(
            "grantee_department",
            "resource__owner_department",
            "resource__management_right_holder",
        )
        .filter(pk=grant_id)
        .first()
        if grant_id is not None
        else None
    )
    with transaction.atomic():
        DELIVERIES.record(
            None,
            event="delivery.file_removed",
            actor=None,
            departments=grant_parties(grant) if grant else [],
            subject={
                "delivery": owner[0] if owner else None,
                "attempt": owner[1] if owner else None,
                "grant": grant.pk if grant else None,
            },
            hashes={"file_sha256": sha256},
            detail={"bytes": size, "rule": rule},
        )
        path.unlink(missing_ok=True)


def orphan_files_remove(*, now: datetime.datetime | None = None) -> int:
    """Delete every file no succeeded delivery claims, once it is older than the grace period
    (so a build that is renaming its file into place is never raced); returns how many."""
    grace = settings.DELIVERY_ORPHAN_GRACE_SECONDS
    removed = 0
    for path in unclaimed_files(now=now, grace=grace):
        orphan_file_remove(path, rule="orphan")
        removed += 1
    return removed


# --- retention ------------------------------------------------------------------------------


def deliveries_purge_retained(*, now: datetime.datetime | None = None) -> int:
    """Delete the stored copies of deliveries whose grant was revoked or expired more than
    ``DELIVERY_RETENTION_DAYS`` ago; returns how many. The rows stay, marked purged."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    due = Delivery.objects.filter(
        status=Delivery.Status.SUCCEEDED,
        purged_at__isnull=True,
        grant__status__in=ENDED,
        grant__ended_at__lte=cutoff,
    ).values_list("pk", flat=True)
    return sum(delivery_purge(delivery_id, now=now) for delivery_id in list(due))


def delivery_purge(delivery_id: int, *, now: datetime.datetime) -> bool:
    """One delivery's copy deleted under the retention rule, with its ledger entry (the hashes
    of the copy that existed). The file goes once the row says so; if that is interrupted the
    unclaimed file is the orphan job's. Returns whether it purged."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(delivery_id)
        if delivery.status != Delivery.Status.SUCCEEDED or delivery.purged_at is not None:
            return False
        grant = Grant.objects.select_related(
            "grantee_department",
            "resource__owner_department",
            "resource__management_right_holder",
        ).get(pk=delivery.grant_id)
        if grant.status not in ENDED:
            return False  # a grant only ends once; checked again under the lock all the same
        path = Path(settings.MEDIA_ROOT) / delivery.file.name if delivery.file.name else None
        delivery.purged_at = now
        delivery.file.name = ""
        DELIVERIES.record(
            None,
            event="delivery.purged",
            actor=None,
            departments=grant_parties(grant),
            subject={"delivery": delivery.pk, "grant": grant.pk},
            hashes={"sha256": delivery.sha256, "file_sha256": delivery.file_sha256},
            detail={"rule": "retention", "retention_days": settings.DELIVERY_RETENTION_DAYS},
        )
        DELIVERIES.move(delivery, "purge", actor=None, change_reason="purge: retention")
        if path is not None:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
    return True


# --- consistency check ----------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # "file_without_row", "missing_file", "file_differs"
    name: str  # the file, relative to MEDIA_ROOT ("" if the row names none)
    delivery_id: int | None
    detail: str = ""
    repaired: bool = False

    def __str__(self) -> str:
        who = f"delivery #{self.delivery_id}" if self.delivery_id else "no delivery"
        line = f"{self.kind}: {self.name or '-'} ({who})"
        if self.detail:
            line += f" {self.detail}"
        return line + (" [repaired]" if self.repaired else "")


def deliveries_fsck(*, repair: bool = False) -> list[Problem]:
    """Every mismatch between the stored files and the delivery rows; with ``repair``, each one
    mended: a file without a row is deleted (``orphan_file_remove``), a row whose file is missing
    or differs from what it recorded is built again (``delivery_rebuild``)."""
    problems: list[Problem] = []
    succeeded = Delivery.objects.filter(
        status=Delivery.Status.SUCCEEDED, purged_at__isnull=True
    ).order_by("pk")
    for delivery in succeeded.iterator():
        name = delivery.file.name or ""
        path = Path(settings.MEDIA_ROOT) / name
        if not name or not path.is_file():
            problems.append(Problem("missing_file", name, delivery.pk))
            continue
        sha256, size = file_digest(path)
        if sha256 != delivery.file_sha256 or size != delivery.size_bytes:
            problems.append(
                Problem(
                    "file_differs",
                    name,
                    delivery.pk,
                    f"recorded {delivery.size_bytes} bytes SHA-256 {delivery.file_sha256}, "
                    f"found {size} bytes SHA-256 {sha256}",
                )
            )
    for path in unclaimed_files():
        owner = delivery_files.owner_of(path.name)
        problems.append(
            Problem("file_without_row", delivery_files.relative(path), owner[0] if owner else None)
        )
    if repair:
        for problem in problems:
            if problem.kind == "file_without_row":
                path = Path(settings.MEDIA_ROOT) / problem.name
                if path.is_file():
                    orphan_file_remove(path, rule="fsck")
                problem.repaired = True
            else:
                assert problem.delivery_id is not None
                problem.repaired = delivery_rebuild(problem.delivery_id, problem=problem.kind)
    return problems


def delivery_rebuild(delivery_id: int, *, problem: str) -> bool:
    """Succeeded → pending, to be built again, because its stored copy is missing or is not the
    recorded one; the bad file is deleted and a ledger entry records the hashes that no longer
    hold. The new build checks the grant again (an ended grant refuses it). Returns whether it
    moved."""
    with transaction.atomic():
        delivery: Delivery = DELIVERIES.lock(delivery_id)
        if delivery.status != Delivery.Status.SUCCEEDED or delivery.purged_at is not None:
            return False
        grant = Grant.objects.select_related(
            "grantee_department",
            "resource__owner_department",
            "resource__management_right_holder",
        ).get(pk=delivery.grant_id)
        DELIVERIES.record(
            None,
            event="delivery.invalidated",
            actor=None,
            departments=grant_parties(grant),
            subject={"delivery": delivery.pk, "grant": grant.pk},
            hashes={"sha256": delivery.sha256, "file_sha256": delivery.file_sha256},
            detail={"problem": problem},
        )
        old: dict[str, Any] = {"name": delivery.file.name}
        delivery.file.name = ""
        delivery.sha256 = delivery.file_sha256 = ""
        delivery.row_count = delivery.size_bytes = delivery.ledger_index = None
        delivery.manifest = {}
        delivery.attempts = 0
        delivery.error = ""
        delivery.finished_at = None
        delivery.retry_at = None
        delivery.enqueued_at = None
        DELIVERIES.move(delivery, "rebuild", actor=None, change_reason=f"rebuild: {problem}")
        if old["name"]:
            (Path(settings.MEDIA_ROOT) / old["name"]).unlink(missing_ok=True)
        enqueue_deliveries([delivery.pk])
    return True
