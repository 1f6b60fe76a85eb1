"""One timeline per object: its history rows and its ledger entries, merged by time."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from audit.selectors import entries_for
from catalog.models import Release
from departments.permissions import can_read_ledger_entry

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
    what: str
    detail: str = ""
    ledger_index: int | None = None


def _history_items(queryset: "QuerySet[Any]", label: str) -> list[TrailItem]:
    items = []
    for row in queryset.select_related("history_user").order_by("history_date", "history_id"):
        kind = {"+": _("created"), "~": _("changed"), "-": _("deleted")}[row.history_type]
        items.append(
            TrailItem(
                at=row.history_date,
                source="history",
                who=row.history_user.get_username() if row.history_user else "govshare",
                what=f"{label} {kind}",
                detail=row.history_change_reason or "",
            )
        )
    return items


def _ledger_items(user: Any, **subject: int) -> list[TrailItem]:
    items = []
    for entry in entries_for(**subject).defer(None):
        if not can_read_ledger_entry(user, entry):
            continue
        record = json.loads(entry.entry_bytes)
        items.append(
            TrailItem(
                at=entry.created_at,
                source="ledger",
                who=" ".join(record.get("departments", [])),
                what=entry.entry_type,
                detail=json.dumps(record.get("detail", {}), sort_keys=True),
                ledger_index=entry.index,
            )
        )
    return items


def _merge(*groups: Iterable[TrailItem]) -> list[TrailItem]:
    return sorted((item for group in groups for item in group), key=lambda i: (i.at, i.source))


def resource_trail(user: Any, resource: "Resource") -> list[TrailItem]:
    return _merge(
        _history_items(resource.history.all(), _("Catalog entry")),
        _history_items(Release.history.filter(resource_id=resource.pk), _("Release")),
        _ledger_items(user, resource=resource.pk),
    )


def request_trail(user: Any, request: "Request") -> list[TrailItem]:
    return _merge(
        _history_items(request.history.all(), _("Request")),
        _ledger_items(user, request=request.pk),
    )


def grant_trail(user: Any, grant: "Grant") -> list[TrailItem]:
    return _merge(
        _history_items(grant.history.all(), _("Grant")),
        _ledger_items(user, grant=grant.pk),
    )
