"""A ledger entry in words: its canonical record as rows of a table people can read.

The record stays the bytes (``LedgerEntry.entry``, RFC 8785): pages show these rows, and the
bytes themselves, unchanged, to auditors behind a "Show record" toggle. Field names, event
types, states and department codes become words; values the portal cannot name stay as they
are (a hash, an id).
"""

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Department
from ledger.events import EVENT_LABELS, event_label
from ledger.models import LedgerEntry
from workflow.engine import machine_named

FIELD_LABELS: dict[str, Promise] = {
    # the record
    "index": gettext_lazy("Entry number"),
    "type": gettext_lazy("Event"),
    "time": gettext_lazy("Recorded at"),
    "departments": gettext_lazy("Departments involved"),
    "actor": gettext_lazy("Done by"),
    "subject": gettext_lazy("About"),
    "hashes": gettext_lazy("Fingerprints (SHA-256)"),
    "detail": gettext_lazy("Details"),
    # what an entry is about
    "request": gettext_lazy("Request"),
    "resource": gettext_lazy("Catalog entry"),
    "grant": gettext_lazy("Grant"),
    "release": gettext_lazy("Release"),
    "delivery": gettext_lazy("Delivery"),
    "attempt": gettext_lazy("Delivery attempt"),
    "agreement": gettext_lazy("Data-sharing agreement"),
    "attestation": gettext_lazy("End-of-use attestation"),
    "dispute": gettext_lazy("Dispute"),
    "quality_report": gettext_lazy("Quality report"),
    "demand": gettext_lazy("Data demand"),
    # fingerprints of what the ledger never holds as text or data
    "sha256": gettext_lazy("Data"),
    "data_sha256": gettext_lazy("Data"),
    "file_sha256": gettext_lazy("File"),
    "reason_sha256": gettext_lazy("Reason"),
    "text_sha256": gettext_lazy("Text"),
    "asked_sha256": gettext_lazy("What was asked"),
    "evidence_sha256": gettext_lazy("Evidence"),
    "statement_sha256": gettext_lazy("Statement"),
    "description_sha256": gettext_lazy("Description"),
    "purpose_sha256": gettext_lazy("Purpose"),
    "order_sha256": gettext_lazy("Order"),
    "agreement_sha256": gettext_lazy("Agreement document"),
    # details
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "fields": gettext_lazy("Items"),
    "items": gettext_lazy("Items"),
    "item": gettext_lazy("Item"),
    "identifier": gettext_lazy("Identifier"),
    "version": gettext_lazy("Version"),
    "sequence": gettext_lazy("Release number"),
    "rows": gettext_lazy("Rows"),
    "lines": gettext_lazy("Lines"),
    "period": gettext_lazy("Period"),
    "bytes": gettext_lazy("Size in bytes"),
    "rule": gettext_lazy("Rule"),
    "problem": gettext_lazy("Problem"),
    "retention_days": gettext_lazy("Retention (days)"),
    "update_cycle": gettext_lazy("Update cycle"),
    "cycle_days": gettext_lazy("Cycle (days)"),
    "newest_release_at": gettext_lazy("Newest release"),
    "grant_status": gettext_lazy("Grant's state"),
    "due": gettext_lazy("Due"),
    "kind": gettext_lazy("Kind"),
    "late": gettext_lazy("Late"),
    "level": gettext_lazy("Level"),
    "department": gettext_lazy("Department"),
    "role": gettext_lazy("Role"),
    "complete": gettext_lazy("Complete"),
}
_DATES = {"time", "newest_release_at", "due"}
_RECORD_ORDER = ["type", "time", "index", "actor", "departments", "subject", "detail", "hashes"]
_STATES = {"from", "to"}


@dataclass
class Row:
    """One field: its name in words, its value in words (or sub-rows for a nested object)."""

    key: str
    label: str
    value: Any = ""
    rows: list["Row"] = field(default_factory=list)
    code: bool = False  # a hash or an identifier: shown as code

    @property
    def moment(self) -> datetime.datetime | None:
        return self.value if isinstance(self.value, datetime.datetime) else None

    @property
    def day(self) -> datetime.date | None:
        value = self.value
        is_day = isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
        return value if is_day else None


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def _when(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return parse_datetime(value) or parse_date(value) or value


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(_plain(v)) for v in value) or "—"
    return value


