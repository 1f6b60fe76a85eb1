"""The PostgreSQL database every benchmark script runs on (imported by the scripts in bench/)."""

import psycopg
from psycopg import sql


def ensure_database(url, fail):
    """Create the bench database if missing; ``fail(message, 2)`` if PostgreSQL cannot be
    reached or the URL names no database."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        fail(f"BENCH_DATABASE_URL is not a valid PostgreSQL URL: {exc}", 2)
    name = params.get("dbname")
    if not name:
        fail(f"{url!r} names no database", 2)
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    try:
        with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(
            f"PostgreSQL is unreachable at {where} ({detail}). The benchmark needs PostgreSQL; "
            "start it or set BENCH_DATABASE_URL=postgresql://user@host:port/dbname.",
            2,
        )


# --- Bulk loads that bypass the ORM ---
#
# A model field's ``default=`` lives in Python: Django fills it in when it saves, PostgreSQL knows
# nothing of it. A COPY or INSERT that leaves such a NOT NULL column out fails on the database, so
# the generators write every column (``copy_fields``) or check their list first (``check_columns``).


def copy_fields(model):
    """The concrete fields of ``model`` a bulk load writes: all but an auto-incrementing primary
    key (the sequence fills it). Values come from an unsaved instance, defaults included."""
    from django.db import models

    return [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    ]


def check_columns(model, columns, fail):
    """``fail`` unless ``columns`` (database column names) cover every column of ``model`` that
    PostgreSQL would leave NULL and refuse: NOT NULL, no ``db_default``, not an auto primary key."""
    from django.db import models

    given = set(columns)
    missing = [
        field.column
        for field in copy_fields(model)
        if not field.null and field.db_default is models.NOT_PROVIDED and field.column not in given
    ]
    if missing:
        fail(
            f"the bench load of {model._meta.db_table} leaves out the NOT NULL column(s) "
            f"{', '.join(missing)} (added to {model.__name__} since): write them in the generator",
            2,
        )
