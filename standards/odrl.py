"""A grant as a W3C ODRL 2.2 agreement, and the evaluator that decides a data call from it alone.

:func:`grant_policy` writes the grant (rights.models.Grant) as an ``odrl:Agreement`` in compacted
JSON-LD that is also a Dataspace Protocol 2025-1 ``Agreement`` (the ``agreement`` of a
``ContractAgreementMessage``). Its context is the DSP context, the DSP ODRL profile (the terms the
DSP context imports for its messages) and one term of its own, ``timestamp`` (``dspace:timestamp``,
which the DSP context defines only inside its messages). ODRL terms the profile lacks are written
``odrl:…`` and govshare's own operands and units as full IRIs under ``/ns/odrl#``
(:func:`gs`), so the agreement means the same standalone and embedded in a DSP message.

The mapping, grant field → ODRL:

- pk → ``@id`` (:func:`standards.vocab.grant_policy_uri`); ``created_at`` → ``timestamp``;
- the resource's owning department → ``assigner``; the grantee department → ``assignee``; the
  resource → ``target`` (:func:`standards.vocab.dataset_uri`);
- one ``use`` permission, constrained by
  ``purpose`` → ``odrl:purpose eq`` the purpose text;
  ``fields`` → ``gs:dataItem isAnyOf`` the approved items (each item a call names is one of them);
  ``method`` → ``gs:method eq`` the method code;
  ``valid_from``/``valid_until`` → ``odrl:dateTime gteq``/``lteq`` an ``xsd:date``: the period is
  whole days in ``TIME_ZONE``, both ends included, so each bound is a date with the zone's offset
  (the offset in force when that day starts for the lower bound, when it ends for the upper one,
  so an instant compares exactly even on a day the clocks change);
  ``max_records_per_day`` → ``odrl:count lteq`` n with ``odrl:unit`` ``gs:recordsPerDay``;
  ``max_calls_per_day`` → ``odrl:count lteq`` n with ``odrl:unit`` ``gs:callsPerDay`` (a
  result-only grant always has one: its own limit, else ``RESULT_ONLY_DAILY_LIMIT``, the limit
  sharing.access.result_verify applies). ODRL has no per-day count, hence the units;
- duties: ``odrl:inform`` the assigner of every use (the portal's access log, which the owner
  reads) and ``odrl:delete`` the copies at the end of use (``odrl:event gteq gs:endOfUse``: the
  grant revoked or expired; returning them instead is attested the same way, rights.Attestation).
"""

import dataclasses
import datetime
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from catalog.models import Method
from rights.models import Grant
from standards import vocab

DSP_ODRL_PROFILE = "https://w3id.org/dspace/2025/1/odrl-profile.jsonld"
# The one term the DSP context defines only inside its messages (ContractAgreementMessage's).
LOCAL_CONTEXT = {"timestamp": {"@id": "dspace:timestamp", "@type": "xsd:dateTime"}}
CONTEXT: list[Any] = [vocab.DSP_CONTEXT, DSP_ODRL_PROFILE, LOCAL_CONTEXT]

# govshare's own ODRL terms, where ODRL 2.2's common vocabulary has none (one place).
GS_DATA_ITEM = "dataItem"  # left operand: a data item a call names (filters on, matches, checks)
GS_METHOD = "method"  # left operand: the sharing method the call uses (catalog.models.Method)
GS_RECORDS_PER_DAY = "recordsPerDay"  # unit of odrl:count: records returned in one local day
GS_CALLS_PER_DAY = "callsPerDay"  # unit of odrl:count: calls made in one local day
GS_END_OF_USE = "endOfUse"  # right operand of odrl:event: the grant is revoked or expired
GS_TERMS = (GS_DATA_ITEM, GS_METHOD, GS_RECORDS_PER_DAY, GS_CALLS_PER_DAY, GS_END_OF_USE)


def gs(term: str) -> str:
    """govshare's ODRL term ``term`` as an IRI (under the portal's ``/ns/odrl#``)."""
    return vocab.site_uri(f"/ns/odrl#{term}")


# --- the document --------------------------------------------------------------------------


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _offset(at: datetime.datetime) -> str:
    """``at``'s UTC offset as XSD writes a timezone: ``Z`` or ``+08:00``."""
    delta = at.utcoffset() or datetime.timedelta(0)
    if not delta:
        return "Z"
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=_zone())


