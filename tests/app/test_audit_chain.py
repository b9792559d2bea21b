"""The hash-chained audit log: `madoguchi audit verify` finds edited and deleted rows,
and appenders running at once never fork the chain."""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import create_postgres_database, drop_postgres_database
from filing_walker import Walk
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from madoguchi import db
from madoguchi.db import Database
from madoguchi.migrations import upgrade
from madoguchi.models import Application, AuditEvent
from madoguchi.services import audit, transitions


def file_and_act(app: Flask, client: FlaskClient) -> list[AuditEvent]:
    """Audit rows made the real way: a login, a filing and a clerk's action; oldest first."""
    log_in_resident(client, "taro@example.jp")
    filed = Walk(client, app, "moving-out").file()
    assert filed.status_code == 302
    public_id = filed.headers["Location"].rstrip("/").split("/")[-2]
    with app.test_request_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(
            session,
            application,
            "request_correction",
            roles={"clerk"},
            actor="staff:1",
            comment="転出先の部屋番号を記入してください。",
        )
        db.commit()
    with app.app_context():
        rows = list(db.session().scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session().expunge_all()
    actions = [row.action for row in rows]
    assert "application.filed" in actions
    assert actions[-1] == "application.transition"
    assert len(rows) >= 3
    return rows


def problems(app: Flask) -> list[audit.ChainProblem]:
    with app.app_context():
        return audit.verify(db.session())


def raw_sql(app: Flask, sql: str, **params: object) -> None:
    """Tampering behind the application's back, as someone with database access could."""
    with app.app_context():
        db.session().execute(text(sql), params)
        db.commit()


def forge_data(app: Flask, event_id: int, data: dict[str, object]) -> None:
    with app.app_context():
        postgres = db.database().dialect == "postgresql"
    raw_sql(
        app,
        "UPDATE audit_events SET data = CAST(:data AS JSON) WHERE id = :id"
        if postgres
        else "UPDATE audit_events SET data = :data WHERE id = :id",
        data=json.dumps(data),
        id=event_id,
    )


def test_a_chain_made_by_real_actions_verifies(
    app: Flask, client: FlaskClient, published: None
) -> None:
    rows = file_and_act(app, client)
    assert problems(app) == []
    assert rows[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))


def test_an_edited_row_is_named(app: Flask, client: FlaskClient, published: None) -> None:
    rows = file_and_act(app, client)
    filed = next(row for row in rows if row.action == "application.filed")
    forged = {**filed.data, "office": "naniwa"}
    forge_data(app, filed.id, forged)
    found = problems(app)
    assert [p.event_id for p in found] == [filed.id]
    assert "changed after it was written" in found[0].message


def test_a_deleted_row_is_named_by_the_row_after_the_gap(
    app: Flask, client: FlaskClient, published: None
) -> None:
    rows = file_and_act(app, client)
    middle, after = rows[1], rows[2]
    raw_sql(app, "DELETE FROM audit_events WHERE id = :id", id=middle.id)
    found = problems(app)
    assert [p.event_id for p in found] == [after.id]
    assert "a row before it was deleted or changed" in found[0].message


def test_verify_command_says_intact_and_exits_0(
    app: Flask, client: FlaskClient, published: None
) -> None:
    rows = file_and_act(app, client)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"audit log: {len(rows)} rows, chain intact"


def test_verify_command_names_each_broken_row_and_exits_1(
    app: Flask, client: FlaskClient, published: None
) -> None:
    rows = file_and_act(app, client)
    transition = rows[-1]
    deleted, after_gap = rows[0], rows[1]
    raw_sql(app, "UPDATE audit_events SET actor = 'staff:99' WHERE id = :id", id=transition.id)
    raw_sql(app, "DELETE FROM audit_events WHERE id = :id", id=deleted.id)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    gap, edited = lines
    assert gap.startswith(f"audit row {after_gap.id} (")
    assert after_gap.action in gap
    assert "a row before it was deleted or changed" in gap
    assert edited.startswith(f"audit row {transition.id} (")
    assert "application.transition" in edited
    assert transition.subject is not None
    assert transition.subject in edited, "the subject names the application"
    assert "+09:00" in edited, "the time, in Japan time"
    assert "changed after it was written" in edited
    assert f"{len(rows) - 1} rows, 2 broken" in result.stderr


# --- appending at once -------------------------------------------------------------------


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated, whose commits are real (not rolled back)."""
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgresql"):
        url, name = create_postgres_database(configured, prefix="madoguchi_chain")
        engine = Database(url).engine
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            drop_postgres_database(configured, name)
    else:
        engine = Database("sqlite:///" + str(tmp_path / "chain.sqlite")).engine
        upgrade(engine)
        yield engine
        engine.dispose()


def test_appenders_running_at_once_keep_one_chain(fresh_engine: Engine) -> None:
    postgres = fresh_engine.dialect.name == "postgresql"
    workers, each = (8, 15) if postgres else (3, 10)
    make_session = sessionmaker(fresh_engine, expire_on_commit=False)
    start = threading.Barrier(workers)
    failures: list[BaseException] = []

    collisions: list[OperationalError] = []

    def append_one(worker: int, index: int) -> None:
        with make_session() as session:
            audit.record(
                session,
                actor=f"worker:{worker}",
                action="test.append",
                subject=f"row:{worker}:{index}",
                data={"worker": worker, "index": index},
            )
            session.commit()

    def append(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for index in range(each):
                for _attempt in range(500):
                    try:
                        append_one(worker, index)
                        break
                    except OperationalError as error:
                        # SQLite: a transaction that read the chain's end before another
                        # writer committed cannot write (SQLITE_BUSY_SNAPSHOT): it fails
                        # rather than fork the chain, and the request would be retried.
                        if postgres or "locked" not in str(error.orig):
                            raise
                        collisions.append(error)
                        time.sleep(random.uniform(0.001, 0.02))
                else:
                    raise AssertionError(f"worker {worker} could not append row {index}")
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert not (postgres and collisions), "PostgreSQL appenders wait on the lock, never fail"

    with make_session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == workers * each
        assert audit.verify(session) == []
        prev_hashes = session.scalars(select(AuditEvent.prev_hash)).all()
        assert len(set(prev_hashes)) == len(prev_hashes), "no two rows chain to one predecessor"
