"""Typed row tables for releases (one table per release, as CKAN's DataStore does).

Each accepted release gets its own table ``catalog_release_rows_<resource>_<n>`` with one column
per data item in its SQL type, plus ``_line`` (the CSV line the row came from). On PostgreSQL the
rows are loaded with ``COPY`` (text format, written by ``release_validation.copy_text`` as it
validates), and deliveries ``COPY`` them out at the speed of a plain typed table, because that is
what they are. On SQLite the same tables exist with SQLite's types, which is
all the quick start needs.

Table and column names never come from user input unchecked: table names are built from integers
and column names are data-item names, which the model restricts to ``[a-z][a-z0-9_]*``.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from catalog import release_validation
from catalog.release_validation import Column, Report, Value

Row = tuple[Any, ...]

POSTGRES_TYPES = {
    "string": "text",
    "integer": "bigint",
    "decimal": "numeric",
    "date": "date",
    "boolean": "boolean",
}
SQLITE_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "decimal": "TEXT",  # exact: SQLite's REAL would round
    "date": "TEXT",
    "boolean": "INTEGER",
}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
BATCH_SIZE = 2000
EXPORT_BLOCK = 1 << 20


def table_name_for(resource_id: int, sequence: int) -> str:
    return f"catalog_release_rows_{int(resource_id)}_{int(sequence)}"


def _quote(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return connection.ops.quote_name(name)


def create_table(table: str, columns: Sequence[Column]) -> None:
    """Create the typed table for ``columns`` (``[{"name", "type"}]``)."""
    types = POSTGRES_TYPES if connection.vendor == "postgresql" else SQLITE_TYPES
    column_sql = ", ".join(f"{_quote(c['name'])} {types[c['type']]}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_quote(table)} (_line bigint NOT NULL, {column_sql})")


def load_release(table: str, columns: Sequence[Column], fileobj: IO[bytes], report: Report) -> None:
    """Validate the CSV ``fileobj`` into ``report`` and load its rows into ``table`` while it is
    clean: ``COPY`` text on PostgreSQL, batched INSERTs elsewhere. Nothing is loaded from a file
    with a problem (the caller rolls the table back); the report lists the problems."""
    if connection.vendor != "postgresql":
        _insert_rows(table, columns, release_validation.parse_rows(fileobj, columns, report))
        return
    import psycopg

    column_list = ", ".join(_quote(name) for name in ["_line", *[c["name"] for c in columns]])
    copy_sql = f"COPY {_quote(table)} ({column_list}) FROM STDIN WITH (NULL '')"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(copy_sql) as copy:
                sent = 0
                for chunk in release_validation.copy_text(fileobj, columns, report):
                    copy.write(chunk)
                    sent += chunk.count(b"\n")
            if report.ok and cursor.cursor.rowcount != sent:
                raise RuntimeError(f"COPY loaded {cursor.cursor.rowcount} rows of {sent}")
    except psycopg.DataError as exc:
        # PostgreSQL refused a value the checks let through: the savepoint is rolled back, and
        # reading the file again cell by cell names the line and column if the parsers can.
        refused = exc.diag.message_primary or str(exc)
        report.reset()
        for _row in release_validation.parse_rows(fileobj, columns, report):
            pass
        if report.ok:
            report.add(None, "", _("the database refused a value: %(error)s") % {"error": refused})


def _insert_rows(
    table: str, columns: Sequence[Column], rows: Iterable[tuple[int, list[Value]]]
) -> None:
    names = ["_line", *[c["name"] for c in columns]]
    column_list = ", ".join(_quote(name) for name in names)
    placeholders = ", ".join(["%s"] * len(names))
    insert_sql = f"INSERT INTO {_quote(table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608 - identifiers checked by _quote
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for line, values in rows:
            batch.append((line, *[_sqlite_value(v) for v in values]))
            if len(batch) >= BATCH_SIZE:
                cursor.executemany(insert_sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(insert_sql, batch)


def _sqlite_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")  # exact and plain, as PostgreSQL writes numeric: 100, not 1E+2
    return str(value)  # a date's ISO form


def create_indexes(table: str, names: Iterable[str]) -> None:
    """Index the given columns (real-time lookups filter on them)."""
    with connection.cursor() as cursor:
        for name in names:
            index = f"{table}_{name}"[:60]
            cursor.execute(f"CREATE INDEX {_quote(index)} ON {_quote(table)} ({_quote(name)})")


def iter_rows(table: str, names: Sequence[str], *, batch_size: int = BATCH_SIZE) -> Iterator[Row]:
    """Yield rows (tuples in ``names`` order) by source line, without holding them in memory."""
    column_list = ", ".join(_quote(name) for name in names)
    sql = f"SELECT {column_list} FROM {_quote(table)} ORDER BY _line"  # noqa: S608 - identifiers checked by _quote
    if connection.vendor == "postgresql":
        # A server-side cursor streams; it needs a transaction to live in.
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            while chunk := cursor.fetchmany(batch_size):
                yield from chunk
        return
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(batch_size):
            yield from chunk


def export_csv(
    table: str,
    columns: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    write: Callable[[bytearray], object],
) -> int:
    """Write the rows' ``names`` columns as CSV (a header, then one line a row) to ``write`` in
    blocks of bytes; returns the row count. ``columns`` are the release's ``{"name", "type"}``.

    PostgreSQL writes the CSV itself (``COPY (SELECT ...) TO STDOUT``), booleans as true/false and
    dates as ISO. The rows come in source order without a sort: a release table is written once,
    in line order, by a single COPY and never changed, so a plain sequential scan returns that
    order. The scan is kept plain: no synchronized scan joining one already under way, no
    parallel workers. Elsewhere ``_csv_line`` writes the same CSV from the rows read
    ``ORDER BY _line``.
    """
    booleans = {c["name"] for c in columns if c["type"] == "boolean"}
    if connection.vendor != "postgresql":
        return _export_csv_python(table, names, booleans, write)
    select = ", ".join(
        f"{_quote(name)}::text AS {_quote(name)}" if name in booleans else _quote(name)
        for name in names
    )
    sql = f"COPY (SELECT {select} FROM {_quote(table)}) TO STDOUT WITH (FORMAT csv, HEADER)"  # noqa: S608
    block = bytearray()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronize_seqscans = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        with cursor.cursor.copy(sql) as copy:
            for data in copy:  # one row each: gather them into blocks
                block += data
                if len(block) >= EXPORT_BLOCK:
                    write(block)
                    block.clear()
        if block:
            write(block)
        return cursor.cursor.rowcount


def _export_csv_python(
    table: str, names: Sequence[str], booleans: set[str], write: Callable[[bytearray], object]
) -> int:
    """The same CSV as PostgreSQL's ``COPY ... CSV`` writes, from Python (the quick start)."""
    block = bytearray(_csv_line(names))
    rows = 0
    is_boolean = [name in booleans for name in names]
    for row in iter_rows(table, names):
        block += _csv_line(
            [
                ("true" if value else "false") if boolean and value is not None else value
                for value, boolean in zip(row, is_boolean, strict=True)
            ]
        )
        rows += 1
        if len(block) >= EXPORT_BLOCK:
            write(block)
            block.clear()
    if block:
        write(block)
    return rows