def _date(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:date"}


def _count(n: int, unit: str) -> dict[str, Any]:
    return {
        "leftOperand": "odrl:count",
        "operator": "lteq",
        "rightOperand": {"@value": n, "@type": "xsd:nonNegativeInteger"},
        "odrl:unit": {"@id": gs(unit)},
    }


def calls_per_day(grant: Grant) -> int | None:
    """The grant's calls a day: its own limit, or for result-only the portal's default."""
    if grant.method == Method.RESULT_ONLY:
        return grant.max_calls_per_day or settings.RESULT_ONLY_DAILY_LIMIT
    return grant.max_calls_per_day


def _timestamp(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def grant_policy(grant: Grant) -> dict[str, Any]:
    """The grant as an ODRL 2.2 / DSP 2025-1 ``Agreement`` (compacted JSON-LD), the same document
    whenever it is asked for: everything in it is the grant's approval snapshot."""
    assigner = vocab.department_uri(grant.resource.owner_department.code)
    start = _day_start(grant.valid_from)
    end = _day_start(grant.valid_until + datetime.timedelta(days=1))
    constraints: list[dict[str, Any]] = [
        {"leftOperand": "odrl:purpose", "operator": "eq", "rightOperand": grant.purpose},
        {
            "leftOperand": gs(GS_DATA_ITEM),
            "operator": "isAnyOf",
            "rightOperand": list(grant.fields),
        },
        {"leftOperand": gs(GS_METHOD), "operator": "eq", "rightOperand": grant.method},
        {
            "leftOperand": "odrl:dateTime",
            "operator": "gteq",
            "rightOperand": _date(grant.valid_from.isoformat() + _offset(start)),
        },
        {
            "leftOperand": "odrl:dateTime",
            "operator": "lteq",
            "rightOperand": _date(grant.valid_until.isoformat() + _offset(end)),
        },
    ]
    if grant.max_records_per_day is not None:
        constraints.append(_count(grant.max_records_per_day, GS_RECORDS_PER_DAY))
    calls = calls_per_day(grant)
    if calls is not None:
        constraints.append(_count(calls, GS_CALLS_PER_DAY))
    return {
        "@context": CONTEXT,
        "@id": vocab.grant_policy_uri(grant.pk),
        "@type": "Agreement",
        "profile": vocab.site_uri("/ns/odrl"),
        "timestamp": _timestamp(grant.created_at),
        "assigner": assigner,
        "assignee": vocab.department_uri(grant.grantee_department.code),
        "target": vocab.dataset_uri(grant.resource.identifier),
        "permission": [
            {
                "action": "use",
                "constraint": constraints,
                "duty": [
                    {"action": "odrl:inform", "odrl:informedParty": {"@id": assigner}},
                    {
                        "action": "odrl:delete",
                        "constraint": [
                            {
                                "leftOperand": "odrl:event",
                                "operator": "gteq",
                                "rightOperand": {"@id": gs(GS_END_OF_USE)},
                            }
                        ],
                    },
                ],
            }
        ],
    }


# --- the evaluator ---------------------------------------------------------------------------

# Why a call is refused: one code per constraint (Decision.reasons).
PERIOD, METHOD, ITEMS, PURPOSE, CALLS, RECORDS = (
    "period",
    "method",
    "items",
    "purpose",
    "calls",
    "records",
)
ACTION, TARGET, ASSIGNEE, UNKNOWN = "action", "target", "assignee", "unknown-constraint"


@dataclasses.dataclass(frozen=True)
class DataCall:
    """One data call as the policy sees it.

    ``when``: an aware datetime (compared as an instant) or a date (a day in ``TIME_ZONE``).
    ``method``: the sharing method of the data path (``realtime`` for record lookups,
    ``result_only`` for checks); None for a path that names none (downloading a delivery made
    for the grant), which the method constraint then does not judge.
    ``items``: the data items the call names (filters, matches, checks); a delivery names none.
    ``purpose``: the purpose the caller asserts; None means the grant's own.
    ``calls_today``/``records_today``: the metered calls and records of the grant so far on the
    call's day (downloads are not metered: leave them 0); ``records``: what the call would return.
    ``target``/``assignee``: when given, must be the policy's.
    """

    when: datetime.datetime | datetime.date
    method: str | None = None
    items: Sequence[str] = ()
    purpose: str | None = None
    calls_today: int = 0
    records_today: int = 0
    records: int = 0
    action: str = "use"
    target: str | None = None
    assignee: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """``permitted``, the codes of the constraints that refuse it (``reasons``, in the policy's
    order), and how many records the call may return (``records_allowed``, None if no limit):
    the portal serves a call over the remaining records truncated, not refused."""

    permitted: bool
    reasons: tuple[str, ...] = ()
    records_allowed: int | None = None


def _value(operand: Any) -> Any:
    return operand.get("@value", operand.get("@id")) if isinstance(operand, dict) else operand


def _parse_date(text: str) -> tuple[datetime.date, datetime.timezone | None]:
    """An ``xsd:date`` with an optional timezone (``2026-01-31``, ``…Z``, ``…+08:00``)."""
    day, zone = text[:10], text[10:]
    tz = None
    if zone == "Z":
        tz = datetime.UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = zone[1:].split(":")
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes)))
    return datetime.date.fromisoformat(day), tz


