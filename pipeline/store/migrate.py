"""Bring a database to the newest schema with the Alembic revisions in ``pipeline/migrations``.

Run by every ``Store`` on open, for SQLite and PostgreSQL alike. A workspace created before
migrations existed (tables made by ``create_all``, no ``alembic_version``) opens as well: the
first revision creates only the tables that are missing. Two processes opening a new database
at once take turns (a PostgreSQL advisory lock; a lock file beside a SQLite database).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK = 0x5348494B  # "SHIK": one advisory lock id for schema changes


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, f"no migrations found in {MIGRATIONS}"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Upgrade to the newest revision (nothing to do when already there)."""
    with engine.connect() as conn:
        if current_revision(conn) == head_revision():
            return
    with _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        if current_revision(conn) != head_revision():  # another process may have done it
            command.upgrade(_config(conn), "head")