_CSV_SPECIAL = re.compile(r'[,"\r\n]')


def _csv_line(values: Iterable[Any]) -> bytes:
    """One CSV line as COPY writes it: NULL empty, a value quoted when it holds a comma, a quote,
    CR or LF (Python's csv module leaves a lone CR unquoted), decimals in plain notation."""
    cells: list[str] = []
    for value in values:
        if value is None:
            cells.append("")
            continue
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        if _CSV_SPECIAL.search(text):
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return (",".join(cells) + "\n").encode()


def count_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 - identifiers checked by _quote
        return cursor.fetchone()[0]


def _where(conditions: Mapping[str, Any]) -> tuple[str, list[Any]]:
    names = sorted(conditions)
    clause = " AND ".join(f"{_quote(name)} = %s" for name in names)
    return clause, [
        _sqlite_value(conditions[n]) if connection.vendor != "postgresql" else conditions[n]
        for n in names
    ]


def find_rows(
    table: str, names: Sequence[str], conditions: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[int, list[Row]]:
    """``(count, rows)`` of the rows equal to ``conditions``, in source order, one page.

    One query: the count rides along on each row (a window over all matches); only a page past
    the end, which has no rows to carry it, costs a second query.
    """
    column_list = ", ".join(_quote(name) for name in names)
    clause, params = _where(conditions)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column_list}, count(*) OVER () FROM {_quote(table)} WHERE {clause} "  # noqa: S608
            "ORDER BY _line LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
        if rows:
            return rows[0][-1], [row[:-1] for row in rows]
        if offset == 0:
            return 0, []
        cursor.execute(f"SELECT count(*) FROM {_quote(table)} WHERE {clause}", params)  # noqa: S608
        return cursor.fetchone()[0], []


def row_exists(table: str, conditions: Mapping[str, Any]) -> bool:
    clause, params = _where(conditions)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)} WHERE {clause})", params)  # noqa: S608
        return bool(cursor.fetchone()[0])
