"""Pages of long lists that cost the same on page 1 and page 1,000 (issue #16).

Three pieces, shared by the web lists and the API:

- :func:`cheap_count`: the exact count up to ``EXACT_COUNT_UP_TO`` rows (``COUNT`` over a
  ``LIMIT``-ed subquery, which stops early), above it PostgreSQL's planner estimate, so a count
  never walks 100,000 rows;
- :func:`page_of`: a page fetched ids first (the subquery reads only the index that gives the
  order, an index-only scan when it covers the filter), then the page's rows with their joins;
- :class:`KeysetCursor`: ``?cursor=`` tokens that carry the ordering values of the last (or
  first) row, so the next page starts where the index left off instead of skipping rows.
"""

import base64
import binascii
import datetime
import json
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# Counts above this are the planner's estimate ("about 97,000"); below it they are exact.
EXACT_COUNT_UP_TO = 1000
_BIGINT = 2**63


def cheap_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """``(count, estimated)``: exact up to ``EXACT_COUNT_UP_TO``, the planner's estimate above.

    One ``COUNT`` over a subquery that stops after ``EXACT_COUNT_UP_TO + 1`` rows; only a longer
    list costs a second query, an ``EXPLAIN`` (planning only, no rows read). Other databases
    than PostgreSQL count exactly.
    """
    bare = queryset.order_by().values("pk")
    capped = bare[: EXACT_COUNT_UP_TO + 1].count()
    if capped <= EXACT_COUNT_UP_TO or connection.vendor != "postgresql":
        return (capped if capped <= EXACT_COUNT_UP_TO else bare.count()), False
    sql, params = bare.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    # Never below what was just counted: the list holds more than the threshold.
    return max(estimate, EXACT_COUNT_UP_TO + 1), True


def page_of(queryset: QuerySet[Any], start: int, stop: int) -> QuerySet[Any]:
    """Rows ``start:stop`` of ``queryset``: their ids first, then the rows with their joins.

    The id subquery keeps the queryset's filters and ordering but none of its joins, so the
    database skips the first ``start`` rows inside the ordering index (an index-only scan when
    the index covers the filter) instead of joining and fetching every skipped row. The
    queryset's ordering must end on a unique field (``id``), as keyset pages need too.
    """
    ids = queryset.values("pk")[start:stop]
    # The outer query looks the ids up by primary key, with the list's joins, annotations,
    # deferred fields, prefetches and ordering but not its conditions: repeating them lets the
    # planner scan the whole table again to check rows the subquery has already chosen.
    rows = queryset.model._default_manager.filter(pk__in=ids)
    if queryset.query.annotations:
        rows = rows.annotate(**queryset.query.annotations)
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    rows = rows.prefetch_related(*getattr(queryset, "_prefetch_related_lookups", ()))
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    rows = rows.order_by(*ordering)
    rows.query.standard_ordering = queryset.query.standard_ordering  # reverse() kept
    return rows


class CheapCountPage(Page):
    def has_next(self) -> bool:
        if getattr(self.paginator, "estimated", False):
            # An estimate may be short: a full page means there may be another one.
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


class CheapCountPaginator(Paginator):
    """A Paginator with :func:`cheap_count` and :func:`page_of`.

    ``estimated`` tells whether ``count`` is the planner's estimate; then every page number is
    accepted (a page past the end is empty rather than a 404) and "next" follows full pages.
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        total, self.estimated = cheap_count(self.object_list)  # type: ignore[arg-type]
        return total

    def validate_number(self, number: Any) -> int:
        if not (self.count and self.estimated):
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number * self.per_page >= _BIGINT:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.estimated and top + self.orphans >= self.count:
            top = self.count
        rows = page_of(self.object_list, bottom, top)  # type: ignore[arg-type]
        return self._get_page(rows, number, self)

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return CheapCountPage(*args, **kwargs)


class BadCursor(ValueError):
    pass


def _ordering(queryset: QuerySet[Any]) -> list[tuple[str, bool]]:
    """``[(name, descending), ...]`` of the queryset's ``order_by``; the last must be unique."""
    names = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    fields = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError("keyset pages need an ordering by field names")
        fields.append((name.lstrip("-"), name.startswith("-")))
    return fields


class KeysetCursor:
    """Opaque ``?cursor=`` tokens: the ordering values of a row and the direction to go.

    A token is base64 of a JSON list ``[direction, value, ...]``; the values are checked against
    the ordering's types before they reach SQL, so a tampered token is a 400, never a 500.
    """

    def __init__(self, queryset: QuerySet[Any]):
        self.queryset = queryset
        self.fields = _ordering(queryset)

    def _kind(self, name: str) -> type:
        annotation = self.queryset.query.annotations.get(name)
        field = (
            annotation.output_field
            if annotation is not None
            else self.queryset.model._meta.get_field("id" if name == "pk" else name)
        )
        internal = field.get_internal_type()
        if internal == "DateTimeField":
            return datetime.datetime
        return int if "Integer" in internal or "AutoField" in internal else str

    def encode(self, row: Any, forward: bool) -> str:
        values = [getattr(row, name) for name, _desc in self.fields]
        values = [v.isoformat() if isinstance(v, datetime.datetime) else v for v in values]
        raw = json.dumps([1 if forward else 0, *values], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, token: str) -> tuple[bool, list[Any]]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise BadCursor(_("The cursor is not one this list gave out.")) from exc
        if not isinstance(data, list) or len(data) != len(self.fields) + 1 or data[0] not in (0, 1):
            raise BadCursor(_("The cursor is not one this list gave out."))
        values = data[1:]
        for index, (name, _desc) in enumerate(self.fields):
            kind: type[Any] = self._kind(name)
            value: Any = values[index]
            if kind is datetime.datetime:
                try:
                    moment = datetime.datetime.fromisoformat(value)
                    if moment.tzinfo is None:  # the list gave out aware times only
                        raise ValueError("naive time")
                    # In the database's zone: a time past 9999-12-31 there is refused here,
                    # not by the query.
                    moment.astimezone(datetime.UTC)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise BadCursor(_("The cursor is not one this list gave out.")) from exc
                values[index] = moment
                continue
            if type(value) is not kind or (kind is int and not -_BIGINT < value < _BIGINT):
                raise BadCursor(_("The cursor is not one this list gave out."))
            if kind is str and "\x00" in value:
                raise BadCursor(_("The cursor is not one this list gave out."))
        return data[0] == 1, values

    def after(self, values: list[Any], forward: bool) -> QuerySet[Any]:
        """The rows after (or before) ``values`` in the ordering, nearest first.

        ``(a, b, id) > (x, y, z)`` as ``a >= x AND (a > x OR (a = x AND (b > y OR ...)))``: the
        leading bound lets the index start at ``x``; the rest decides the ties.
        """
        condition = Q()
        for (name, descending), value in reversed(list(zip(self.fields, values, strict=True))):
            later = "lt" if descending == forward else "gt"
            step = Q(**{f"{name}__{later}": value})
            condition = step if not condition else step | (Q(**{name: value}) & condition)
        first, descending = self.fields[0]
        bound = "lte" if descending == forward else "gte"
        queryset = self.queryset.filter(Q(**{f"{first}__{bound}": values[0]}) & condition)
        if forward:
            return queryset
        return queryset.reverse()
