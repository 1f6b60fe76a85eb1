"""Using a grant: downloads, real-time lookups and result-only checks.

Every call — allowed, refused or over a limit — goes to the access log. Only members of the
grantee department whose group holds ``rights.use_grant`` on an active grant get data, and only
the approved items of the newest release (or, for a download, the delivered file).
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from rest_framework.request import Request

from audit.models import AccessLog
from audit.services import access_log_record
from catalog import release_store
from catalog.models import Method, Release
from catalog.release_validation import PARSERS, CellError
from core.exceptions import DomainError
from departments.permissions import is_member_of
from rights.models import Grant, GrantUsage
from rights.permissions import holds_use_grant
from rights.selectors import AnyUser, grant_use_refusal
from sharing.models import Delivery

# The web pages pass Django's request, the API DRF's; both go to the access log as they are.
AnyRequest = HttpRequest | Request
RESERVED_PARAMS = {"page", "page_size", "format"}
_USAGE = GrantUsage._meta.db_table


class CopyDeleted(DomainError):
    """The delivery happened, but its stored copy was deleted under the retention rule."""

    status_code = 410


class OverLimit(DomainError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    tomorrow = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def _usage_locked(grant: Grant, action: str) -> tuple[int, int, int]:
    """Today's usage counter of the grant for ``action`` as ``(id, calls, records)``, created if
    need be and locked until the transaction ends, so concurrent calls are counted one after the
    other and a limit is never overshot. One statement: this runs on every call."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_USAGE} (grant_id, day, action, calls, records) "  # noqa: S608
            "VALUES (%s, %s, %s, 0, 0) ON CONFLICT (grant_id, day, action) "
            f"DO UPDATE SET calls = {_USAGE}.calls RETURNING id, calls, records",
            [grant.pk, timezone.localdate(), action],
        )
        return cursor.fetchone()


def _count_use(usage_id: int, records: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_USAGE} SET calls = calls + 1, records = records + %s WHERE id = %s",  # noqa: S608
            [records, usage_id],
        )


# --- The grant's own checks of a data call, pure (no user, no request, no database): the data
# paths below call them, and ``call_refusal`` puts them together in the paths' order (the
# reference the ODRL evaluator, standards.odrl.evaluate, is tested against). ------------------


def method_refusal(grant: Grant, method: str | None) -> str | None:
    """Why a data path of ``method`` may not serve ``grant`` (its method is another), or None."""
    if method and grant.method != method:
        return _("This grant's method is %(m)s.") % {"m": Method(grant.method).label}
    return None


def item_granted(grant: Grant, name: str) -> bool:
    """Whether a call may name the item ``name`` (filter on it, match or check it)."""
    return name in grant.fields


def daily_limit_refusal(grant: Grant, action: str, calls: int, records: int) -> str | None:
    """Why one more ``action`` call ("records" or "verify") is over the grant's daily limits,
    given today's ``calls`` and ``records`` so far, or None.

    Real-time lookups: the calls, then the records a day (a call that fits is cut to the records
    left, :func:`records_page_size`). Result-only checks: the grant's calls a day, else
    ``RESULT_ONLY_DAILY_LIMIT``; they return no records.
    """
    if action == "verify":
        limit = grant.max_calls_per_day or settings.RESULT_ONLY_DAILY_LIMIT
        if calls >= limit:
            return _("The grant allows %(n)d checks a day.") % {"n": limit}
        return None
    if grant.max_calls_per_day is not None and calls >= grant.max_calls_per_day:
        return _("The grant allows %(n)d calls a day.") % {"n": grant.max_calls_per_day}
    if grant.max_records_per_day is not None and records >= grant.max_records_per_day:
        return _("The grant allows %(n)d records a day.") % {"n": grant.max_records_per_day}
    return None


def records_page_size(grant: Grant, records: int, page_size: int) -> int:
    """The page a lookup may return after today's ``records``: cut to the daily records left."""
    if grant.max_records_per_day is not None:
        return min(page_size, grant.max_records_per_day - records)
    return page_size


CALL_METHODS = {"records": Method.REALTIME, "verify": Method.RESULT_ONLY, "download": None}


