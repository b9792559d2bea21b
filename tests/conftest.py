"""Shared fixtures: the app on a real database, each test in a rolled-back transaction.

The database is SQLite in a temporary folder, or the PostgreSQL named by
DATABASE_URL (CI runs both).  A fresh database is created for the session
and migrated with Alembic; every test then runs inside an outer transaction
that is rolled back, with the app's commits turned into SAVEPOINTs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import create_postgres_database, drop_postgres_database
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from madoguchi import create_app
from madoguchi.migrations import upgrade
from madoguchi.security import limiter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` need PostgreSQL's own features (SKIP LOCKED...).

    On SQLite they are deselected, not skipped: CI runs the suite on
    PostgreSQL as well, where they run and must pass.
    """
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        return
    selected = [item for item in items if item.get_closest_marker("postgres") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgresql"):
        url, name = create_postgres_database(configured)
        yield url
        drop_postgres_database(configured, name)
    elif configured:
        pytest.exit(f"unsupported DATABASE_URL for tests: {configured}", returncode=3)
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "madoguchi.sqlite")


@pytest.fixture(scope="session")
def migrated_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the session, its database migrated to head."""
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(instance / "files"),
            "MAIL_BACKEND": "memory",
        }
    )
    app.instance_path = str(instance)
    upgrade(app.extensions["madoguchi.db"].engine)
    yield app
    app.extensions["madoguchi.db"].engine.dispose()


@pytest.fixture(scope="session")
def engine(migrated_app: Flask) -> Engine:
    db_engine: Engine = migrated_app.extensions["madoguchi.db"].engine
    return db_engine


@pytest.fixture
def app(migrated_app: Flask, engine: Engine) -> Iterator[Flask]:
    """The app with every commit of the test rolled back at the end."""
    database = migrated_app.extensions["madoguchi.db"]
    connection = engine.connect()
    outer = connection.begin()
    original = database.sessionmaker
    database.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    migrated_app.extensions["madoguchi.outbox"].clear()
    limiter.reset()  # rate-limit counters are per test, like the data
    try:
        yield migrated_app
    finally:
        database.sessionmaker = original
        outer.rollback()
        connection.close()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        from madoguchi import db

        yield db.session()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def published(app: Flask) -> None:
    """The shipped procedures, published as they would be by `madoguchi publish`."""
    with app.app_context():
        from madoguchi import db
        from madoguchi.catalogue import catalogue

        report, _ = catalogue().publish(db.session(), by="test")
        assert report.error_count == 0, "\n".join(map(str, report.diagnostics))
        db.session().commit()