class _Names:
    """Department and user names for a batch of records, one query each."""

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        records = list(records)
        codes = {c for r in records for c in r.get("departments", [])}
        codes |= {
            r["detail"]["department"]
            for r in records
            if isinstance(r.get("detail"), dict) and r["detail"].get("department")
        }
        self.departments = dict(
            Department.objects.filter(code__in=codes).values_list("code", "name")
        )
        actors = {r["actor"] for r in records if isinstance(r.get("actor"), int)}
        users = get_user_model()._default_manager.filter(pk__in=actors)
        self.users = {u.pk: u.get_username() for u in users}

    def department(self, code: str) -> str:
        name = self.departments.get(code)
        return f"{name} ({code})" if name else code

    def user(self, pk: Any) -> str:
        if pk is None:
            return _("govshare (automatic)")
        name = self.users.get(pk)
        return _("%(name)s (user %(id)s)") % {"name": name, "id": pk} if name else str(pk)


def _detail_rows(detail: Mapping[str, Any], machine: str, names: _Names) -> list[Row]:
    workflow = machine_named(machine)
    rows = []
    for key, value in detail.items():
        if key in _STATES and workflow is not None and isinstance(value, str):
            shown: Any = workflow.state_label(value)
        elif key == "grant_status":
            grants = machine_named("grant")
            shown = grants.state_label(value) if grants and isinstance(value, str) else value
        elif key == "department" and isinstance(value, str):
            shown = names.department(value)
        elif key in _DATES:
            shown = _when(value)
        elif isinstance(value, dict):
            rows.append(Row(key, field_label(key), rows=_detail_rows(value, machine, names)))
            continue
        else:
            shown = _plain(value)
        rows.append(Row(key, field_label(key), shown, code=key == "identifier"))
    return rows


def _record_rows(record: Mapping[str, Any], names: _Names) -> list[Row]:
    event = str(record.get("type", ""))
    machine = event.split(".", 1)[0]
    rows = []
    # People read what happened and when first; the record's own (sorted) order is the raw one's.
    order = {key: n for n, key in enumerate(_RECORD_ORDER)}
    for key, value in sorted(record.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])):
        label = field_label(key)
        if key == "type":
            rows.append(Row(key, label, event_label(event)))
        elif key == "time":
            rows.append(Row(key, label, _when(value)))
        elif key == "departments":
            rows.append(Row(key, label, ", ".join(names.department(c) for c in value) or "—"))
        elif key == "actor":
            rows.append(Row(key, label, names.user(value)))
        elif key == "subject":
            about = [Row(k, field_label(k), f"#{v}") for k, v in value.items()]
            rows.append(Row(key, label, rows=about))
        elif key == "hashes":
            prints = [Row(k, field_label(k), v, code=True) for k, v in value.items()]
            rows.append(Row(key, label, rows=prints))
        elif key == "detail" and isinstance(value, dict):
            rows.append(Row(key, label, rows=_detail_rows(value, machine, names)))
        else:
            rows.append(Row(key, label, _plain(value)))
    return rows


@dataclass
class Shown:
    """A ledger entry as a page shows it: its rows, and its canonical bytes as text."""

    entry: LedgerEntry
    rows: list[Row]
    raw: str

    @property
    def event(self) -> str:
        return event_label(self.entry.entry_type)

    def row(self, key: str) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)


def entries_shown(entries: Iterable[LedgerEntry]) -> list[Shown]:
    """Each entry's record in words (the entries need their ``entry`` bytes loaded)."""
    entries = list(entries)
    records = [json.loads(e.entry_bytes) for e in entries]
    names = _Names(records)
    return [
        Shown(entry=e, rows=_record_rows(r, names), raw=e.entry_bytes.decode("utf-8"))
        for e, r in zip(entries, records, strict=True)
    ]


def entry_shown(entry: LedgerEntry) -> Shown:
    return entries_shown([entry])[0]


@dataclass
class Listed:
    """A search result: the entry's searchable copies (not its bytes) in words."""

    entry: LedgerEntry
    event: str
    departments: str
    subject: str


def entries_listed(entries: Iterable[LedgerEntry]) -> list[Listed]:
    """Search results in words, from the copies beside the bytes; one query for the names."""
    entries = list(entries)
    names = _Names([{"departments": e.departments.split()} for e in entries])
    return [
        Listed(
            entry=e,
            event=event_label(e.entry_type),
            departments=", ".join(names.department(c) for c in e.departments.split()) or "—",
            subject=subject_in_words(e.subject),
        )
        for e in entries
    ]


def event_choices() -> list[tuple[str, str]]:
    """Every event type for the search's select, grouped by what it is about (code order)."""
    return [(code, str(label)) for code, label in sorted(EVENT_LABELS.items())]


def subject_in_words(subject: str) -> str:
    """The search copy of a subject (``request:12 resource:3``) in words."""
    parts = []
    for pair in subject.split():
        kind, _sep, pk = pair.partition(":")
        parts.append(f"{field_label(kind)} #{pk}")
    return ", ".join(parts)