def call_refusal(
    grant: Grant,
    *,
    action: str,
    day: datetime.date,
    items: Iterable[str] = (),
    calls: int = 0,
    records: int = 0,
) -> str | None:
    """Why ``grant`` refuses one ``action`` call ("records", "verify" or "download") on ``day``
    by a member of the grantee who holds the use right, or None: the grant's state and period
    (rights.selectors.grant_use_refusal), the path's method, the items named, the daily limits
    after today's ``calls`` and ``records`` — what ``records_lookup``, ``result_verify`` and
    ``delivery_open`` check, in their order. (Downloads are not metered.)
    """
    refusal = grant_use_refusal(grant, day) or method_refusal(grant, CALL_METHODS[action])
    if refusal:
        return refusal
    unknown = [name for name in items if not item_granted(grant, name)]
    if unknown:
        return _("%(n)s is not an item of this grant.") % {"n": unknown[0]}
    if action == "download":
        return None
    return daily_limit_refusal(grant, action, calls, records)


def _check_use(
    user: AnyUser,
    grant: Grant,
    http_request: AnyRequest,
    action: str,
    target: str,
    method: str | None = None,
) -> None:
    """Refuse (and log) anyone but the grantee's members on an active grant."""
    refusal = None
    if not is_member_of(user, grant.grantee_department_id):
        refusal = _("Only members of %(dept)s, the grantee department, can use this grant.") % {
            "dept": grant.grantee_department.code
        }
    elif unusable := grant_use_refusal(grant):
        refusal = unusable
    elif not holds_use_grant(user, grant):
        refusal = _(
            "Your department does not hold the use right on this grant; ask the data "
            "management office to check the grant's permissions."
        )
    elif wrong_method := method_refusal(grant, method):
        refusal = wrong_method
    if refusal:
        access_log_record(
            request=http_request,
            action=action,
            target=target,
            grant=grant,
            department=grant.grantee_department,
            outcome=AccessLog.Outcome.REFUSED,
            detail={"reason": str(refusal)},
        )
        raise PermissionDenied(refusal)


def delivery_open(*, user: AnyUser, delivery: Delivery, http_request: AnyRequest) -> FieldFile:
    """The delivered file, opened for reading, for a grantee member while the grant is active."""
    grant = delivery.grant
    target = f"delivery {delivery.pk}"
    if delivery.purged_at is not None:
        # Said before the grant check: the grant has ended too, but this is the lasting reason.
        access_log_record(
            request=http_request,
            action="download",
            target=target,
            grant=grant,
            department=grant.grantee_department,
            outcome=AccessLog.Outcome.REFUSED,
            detail={"reason": "purged"},
        )
        raise CopyDeleted(
            _(
                "The stored copy of this delivery was deleted on %(date)s under the retention "
                "rule: copies are kept %(days)d days after a grant is revoked or expires. Its "
                "hashes, row count and ledger entries stay on record."
            )
            % {
                "date": date_format(timezone.localtime(delivery.purged_at), "DATE_FORMAT"),
                "days": settings.DELIVERY_RETENTION_DAYS,
            }
        )
    _check_use(user, grant, http_request, "download", target)
    if delivery.status != Delivery.Status.SUCCEEDED:
        access_log_record(
            request=http_request,
            action="download",
            target=target,
            grant=grant,
            department=grant.grantee_department,
            outcome=AccessLog.Outcome.REFUSED,
            detail={"reason": "not ready"},
        )
        raise DomainError(
            _("This delivery is %(s)s; there is no file yet.")
            % {"s": delivery.get_status_display().lower()}
        )
    handle = delivery.file.open("rb")
    access_log_record(
        request=http_request,
        action="download",
        target=target,
        grant=grant,
        department=grant.grantee_department,
        outcome=AccessLog.Outcome.ALLOWED,
        records=delivery.row_count or 0,
        detail={"sha256": delivery.sha256},
    )
    return handle


def _release(grant: Grant) -> Release:
    release = (
        Release.objects.filter(resource_id=grant.resource_id)
        .only("id", "resource_id", "sequence", "table_name", "columns")
        .order_by("-sequence")
        .first()
    )
    if release is None:
        raise DomainError(_("The resource has no release yet."))
    return release


