"""Audit pages: trails, ledger entries with their proofs, receipts, the auditor's search."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from access_requests.selectors import request_for_user
from audit import records, selectors, trail
from audit.api import receipt_response
from audit.models import ACTION_LABELS
from catalog.selectors import resource_for_user
from departments.models import department_code_validator
from departments.permissions import (
    can_open_audit_search,
    can_read_access_log,
    can_read_ledger_entry,
)
from ledger import services as ledger
from ledger import witnesses
from ledger.models import LedgerEntry
from rights.selectors import grant_for_user

_Fetch = Callable[[Any, int], Model]  # (user, pk) -> the object if the user may see it, else 404
_Build = Callable[[Any, Any], list[trail.TrailItem]]  # (user, object) -> its timeline

TRAILS: dict[str, tuple[_Fetch, _Build]] = {
    "resource": (resource_for_user, trail.resource_trail),
    "request": (request_for_user, trail.request_trail),
    "grant": (grant_for_user, trail.grant_trail),
}


def trail_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in TRAILS:
        raise Http404
    fetch, build = TRAILS[kind]
    obj = fetch(request.user, pk)
    return render(
        request,
        "audit/trail.html",
        {
            "object": obj,
            "kind": kind,
            "items": build(request.user, obj),
            "auditor": can_open_audit_search(request.user),
        },
    )


def _entry_for(user: Any, index: int) -> LedgerEntry:
    entry = LedgerEntry.objects.filter(index=index).first()
    if entry is None or not can_read_ledger_entry(user, entry):
        raise Http404(_("No ledger entry that you may read."))
    return entry


def entry_detail(request: HttpRequest, index: int) -> HttpResponse:
    entry = _entry_for(request.user, index)
    size = ledger.tree_size()
    proof = ledger.inclusion_proof(entry.index, size)
    return render(
        request,
        "audit/entry_detail.html",
        {
            "entry": entry,
            "shown": records.entry_shown(entry),
            # The exact canonical bytes, for those who check receipts and proofs by hand.
            "auditor": can_open_audit_search(request.user),
            "leaf_hash": bytes(entry.leaf_hash).hex(),
            "tree_size": size,
            "root": ledger.root_at(size).hex(),
            "proof": [h.hex() for h in proof],
        },
    )


def entry_receipt(request: HttpRequest, index: int) -> HttpResponse:
    return receipt_response(_entry_for(request.user, index))


def auditor_search(request: HttpRequest) -> HttpResponse:
    if not can_open_audit_search(request.user):
        raise PermissionDenied(
            _(
                "The audit search is for auditors and the data management office. You do not "
                "have the auditor role; ask the data management office if your work needs it."
            )
        )
    params = request.GET
    department = params.get("department", "").strip().upper()
    if department:
        try:
            department_code_validator(department)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))  # the code's own rule, translated
    entries = selectors.ledger_search(
        request.user,
        event=params.get("event", "").strip(),
        department=params.get("department", "").strip().upper(),
        subject=params.get("subject", "").strip(),
    )
    page = Paginator(entries, 25).get_page(params.get("page"))
    context = {
        "params": params,
        "entries": page,
        "listed": records.entries_listed(page.object_list),
        "event_choices": records.event_choices(),
        "action_choices": [(code, str(label)) for code, label in ACTION_LABELS.items()],
        "can_read_log": can_read_access_log(request.user),
        "witnessing": witnesses.status(),
    }
    if context["can_read_log"]:
        accesses = selectors.access_log_for_auditor(
            action=params.get("action", "").strip(),
            department=params.get("department", "").strip().upper(),
            outcome=params.get("outcome", "").strip(),
        )
        context["accesses"] = Paginator(accesses, 25).get_page(params.get("log_page"))
    return render(request, "audit/search.html", context)
