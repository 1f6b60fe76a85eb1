"""Reads for the ledger and the access log, filtered by who may see them."""

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from audit.models import AccessLog
from departments.permissions import department_codes, is_auditor, is_office_member
from ledger.models import LedgerEntry


def ledger_entries_visible_to(user: Any) -> QuerySet[LedgerEntry]:
    queryset = LedgerEntry.objects.defer("entry").order_by("-index")
    if is_auditor(user) or is_office_member(user):
        return queryset
    codes = department_codes(user)
    if not codes:
        return queryset.none()
    condition = Q()
    for code in codes:
        condition |= Q(departments__regex=rf"(^| ){code}( |$)")
    return queryset.filter(condition)


def ledger_unreadable(user: Any, indices: Iterable[int | None]) -> frozenset[int]:
    """Those of ``indices`` whose ledger entry the user may not open (one query), so a timeline
    shows them as plain numbers instead of links that answer 404."""
    wanted = {i for i in indices if i is not None}
    if not wanted:
        return frozenset()
    readable = (
        ledger_entries_visible_to(user).filter(index__in=wanted).values_list("index", flat=True)
    )
    return frozenset(wanted - set(readable))


def ledger_search(
    user: Any, *, event: str = "", department: str = "", subject: str = ""
) -> QuerySet[LedgerEntry]:
    queryset = ledger_entries_visible_to(user)
    if event:
        queryset = queryset.filter(entry_type__startswith=event)
    if department:
        # A code is letters, digits and underscores; anything else matches literally (nothing).
        queryset = queryset.filter(departments__regex=rf"(^| ){re.escape(department)}( |$)")
    if subject:
        queryset = queryset.filter(subject__contains=subject)
    return queryset


def access_log_for_auditor(
    *, action: str = "", department: str = "", grant: int | None = None, outcome: str = ""
) -> QuerySet[AccessLog]:
    queryset = AccessLog.objects.select_related("user", "department", "grant").order_by("-at")
    if action:
        queryset = queryset.filter(action=action)
    if department:
        queryset = queryset.filter(department__code=department)
    if grant:
        queryset = queryset.filter(grant_id=grant)
    if outcome:
        queryset = queryset.filter(outcome=outcome)
    return queryset


def entries_for(**subject: int) -> QuerySet[LedgerEntry]:
    """Ledger entries about one object, e.g. ``entries_for(request=5)``, oldest first."""
    ((kind, pk),) = subject.items()
    return (
        LedgerEntry.objects.defer("entry")
        .filter(Q(subject__regex=rf"(^| ){kind}:{int(pk)}( |$)"))
        .order_by("index")
    )
