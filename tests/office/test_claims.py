"""Claiming work: claim, 409 "already taken", release, reassign, next application, concurrency.

The concurrency tests commit real rows in a database of their own (SQLite
file, or a fresh PostgreSQL database), outside the per-test transaction
that every other test runs in, because threads need connections of their
own that see each other's commits.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import fresh_database
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from staff_helpers import audit_rows
from work_helpers import (
    application_row,
    clone_application,
    file_as_resident,
    post_with_csrf,
    set_columns,
    staff_client,
    today_jst,
)

from madoguchi.catalogue import catalogue
from madoguchi.db import Database
from madoguchi.migrations import upgrade
from madoguchi.models import Application, ProcedureVersion, Staff, StaffRole
from madoguchi.services import queues


def claim_url(public_id: str) -> str:
    return f"/office/applications/{public_id}/claim"


def page_url(public_id: str) -> str:
    return f"/office/applications/{public_id}"


def test_claim_assigns_and_audits(app: Flask, published: None) -> None:
    public_id = file_as_resident(app)
    clerk, clerk_id = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    response = post_with_csrf(clerk, claim_url(public_id), {}, form_url=page_url(public_id))
    assert response.status_code == 302
    row = application_row(app, public_id)
    assert row.assigned_to_id == clerk_id
    assert row.assigned_at is not None
    assert "Aoki" in clerk.get(page_url(public_id)).text
    claims = audit_rows(app, "application.claim")
    assert [(a.actor, a.subject) for a in claims] == [
        (f"staff:{clerk_id}", f"application:{row.receipt_number}")
    ]


def test_second_claim_gets_409_already_taken_by_name(app: Flask, published: None) -> None:
    public_id = file_as_resident(app)
    first, first_id = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    second, _ = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    # Both have the page open; the first claims.
    page = second.get(page_url(public_id))
    post_with_csrf(first, claim_url(public_id), {}, form_url=page_url(public_id))
    from staff_helpers import csrf_from

    late = second.post(claim_url(public_id), data={"csrf_token": csrf_from(page.text)})
    assert late.status_code == 409
    assert "already taken by Aoki" in late.text
    assert application_row(app, public_id).assigned_to_id == first_id


def test_release_by_assignee_or_supervisor_only(app: Flask, published: None) -> None:
    public_id = file_as_resident(app)
    owner, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    other, _ = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    chief, _ = staff_client(app, "s@kita.example.jp", [("kita", "supervisor")], name="Chief")
    release = f"/office/applications/{public_id}/release"

    post_with_csrf(owner, claim_url(public_id), {}, form_url=page_url(public_id))
    refused = post_with_csrf(other, release, {}, form_url=page_url(public_id))
    assert refused.status_code == 403
    assert application_row(app, public_id).assigned_to_id is not None

    assert post_with_csrf(owner, release, {}, form_url=page_url(public_id)).status_code == 302
    assert application_row(app, public_id).assigned_to_id is None

    post_with_csrf(owner, claim_url(public_id), {}, form_url=page_url(public_id))
    assert post_with_csrf(chief, release, {}, form_url=page_url(public_id)).status_code == 302
    assert application_row(app, public_id).assigned_to_id is None
    assert len(audit_rows(app, "application.release")) == 2


def test_reassign_by_supervisor_only_to_staff_of_that_office(app: Flask, published: None) -> None:
    public_id = file_as_resident(app)
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    _other, other_id = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    _naniwa, naniwa_id = staff_client(app, "n@naniwa.example.jp", [("naniwa", "clerk")])
    chief, _ = staff_client(app, "s@kita.example.jp", [("kita", "supervisor")], name="Chief")
    reassign = f"/office/applications/{public_id}/reassign"

    refused = post_with_csrf(clerk, reassign, {"to": str(other_id)}, form_url=page_url(public_id))
    assert refused.status_code == 403
    assert application_row(app, public_id).assigned_to_id is None

    elsewhere = post_with_csrf(
        chief, reassign, {"to": str(naniwa_id)}, form_url=page_url(public_id)
    )
    assert elsewhere.status_code == 422
    assert application_row(app, public_id).assigned_to_id is None

    done = post_with_csrf(chief, reassign, {"to": str(other_id)}, form_url=page_url(public_id))
    assert done.status_code == 302
    assert application_row(app, public_id).assigned_to_id == other_id
    [row] = audit_rows(app, "application.reassign")
    assert row.data == {"from": None, "to": other_id}


def test_next_application_takes_the_most_urgent_unclaimed(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    urgent, taken = clone_application(app, base, 2)
    today = today_jst()
    set_columns(app, base, due_date=today + datetime.timedelta(days=9))
    set_columns(app, urgent, due_date=today + datetime.timedelta(days=1))
    clerk, clerk_id = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    _other, other_id = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")])
    set_columns(app, taken, due_date=today, assigned_to_id=other_id)

    response = post_with_csrf(clerk, "/office/next", {}, form_url="/office/queue")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_url(urgent))
    assert application_row(app, urgent).assigned_to_id == clerk_id

    post_with_csrf(clerk, "/office/next", {}, form_url="/office/queue")
    assert application_row(app, base).assigned_to_id == clerk_id
    empty = post_with_csrf(clerk, "/office/next", {}, form_url="/office/queue")
    assert empty.headers["Location"].endswith("/office/queue")
    assert "No unclaimed application" in clerk.get("/office/queue").text


# --- concurrency, on real commits ---------------------------------------------------------


@pytest.fixture
def own_database(migrated_app: Flask, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of this test's own (dropped afterwards)."""
    with fresh_database(tmp_path, prefix="madoguchi_claims") as url:
        database = Database(url)
        try:
            upgrade(database.engine)
            yield database
        finally:
            database.engine.dispose()


