"""`madoguchi tick`: workflow timers fire once as system transitions, and the applicant
is reminded once before a timer ends their turn.

Applications are filed through real HTTP with the walker, sent to correction by a
clerk's action, and their `state_entered_at` moved back in time; `--now` replays
the ticks of chosen days (holidays and the year-end closure included).
"""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbutil import create_postgres_database, drop_postgres_database
from filing_walker import Walk
from flask import Flask
from flask.testing import FlaskClient
from helpers import audit_rows, log_in_resident, outbox
from sqlalchemy import select

from madoguchi import create_app, db
from madoguchi.catalogue import catalogue
from madoguchi.migrations import upgrade
from madoguchi.models import Application, ApplicationEvent
from madoguchi.services import audit, timers, transitions
from workflow.machine import StateMachine
from workflow.model import JAPAN

EMAIL = "taro@example.jp"
CORRECTION = "添付の戸籍謄本が古いため、3か月以内のものを添付してください。"


def file_application(app: Flask, client: FlaskClient, procedure_id: str) -> str:
    """A resident files `procedure_id` through the forms; returns the application's public id."""
    if client.get("/applications").status_code != 200:  # not logged in yet
        log_in_resident(client, EMAIL)
    filed = Walk(client, app, procedure_id).file()
    assert filed.status_code == 302, filed.text
    return filed.headers["Location"].rstrip("/").split("/")[-2]


def act(app: Flask, public_id: str, action: str, role: str, comment: str | None = None) -> None:
    with app.test_request_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(
            session, application, action, roles={role}, actor=f"{role}:1", comment=comment
        )
        db.commit()


def in_correction_since(
    app: Flask, client: FlaskClient, procedure_id: str, entered: datetime.datetime
) -> str:
    """Filed, sent to correction by a clerk, and in correction since `entered`; mail cleared."""
    public_id = file_application(app, client, procedure_id)
    act(app, public_id, "request_correction", "clerk", CORRECTION)
    move_state_entry(app, public_id, entered)
    outbox(app).clear()
    return public_id


def move_state_entry(app: Flask, public_id: str, entered: datetime.datetime) -> None:
    with app.app_context():
        application = application_row(public_id)
        application.state_entered_at = entered
        db.commit()


def application_row(public_id: str) -> Application:
    return db.session().scalars(select(Application).where(Application.public_id == public_id)).one()


def state_and_events(app: Flask, public_id: str) -> tuple[str, list[ApplicationEvent]]:
    with app.app_context():
        application = application_row(public_id)
        events = list(application.events)
        db.session().expunge_all()
        return application.state, events


def tick(app: Flask, now: str | None = None) -> str:
    args = ["tick"] if now is None else ["tick", "--now", now]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def japan(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=JAPAN)


def receipt_of(app: Flask, public_id: str) -> str:
    with app.app_context():
        return application_row(public_id).receipt_number


# --- firing --------------------------------------------------------------------------------


def test_an_expired_correction_is_withdrawn_by_the_system_once(
    app: Flask, client: FlaskClient, published: None
) -> None:
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=60)
    public_id = in_correction_since(app, client, "child-allowance", long_ago)
    receipt = receipt_of(app, public_id)

    assert tick(app) == "tick: 1 timers fired, 0 reminders sent"

    state, events = state_and_events(app, public_id)
    assert state == "withdrawn"
    last = events[-1]
    assert (last.action, last.from_state, last.to_state) == ("expire", "correction", "withdrawn")
    assert (last.by_role, last.actor) == ("system", "system")
    transition_rows = audit_rows(app, "application.transition")
    assert transition_rows[-1].actor == "system"
    assert transition_rows[-1].subject == f"application:{receipt}"
    assert transition_rows[-1].data == {"action": "expire", "from": "correction", "to": "withdrawn"}
    # `notify: applicant`: the applicant learns the claim was withdrawn.
    sent = outbox(app)
    assert len(sent) == 1
    assert sent[0].to == EMAIL
    assert receipt in sent[0].subject
    assert "取下げ" in sent[0].body or "Withdrawn" in sent[0].body

    assert tick(app) == "tick: 0 timers fired, 0 reminders sent", "a timer fires once"
    assert len(state_and_events(app, public_id)[1]) == len(events)
    assert len(outbox(app)) == 1
    with app.app_context():
        assert audit.verify(db.session()) == []


def test_a_timer_not_yet_due_does_nothing(app: Flask, client: FlaskClient, published: None) -> None:
    public_id = in_correction_since(
        app, client, "child-allowance", datetime.datetime.now(datetime.UTC)
    )
    assert tick(app) == "tick: 0 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "correction"
    assert outbox(app) == []


