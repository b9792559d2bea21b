"""Shared fixtures: the app on a real database, each test in a rolled-back transaction.

The database is SQLite in a temporary folder, or the PostgreSQL named by
DATABASE_URL (CI runs both).  A fresh database is created for the session
and migrated with Alembic; every test then runs inside an outer transaction
that is rolled back, with the app's commits turned into SAVEPOINTs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from madoguchi import create_app
from madoguchi.migrations import upgrade
from madoguchi.security import limiter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _create_postgres_database(url: str) -> tuple[str, str]:
    """A fresh database on the server of `url`; returns (url of it, its name)."""
    base = make_url(url)
    name = f"madoguchi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a missing database is a failure, never a skip
        pytest.exit(f"cannot reach PostgreSQL at {base.render_as_string()}: {exc}", returncode=3)
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(url: str, name: str) -> None:
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgresql"):
        url, name = _create_postgres_database(configured)
        yield url
        _drop_postgres_database(configured, name)
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