def _typed_filters(
    grant: Grant, release: Release, raw: Mapping[str, Any], field_name: str
) -> dict[str, Any]:
    """Parse ``{item: text}`` against the grant's items and the release's types (400 if not)."""
    types = {c["name"]: c["type"] for c in release.columns}
    errors, parsed = {}, {}
    for name, value in raw.items():
        if not item_granted(grant, name):
            errors[name] = _("%(n)s is not an item of this grant.") % {"n": name}
            continue
        try:
            parsed[name] = PARSERS[types[name]](str(value))
        except (CellError, KeyError) as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError({field_name: [f"{k}: {v}" for k, v in errors.items()]})
    return parsed


def _over_limit(
    http_request: AnyRequest, grant: Grant, action: str, target: str, message: str
) -> NoReturn:
    access_log_record(
        request=http_request,
        action=action,
        target=target,
        grant=grant,
        department=grant.grantee_department,
        outcome=AccessLog.Outcome.LIMITED,
    )
    raise OverLimit(message, _seconds_to_midnight())


def records_lookup(
    *,
    user: AnyUser,
    grant: Grant,
    filters: Mapping[str, Any],
    page: int,
    page_size: int,
    http_request: AnyRequest,
) -> tuple[int, list[dict[str, Any]]]:
    """Records of the newest release matching ``filters``, approved items only, within limits.

    Returns ``(count, rows as dicts)``.
    """
    target = f"grant {grant.pk} records"
    _check_use(user, grant, http_request, "records", target, method=Method.REALTIME)
    if not filters:
        raise ValidationError({"filters": _("Filter on at least one approved item.")})
    release = _release(grant)
    where = _typed_filters(grant, release, filters, "filters")
    over = None
    with transaction.atomic():
        usage_id, calls, records = _usage_locked(grant, "records")
        over = daily_limit_refusal(grant, "records", calls, records)
        if not over:
            page_size = records_page_size(grant, records, page_size)
            count, rows = release_store.find_rows(
                release.table_name,
                grant.fields,
                where,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
            results = [dict(zip(grant.fields, row, strict=True)) for row in rows]
            _count_use(usage_id, len(results))
            access_log_record(
                request=http_request,
                action="records",
                target=target,
                grant=grant,
                department=grant.grantee_department,
                outcome=AccessLog.Outcome.ALLOWED,
                records=len(results),
                detail={"filters": filters, "page": page},
            )
    if over:
        _over_limit(http_request, grant, "records", target, over)
    return count, results


def result_verify(
    *,
    user: AnyUser,
    grant: Grant,
    match: Mapping[str, str],
    check: Mapping[str, str] | None,
    http_request: AnyRequest,
) -> bool:
    """Whether a record matching ``match`` exists (and, with ``check``, has those values).

    Never returns record values. A daily query limit (the grant's calls per day, else
    ``RESULT_ONLY_DAILY_LIMIT``) stops enumeration.
    """
    target = f"grant {grant.pk} verify"
    _check_use(user, grant, http_request, "verify", target, method=Method.RESULT_ONLY)
    if not match:
        raise ValidationError({"match": _("Give at least one item to match.")})
    release = _release(grant)
    where = _typed_filters(grant, release, match, "match")
    checks = _typed_filters(grant, release, check or {}, "check")
    with transaction.atomic():
        usage_id, calls, records = _usage_locked(grant, "verify")
        over = daily_limit_refusal(grant, "verify", calls, records)
        if not over:
            result = release_store.row_exists(release.table_name, where | checks)
            _count_use(usage_id, 0)
            access_log_record(
                request=http_request,
                action="verify",
                target=target,
                grant=grant,
                department=grant.grantee_department,
                outcome=AccessLog.Outcome.ALLOWED,
                detail={"match": sorted(match), "check": sorted(check or {})},
            )
    if over:
        _over_limit(http_request, grant, "verify", target, over)
    return result


def log_not_visible(
    *, http_request: AnyRequest, action: str, target: str, grant: Grant | None = None
) -> None:
    """An outsider's attempt on something they cannot see: answered 404, and still logged."""
    access_log_record(
        request=http_request,
        action=action,
        target=target,
        grant=grant,
        outcome=AccessLog.Outcome.REFUSED,
        detail={"reason": "not visible"},
    )