def test_applications_waiting_on_the_office_have_no_timers(
    app: Flask, client: FlaskClient, published: None
) -> None:
    public_id = file_application(app, client, "moving-out")
    move_state_entry(app, public_id, japan(2026, 1, 5, 9, 0))
    outbox(app).clear()
    assert tick(app, "2026-12-01T09:00") == "tick: 0 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "received"
    assert outbox(app) == []


def test_an_application_that_fails_is_left_as_it_was_and_the_others_go_on(
    app: Flask, client: FlaskClient, published: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=60)
    broken = in_correction_since(app, client, "moving-out", long_ago)
    fine = in_correction_since(app, client, "moving-out", long_ago)
    take_action = transitions.take_action

    def failing(session: Any, application: Application, *args: Any, **kwargs: Any) -> Any:
        if application.public_id == broken:
            raise RuntimeError("the mail server is on fire")
        return take_action(session, application, *args, **kwargs)

    monkeypatch.setattr(transitions, "take_action", failing)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 1
    assert "the mail server is on fire" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "tick: 1 timers fired, 0 reminders sent"
    assert state_and_events(app, broken)[0] == "correction"
    assert state_and_events(app, fine)[0] == "withdrawn"


# --- reminders ------------------------------------------------------------------------------


def test_the_applicant_is_reminded_once_before_the_correction_expires(
    app: Flask, client: FlaskClient, published: None
) -> None:
    # moving-out: `expire` after 14 days; in correction from Monday 16 November,
    # so it fires on Monday 30 November, and three business days before is the 25th.
    public_id = in_correction_since(app, client, "moving-out", japan(2026, 11, 16, 10, 0))
    receipt = receipt_of(app, public_id)

    assert tick(app, "2026-11-24T09:00") == "tick: 0 timers fired, 0 reminders sent"
    assert tick(app, "2026-11-25T09:00") == "tick: 0 timers fired, 1 reminders sent"
    sent = outbox(app)
    assert len(sent) == 1
    assert sent[0].to == EMAIL
    assert receipt in sent[0].subject
    assert "令和8年11月30日" in sent[0].body or "2026-11-30" in sent[0].body
    assert CORRECTION in sent[0].body, "the reminder repeats what the office asked for"
    reminders = audit_rows(app, timers.REMINDER_ACTION)
    assert len(reminders) == 1
    assert reminders[0].actor == "system"
    assert reminders[0].subject == f"application:{receipt}"
    assert reminders[0].data["action"] == "expire"
    assert reminders[0].data["state"] == "correction"
    assert reminders[0].data["due"] == "2026-11-30"

    assert tick(app, "2026-11-25T15:00") == "tick: 0 timers fired, 0 reminders sent"
    assert tick(app, "2026-11-27T09:00") == "tick: 0 timers fired, 0 reminders sent"
    assert len(outbox(app)) == 1, "never twice for one stay in correction"
    assert state_and_events(app, public_id)[0] == "correction"

    assert tick(app, "2026-11-30T09:00") == "tick: 1 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "withdrawn"
    assert len(outbox(app)) == 2, "and then the notice of the withdrawal"


def test_a_new_correction_request_gets_its_own_reminder(
    app: Flask, client: FlaskClient, published: None
) -> None:
    public_id = in_correction_since(app, client, "moving-out", japan(2026, 11, 16, 10, 0))
    assert tick(app, "2026-11-25T09:00") == "tick: 0 timers fired, 1 reminders sent"
    act(app, public_id, "resubmit", "applicant")
    act(app, public_id, "request_correction", "clerk", "もう一度ご確認ください。")
    move_state_entry(app, public_id, japan(2026, 11, 17, 10, 0))  # due 1 December
    assert tick(app, "2026-11-25T10:00") == "tick: 0 timers fired, 0 reminders sent"
    assert tick(app, "2026-11-26T09:00") == "tick: 0 timers fired, 1 reminders sent"
    assert len(audit_rows(app, timers.REMINDER_ACTION)) == 2


# --- the office calendar ----------------------------------------------------------------------


def test_business_day_timer_runs_past_the_year_end_closure_and_holidays(
    app: Flask, client: FlaskClient, published: None
) -> None:
    # child-allowance: `expire` after 20 business days.  From Friday 25 December
    # 2026 the office is closed 29 December to 3 January and on Coming of Age Day
    # (11 January 2027): the 20th business day is 29 January, not the 22nd that
    # counting weekdays alone would give.
    entered = japan(2026, 12, 25, 10, 0)
    public_id = in_correction_since(app, client, "child-allowance", entered)
    with app.app_context():
        procedure = transitions.procedure_of(db.session(), application_row(public_id))
    machine = StateMachine(procedure)
    (expire,) = machine.timers("correction")
    assert machine.timer_due(expire, entered) == datetime.date(2027, 1, 29)

    assert tick(app, "2027-01-22T09:00") == "tick: 0 timers fired, 0 reminders sent"
    assert tick(app, "2027-01-28T09:00") == "tick: 0 timers fired, 1 reminders sent"
    assert tick(app, "2027-01-28T23:59") == "tick: 0 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "correction"
    assert tick(app, "2027-01-29T00:01") == "tick: 1 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "withdrawn"


