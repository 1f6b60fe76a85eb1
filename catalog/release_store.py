"""Typed row tables for releases (one table per release, as CKAN's DataStore does).

Each accepted release gets its own table ``catalog_release_rows_<resource>_<n>`` with one column
per data item in its SQL type, plus ``_line`` (the CSV line the row came from). On PostgreSQL the
rows are loaded with ``COPY`` and later exports can ``COPY`` them out at the speed of a plain typed
table, because that is what they are. On SQLite the same tables exist with SQLite's types, which is
all the quick start needs.

Table and column names never come from user input unchecked: table names are built from integers
and column names are data-item names, which the model restricts to ``[a-z][a-z0-9_]*``.
"""

import re

from django.db import connection

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


def table_name_for(resource_id, sequence):
    return f"catalog_release_rows_{int(resource_id)}_{int(sequence)}"


def _quote(name):
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return connection.ops.quote_name(name)


def create_table(table, columns):
    """Create the typed table for ``columns`` (``[{"name", "type"}]``)."""
    types = POSTGRES_TYPES if connection.vendor == "postgresql" else SQLITE_TYPES
    column_sql = ", ".join(f"{_quote(c['name'])} {types[c['type']]}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_quote(table)} (_line bigint NOT NULL, {column_sql})")


def load_rows(table, columns, rows):
    """Insert ``(line, values)`` rows; COPY on PostgreSQL, batched INSERTs elsewhere."""
    names = ["_line", *[c["name"] for c in columns]]
    column_list = ", ".join(_quote(name) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {_quote(table)} ({column_list}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for line, values in rows:
                    copy.write_row((line, *values))
            return
        placeholders = ", ".join(["%s"] * len(names))
        insert_sql = f"INSERT INTO {_quote(table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608 - identifiers checked by _quote
        batch = []
        for line, values in rows:
            batch.append((line, *[_sqlite_value(v) for v in values]))
            if len(batch) >= BATCH_SIZE:
                cursor.executemany(insert_sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(insert_sql, batch)


def _sqlite_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)  # Decimal and date keep their exact text form


def create_indexes(table, names):
    """Index the given columns (real-time lookups filter on them)."""
    with connection.cursor() as cursor:
        for name in names:
            index = f"{table}_{name}"[:60]
            cursor.execute(f"CREATE INDEX {_quote(index)} ON {_quote(table)} ({_quote(name)})")


def iter_rows(table, names, *, batch_size=BATCH_SIZE):
    """Yield rows (tuples in ``names`` order) by source line, without holding them in memory."""
    column_list = ", ".join(_quote(name) for name in names)
    sql = f"SELECT {column_list} FROM {_quote(table)} ORDER BY _line"  # noqa: S608 - identifiers checked by _quote
    if connection.vendor == "postgresql":
        # A server-side cursor streams; it needs a transaction to live in.
        from django.db import transaction

        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            while chunk := cursor.fetchmany(batch_size):
                yield from chunk
        return
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(batch_size):
            yield from chunk


def count_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 - identifiers checked by _quote
        return cursor.fetchone()[0]


def _where(conditions):
    names = sorted(conditions)
    clause = " AND ".join(f"{_quote(name)} = %s" for name in names)
    return clause, [
        _sqlite_value(conditions[n]) if connection.vendor != "postgresql" else conditions[n]
        for n in names
    ]


def find_rows(table, names, conditions, *, offset, limit):
    """``(count, rows)`` of the rows equal to ``conditions``, in source order, one page."""
    column_list = ", ".join(_quote(name) for name in names)
    clause, params = _where(conditions)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)} WHERE {clause}", params)  # noqa: S608
        count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT {column_list} FROM {_quote(table)} WHERE {clause} "  # noqa: S608
            "ORDER BY _line LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return count, cursor.fetchall()


def row_exists(table, conditions):
    clause, params = _where(conditions)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)} WHERE {clause})", params)  # noqa: S608
        return bool(cursor.fetchone()[0])
