"""One timeline per object: its history rows and its ledger entries, merged by time."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from audit.records import Row, entries_shown
from audit.selectors import entries_for, ledger_entries_visible_to
from catalog.models import Release
from ledger.events import EVENT_LABELS

if TYPE_CHECKING:  # for annotations only: no import at run time
    from django.db.models import QuerySet

    from access_requests.models import Request
    from catalog.models import Resource
    from rights.models import Grant


@dataclass
class TrailItem:
    at: datetime
    source: str  # "history" or "ledger"
    who: str
    what: str  # in words
    detail: str = ""
    ledger_index: int | None = None
    code: str = ""  # a ledger entry's event type
    rows: list[Row] = field(default_factory=list)  # a ledger entry's details in words
    raw: str = ""  # a ledger entry's canonical record, exactly as stored


def _history_step(machine: str, reason: str) -> tuple[str, str] | None:
    """A change reason written by a workflow step (``approve`` or ``approve: why``) as the
    step's words and the rest of the reason."""
    action, _sep, rest = reason.partition(":")
    label = EVENT_LABELS.get(f"{machine}.{action.strip()}")
    return (str(label), rest.strip()) if label is not None else None


def _history_items(queryset: "QuerySet[Any]", label: str, machine: str) -> list[TrailItem]:
    items = []
    for row in queryset.select_related("history_user").order_by("history_date", "history_id"):
        kind = {"+": _("created"), "~": _("changed"), "-": _("deleted")}[row.history_type]
        what, detail = f"{label} {kind}", row.history_change_reason or ""
        if row.history_type == "~" and (step := _history_step(machine, detail)):
            what, detail = step
        items.append(
            TrailItem(
                at=row.history_date,
                source="history",
                who=row.history_user.get_username() if row.history_user else "govshare",
                what=what,
                detail=detail,
            )
        )
    return items


def _ledger_items(user: Any, **subject: int) -> list[TrailItem]:
    # The entries about the object that the user may read, in one query (the same rule as
    # can_read_ledger_entry, as a filter).
    readable = list(
        (entries_for(**subject) & ledger_entries_visible_to(user)).order_by("index").defer(None)
    )
    items = []
    for shown in entries_shown(readable):
        departments = shown.row("departments")
        detail = shown.row("detail")
        items.append(
            TrailItem(
                at=shown.entry.created_at,
                source="ledger",
                who=str(departments.value) if departments else "",
                what=shown.event,
                ledger_index=shown.entry.index,
                code=shown.entry.entry_type,
                rows=detail.rows if detail else [],
                raw=shown.raw,
            )
        )
    return items


def _merge(*groups: Iterable[TrailItem]) -> list[TrailItem]:
    return sorted((item for group in groups for item in group), key=lambda i: (i.at, i.source))


def resource_trail(user: Any, resource: "Resource") -> list[TrailItem]:
    return _merge(
        _history_items(resource.history.all(), _("Catalog entry"), "resource"),
        _history_items(Release.history.filter(resource_id=resource.pk), _("Release"), "release"),
        _ledger_items(user, resource=resource.pk),
    )


def request_trail(user: Any, request: "Request") -> list[TrailItem]:
    return _merge(
        _history_items(request.history.all(), _("Request"), "request"),
        _ledger_items(user, request=request.pk),
    )


def grant_trail(user: Any, grant: "Grant") -> list[TrailItem]:
    return _merge(
        _history_items(grant.history.all(), _("Grant"), "grant"),
        _ledger_items(user, grant=grant.pk),
    )