def seed(
    app: Flask, database: Database, *, applications: int, staff: int
) -> tuple[list[int], list[int]]:
    """Published procedures, `applications` unclaimed child-allowance rows at kita, and
    `staff` kita clerks: returns (application ids, staff ids)."""
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context(), Session(database.engine) as session:
        catalogue().publish(session, by="test")
        session.flush()
        version = session.scalars(
            select(ProcedureVersion).where(ProcedureVersion.procedure_id == "child-allowance")
        ).one()
        rows = [
            Application(
                public_id=uuid.uuid4().hex,
                receipt_number=f"27127-2026-{index + 1:06d}",
                procedure_version_id=version.id,
                procedure_id="child-allowance",
                procedure_fingerprint=version.fingerprint,
                office_id="kita",
                state="received",
                state_entered_at=now,
                answers={},
                applicant_email="a@example.jp",
                filed_at=now + datetime.timedelta(seconds=index),
                due_date=today_jst() + datetime.timedelta(days=index),
            )
            for index in range(applications)
        ]
        people = [
            Staff(
                email=f"clerk{index}@kita.example.jp",
                name=f"Clerk {index}",
                password_hash="x",
                roles=[StaffRole(office_id="kita", role="clerk")],
            )
            for index in range(staff)
        ]
        session.add_all(rows + people)
        session.commit()
        return [r.id for r in rows], [p.id for p in people]


def run_threads(count: int, work: object) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)  # type: ignore[operator]
        except BaseException as error:  # a failure in a thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_ten_concurrent_claims_have_exactly_one_winner(
    migrated_app: Flask, own_database: Database
) -> None:
    [application_id], staff_ids = seed(migrated_app, own_database, applications=1, staff=10)

    def claim(index: int) -> str:
        with Session(own_database.engine) as session:
            result = queues.claim(
                session, application_id, staff_id=staff_ids[index], office_ids=["kita"]
            )
            session.commit()
            return result.status

    statuses = run_threads(10, claim)
    assert statuses.count("claimed") == 1
    assert statuses.count("taken") == 9
    with Session(own_database.engine) as session:
        row = session.get(Application, application_id)
        assert row is not None
        winner = staff_ids[statuses.index("claimed")]
        assert row.assigned_to_id == winner
        assert row.row_version == 2


@pytest.mark.postgres  # SKIP LOCKED is PostgreSQL's; SQLite serializes writers
def test_twenty_clerks_pressing_next_claim_ten_applications_once_each(
    migrated_app: Flask, own_database: Database
) -> None:
    application_ids, staff_ids = seed(migrated_app, own_database, applications=10, staff=20)

    def next_one(index: int) -> int | None:
        with migrated_app.app_context(), Session(own_database.engine) as session:
            staff = session.scalars(
                select(Staff).options(selectinload(Staff.roles)).where(Staff.id == staff_ids[index])
            ).one()
            taken = queues.next_application(session, staff)
            session.commit()
            return taken.id if taken is not None else None

    results = [r for r in run_threads(20, next_one) if r is not None]
    assert sorted(results) == sorted(application_ids)  # all claimed, none twice
    with Session(own_database.engine) as session:
        assigned = session.scalars(select(Application.assigned_to_id)).all()
        assert None not in assigned
        assert len(set(assigned)) == 10
