"""The database: one engine per app, one session per request.

Views never commit on their own: the request's session is committed once by
the service layer's `commit()` and rolled back at teardown if anything went
wrong, so a failed request leaves nothing behind.  Tests replace the session
factory with one bound to an outer transaction (see tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            options["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite opens transactions on its own schedule, which breaks
            # SAVEPOINTs; let SQLAlchemy emit BEGIN itself.
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessionmaker: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: two writers then queue on
    # busy_timeout instead of one failing with "database is locked" when it
    # upgrades a read lock.  SQLite is the one-machine default; PostgreSQL
    # is what production runs.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    app.extensions["madoguchi.db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def database() -> Database:
    db: Database = current_app.extensions["madoguchi.db"]
    return db


def session() -> Session:
    """The current request's (or CLI command's) session."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    s: Session = g.db_session
    return s


def _close_session(_exc: BaseException | None) -> None:
    s: Session | None = g.pop("db_session", None)
    if s is not None:
        s.rollback()
        s.close()


def after_commit(callback: Any) -> None:
    """Run `callback()` once the request's transaction has committed.

    Mail, PDFs and webhooks go through here, so that a request that fails
    and rolls back sends nothing.
    """
    g.setdefault("after_commit", []).append(callback)


def commit() -> None:
    """Commit the request's work once, then run what waited for the commit."""
    session().commit()
    callbacks = g.pop("after_commit", [])
    for callback in callbacks:
        callback()


def rollback() -> None:
    session().rollback()
    g.pop("after_commit", None)