def _call_day(when: datetime.datetime | datetime.date, tz: datetime.tzinfo | None) -> datetime.date:
    if isinstance(when, datetime.datetime):
        return when.astimezone(tz or _zone()).date()
    return when


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "eq":
        return bool(left == right)
    if operator == "neq":
        return bool(left != right)
    if operator == "lt":
        return bool(left < right)
    if operator == "lteq":
        return bool(left <= right)
    if operator == "gt":
        return bool(left > right)
    if operator == "gteq":
        return bool(left >= right)
    raise ValueError(operator)


def _date_ok(call: DataCall, operator: str, operand: Any) -> bool:
    text = _value(operand)
    if "T" in str(text):  # an xsd:dateTime bound: compare instants (a date call: its start)
        bound = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        instant = call.when
        if not isinstance(instant, datetime.datetime):
            instant = _day_start(instant)
        return _compare(instant, operator, bound)
    day, tz = _parse_date(str(text))
    return _compare(_call_day(call.when, tz), operator, day)


def _count_ok(call: DataCall, constraint: dict[str, Any]) -> tuple[str, bool, int | None]:
    """(reason code, allowed, records the call may still return)."""
    n = int(_value(constraint["rightOperand"]))
    unit = _value(constraint.get("odrl:unit") or constraint.get("unit"))
    operator = constraint["operator"]
    if operator != "lteq":
        raise ValueError(operator)
    if unit == gs(GS_RECORDS_PER_DAY):
        # The records so far must leave room for at least one more; the call is cut to fit.
        return RECORDS, call.records_today < n, max(0, n - call.records_today)
    if unit == gs(GS_CALLS_PER_DAY):
        return CALLS, call.calls_today + 1 <= n, None
    raise ValueError(unit)


def _constraint_refusal(
    policy: dict[str, Any], call: DataCall, constraint: dict[str, Any]
) -> tuple[str | None, int | None]:
    """(the code refusing ``call``, or None; records the call may return, if limited)."""
    left = constraint.get("leftOperand")
    operator = constraint.get("operator")
    right = constraint.get("rightOperand")
    if left == "odrl:purpose" and operator == "eq":
        purpose = right if call.purpose is None else call.purpose
        return (None if purpose == right else PURPOSE), None
    if left == gs(GS_DATA_ITEM) and operator == "isAnyOf" and isinstance(right, list):
        return (None if all(item in right for item in call.items) else ITEMS), None
    if left == gs(GS_METHOD) and operator == "eq":
        return (None if call.method in (None, right) else METHOD), None
    if left == "odrl:dateTime" and operator in ("lt", "lteq", "gt", "gteq", "eq"):
        return (None if _date_ok(call, operator, right) else PERIOD), None
    if left == "odrl:count":
        code, allowed, room = _count_ok(call, constraint)
        return (None if allowed else code), room
    raise ValueError(left)


def evaluate(policy: dict[str, Any], call: DataCall) -> Decision:
    """Whether ``policy`` (from :func:`grant_policy`) permits ``call``, from the policy alone.

    Every constraint of the ``use`` permission is judged (all must hold); a constraint the
    evaluator does not know refuses the call (``unknown-constraint``), as ODRL requires of a
    constraint that cannot be evaluated. The duties are the portal's: it logs every call
    (``inform``) and asks for the end-of-use attestation (``delete``); they do not decide a call.

    What the policy cannot say, so the caller must check it too (rights.selectors): whether the
    grant is still active (the holder of the shared-management right may suspend or revoke it)
    and whether its data-sharing agreement is signed; those are state, not policy.
    """
    reasons: list[str] = []
    records_allowed: int | None = None
    if call.target is not None and call.target != policy.get("target"):
        reasons.append(TARGET)
    if call.assignee is not None and call.assignee != policy.get("assignee"):
        reasons.append(ASSIGNEE)
    actions = [p for p in policy.get("permission", []) if p.get("action") in ("use", "odrl:use")]
    if call.action not in ("use", "odrl:use") or not actions:
        reasons.append(ACTION)
    for permission in actions[:1]:
        for constraint in permission.get("constraint", []):
            try:
                code, room = _constraint_refusal(policy, call, constraint)
            except (KeyError, TypeError, ValueError):
                code, room = UNKNOWN, None
            if code and code not in reasons:
                reasons.append(code)
            if room is not None:
                records_allowed = room if records_allowed is None else min(records_allowed, room)
    if records_allowed is not None:
        records_allowed = min(records_allowed, call.records)
    return Decision(not reasons, tuple(reasons), records_allowed)
