"""Throw-away PostgreSQL databases for a test session.

Both `tests/conftest.py` (the rolled-back fixtures) and
`tests/browser/conftest.py` (the live server) create a fresh database on the
server named by DATABASE_URL and drop it at the end; this is that code,
once.  Import it as `dbutil` (pytest puts `tests/` on `sys.path`, the folder
of the top conftest, since the tests have no `__init__.py`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def create_postgres_database(url: str, *, prefix: str = "madoguchi_test") -> tuple[str, str]:
    """A fresh database on the server of `url`; returns (url of it, its name).

    A server that cannot be reached ends the session with an error: a
    missing database is a failure, never a skip.
    """
    base = make_url(url)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.exit(f"cannot reach PostgreSQL at {base.render_as_string()}: {exc}", returncode=3)
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(url: str, name: str) -> None:
    """Drop the database `name` made by `create_postgres_database(url)`, connections and all."""
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def fresh_database(folder: Path, *, prefix: str) -> Iterator[str]:
    """The URL of an empty database of the caller's own, gone afterwards.

    For tests that need real commits seen by several connections (threads
    racing for a row): PostgreSQL when DATABASE_URL names it, else a SQLite
    file in `folder`.
    """
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{folder}/{prefix}.sqlite"
        return
    url, name = create_postgres_database(configured, prefix=prefix)
    try:
        yield url
    finally:
        drop_postgres_database(configured, name)
