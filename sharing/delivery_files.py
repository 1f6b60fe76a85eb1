"""Where delivery files live, and which delivery and attempt each one belongs to.

Every file a build writes is named after its delivery and attempt, so a delivery's own leftovers
are found exactly (never by age or by a loose pattern):

- ``deliveries/<grant>/.tmp-d<delivery>-a<attempt>.zip`` while it is being written;
- ``deliveries/<grant>/d<delivery>-a<attempt>-<period>.zip`` once complete (an atomic rename).

A file is *claimed* when a succeeded delivery whose copy is not purged names it in ``file``;
every other file under ``deliveries/`` is a leftover (sharing/upkeep.py removes them).
"""

import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from sharing.models import Delivery

ROOT = "deliveries"
_NAME = re.compile(
    r"^(?:\.tmp-)?d(?P<delivery>[0-9]+)-a(?P<attempt>[0-9]+)(?:-[A-Za-z0-9-]+)?\.zip$"
)


def directory(grant_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / ROOT / str(grant_id)


def temporary_name(delivery_id: int, attempt: int) -> str:
    return f".tmp-d{delivery_id}-a{attempt}.zip"


def final_name(delivery: Delivery, attempt: int) -> str:
    return f"d{delivery.pk}-a{attempt}-{delivery.period_key}.zip"


def owner_of(name: str) -> tuple[int, int] | None:
    """``(delivery id, attempt)`` of a file name this module made, else None."""
    match = _NAME.match(name)
    if match is None:
        return None
    return int(match["delivery"]), int(match["attempt"])


def relative(path: Path) -> str:
    """The name a ``FileField`` stores for ``path`` (relative to ``MEDIA_ROOT``)."""
    return path.relative_to(Path(settings.MEDIA_ROOT)).as_posix()


def files_of(delivery_id: int, grant_id: int) -> list[tuple[Path, int]]:
    """Every file of the delivery on disk, with its attempt."""
    folder = directory(grant_id)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        owner = owner_of(path.name)
        if owner is not None and owner[0] == delivery_id and path.is_file():
            found.append((path, owner[1]))
    return found


def remove_files_of(
    delivery_id: int, grant_id: int, *, attempt: int | None = None, keep: str = ""
) -> list[str]:
    """Delete the delivery's files (only ``attempt``'s when given), except the claimed ``keep``
    (a ``FileField`` name); returns the names removed."""
    removed = []
    for path, file_attempt in files_of(delivery_id, grant_id):
        if attempt is not None and file_attempt != attempt:
            continue
        if keep and relative(path) == keep:
            continue
        path.unlink(missing_ok=True)
        removed.append(relative(path))
    return removed


def all_files() -> Iterator[Path]:
    """Every regular file under ``MEDIA_ROOT/deliveries``, in a stable order."""
    root = Path(settings.MEDIA_ROOT) / ROOT
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def grant_of(path: Path) -> int | None:
    """The grant id of a file's folder (``deliveries/<grant>/…``), if it is one."""
    parent = path.parent
    if parent.parent != Path(settings.MEDIA_ROOT) / ROOT or not parent.name.isdigit():
        return None
    return int(parent.name)
