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