def test_calendar_day_timer_ending_on_a_closed_day_runs_on_to_the_next_open_day(
    app: Flask, client: FlaskClient, published: None
) -> None:
    # moving-out: 14 days from Sunday 20 December ends on 3 January, in the
    # year-end closure; the period runs on to Monday 4 January.
    # Three business days before it are 24, 25 and 28 December: the reminder
    # goes out on the 24th, a closure's length ahead of the date.
    public_id = in_correction_since(app, client, "moving-out", japan(2026, 12, 20, 10, 0))
    assert tick(app, "2026-12-23T09:00") == "tick: 0 timers fired, 0 reminders sent"
    assert tick(app, "2026-12-24T09:00") == "tick: 0 timers fired, 1 reminders sent"
    assert tick(app, "2027-01-03T23:00") == "tick: 0 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "correction"
    assert tick(app, "2027-01-04T08:00") == "tick: 1 timers fired, 0 reminders sent"
    assert state_and_events(app, public_id)[0] == "withdrawn"


def test_now_must_be_a_date_and_time(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["tick", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "--now" in result.output


def test_now_without_an_offset_is_japan_time() -> None:
    assert timers.parse_now("2026-12-01T09:00") == datetime.datetime(
        2026, 12, 1, 0, 0, tzinfo=datetime.UTC
    )
    assert timers.parse_now("2026-12-01T09:00+00:00") == datetime.datetime(
        2026, 12, 1, 9, 0, tzinfo=datetime.UTC
    )


# --- two ticks at once ---------------------------------------------------------------------------


@pytest.fixture
def committed_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own whose commits are real, so that ticks in other
    threads and connections see them (the `app` fixture's data lives in one rolled-back
    connection)."""
    configured = os.environ.get("DATABASE_URL")
    name = None
    if configured and configured.startswith("postgresql"):
        url, name = create_postgres_database(configured, prefix="madoguchi_tick")
    else:
        url = "sqlite:///" + str(tmp_path / "tick.sqlite")
    instance = tmp_path / "instance"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": url,
            "UPLOAD_DIR": str(instance / "files"),
            "MAIL_BACKEND": "memory",
        }
    )
    app.instance_path = str(instance)
    engine = app.extensions["madoguchi.db"].engine
    try:
        upgrade(engine)
        with app.app_context():
            report, _ = catalogue().publish(db.session(), by="test")
            assert report.error_count == 0
            db.session().commit()
        yield app
    finally:
        engine.dispose()
        if configured and name:
            drop_postgres_database(configured, name)


def expired_applications(app: Flask, count: int) -> list[str]:
    client = app.test_client()
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=60)
    found = [in_correction_since(app, client, "moving-out", long_ago) for _ in range(count)]
    outbox(app).clear()
    return found


def expire_events(app: Flask) -> list[ApplicationEvent]:
    with app.app_context():
        rows = list(
            db.session().scalars(
                select(ApplicationEvent).where(ApplicationEvent.action == "expire")
            )
        )
        db.session().expunge_all()
        return rows


def test_two_ticks_at_once_fire_each_timer_once(committed_app: Flask) -> None:
    app = committed_app
    public_ids = expired_applications(app, 3)
    start = threading.Barrier(2)
    reports: list[timers.TickReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            with app.app_context():
                reports.append(timers.tick())
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert [r.errors for r in reports] == [[], []]
    assert sum(len(r.fired) for r in reports) == 3
    assert len(expire_events(app)) == 3, "each timer fired by one tick only"
    assert len(outbox(app)) == 3, "one notice per application"
    with app.app_context():
        receipts = {application_row(p).receipt_number for p in public_ids}
    for receipt in receipts:
        assert sum(receipt in m.subject for m in outbox(app)) == 1
    for public_id in public_ids:
        assert state_and_events(app, public_id)[0] == "withdrawn"
    with app.app_context():
        assert audit.verify(db.session()) == []


@pytest.mark.postgres  # row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite has none
def test_a_tick_passes_over_an_application_another_tick_holds(committed_app: Flask) -> None:
    app = committed_app
    (public_id,) = expired_applications(app, 1)
    engine = app.extensions["madoguchi.db"].engine
    with engine.connect() as other:
        held = other.begin()
        other.execute(
            select(Application.id).where(Application.public_id == public_id).with_for_update()
        )
        with app.app_context():
            busy = timers.tick()
        assert (len(busy.fired), len(busy.skipped)) == (0, 1), "skipped, without waiting"
        held.rollback()
    with app.app_context():
        free = timers.tick()
    assert len(free.fired) == 1
    assert state_and_events(app, public_id)[0] == "withdrawn"
