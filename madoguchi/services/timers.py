"""Workflow timers (`after:`) and the reminders before them: what `madoguchi tick` does.

A scheduler (cron, Celery beat) runs `madoguchi tick` every few minutes.  Each
run looks at every application waiting in a state that has timers and, in one
transaction per application:

* fires the timer that has come due as a system transition
  (`transitions.take_action` with the role `system`), which stores the history
  event, the audit row and the due date and mails the applicant (`notify:`)
  like any other action;
* otherwise, when the applicant holds the case (`with: applicant`) and a timer
  will end their turn (a correction that expires) within
  `REMINDER_BUSINESS_DAYS` business days, mails them a reminder once per stay
  in that state, recorded as an `application.reminder` audit row.

Running it twice, even at the same moment, changes nothing more than running
it once: on PostgreSQL each application is taken with
``SELECT ... FOR UPDATE SKIP LOCKED`` (a second tick passes over what the first
holds) and its state and timers are read again inside the lock; on SQLite
writers are serialized, and a tick that read a state another one has since
changed fails on the write (the application's `row_version`, or SQLite's
stale-snapshot check) and is rolled back.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from madoguchi import db, mail
from madoguchi.catalogue import catalogue
from madoguchi.documents.context import format_date
from madoguchi.models import Application, AuditEvent, ProcedureVersion
from madoguchi.services import audit, transitions
from workflow.machine import DueTimer, StateMachine
from workflow.model import JAPAN, Procedure, Transition, japan_date

__all__ = [
    "REMINDER_ACTION",
    "REMINDER_BUSINESS_DAYS",
    "Fired",
    "Reminded",
    "TickReport",
    "due_reminder",
    "parse_now",
    "reminder_mail",
    "tick",
    "waiting_applications",
]

log = logging.getLogger(__name__)

#: a reminder goes out when a timer will end the applicant's turn within this many business days
REMINDER_BUSINESS_DAYS = 3
#: the audit action of a reminder; its rows are also what keeps it from being sent twice
REMINDER_ACTION = "application.reminder"
SYSTEM = "system"


@dataclass(frozen=True)
class Fired:
    receipt_number: str
    action: str
    from_state: str
    to_state: str
    due: datetime.date


@dataclass(frozen=True)
class Reminded:
    receipt_number: str
    action: str
    state: str
    due: datetime.date


@dataclass
class TickReport:
    fired: list[Fired] = field(default_factory=list)
    reminders: list[Reminded] = field(default_factory=list)
    #: applications another tick (or a person) held or changed meanwhile: done by them
    skipped: list[int] = field(default_factory=list)
    #: (application id, what went wrong): left as they were, tried again next tick
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"tick: {len(self.fired)} timers fired, {len(self.reminders)} reminders sent"


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def parse_now(value: str | None) -> datetime.datetime:
    """`--now`: an ISO date-time, taken as Japan time unless it carries an offset."""
    if not value:
        return datetime.datetime.now(datetime.UTC)
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JAPAN)
    return moment.astimezone(datetime.UTC)


def _timer_states(procedure: Procedure) -> list[str]:
    machine = StateMachine(procedure)
    return [
        state_id
        for state_id, state in procedure.workflow.states.items()
        if not state.final and machine.timers(state_id)
    ]


def waiting_applications(session: Session) -> list[int]:
    """Ids of the applications in a non-final state that has `after:` timers."""
    found: set[int] = set()
    # Every version, retired ones included: cases in flight finish on their own version.
    for version in session.scalars(select(ProcedureVersion).order_by(ProcedureVersion.id)):
        try:
            procedure = catalogue().procedure_of(version)
        except Exception:  # one unreadable old version must not stop every other timer
            log.exception(
                "tick: procedure %s version %s cannot be loaded",
                version.procedure_id,
                version.version,
            )
            continue
        states = _timer_states(procedure)
        if states:
            found.update(
                session.scalars(
                    select(Application.id).where(
                        Application.procedure_version_id == version.id,
                        Application.state.in_(states),
                    )
                )
            )
    return sorted(found)


def _lock(session: Session, application_id: int) -> Application | None:
    """The application, locked for this transaction; None when another tick holds it."""
    query = select(Application).where(Application.id == application_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def _entry_key(application: Application) -> str:
    """Which stay in the current state a reminder belongs to."""
    return _utc(application.state_entered_at).isoformat(timespec="microseconds")


def due_reminder(
    machine: StateMachine,
    application: Application,
    *,
    now: datetime.datetime,
    values: dict[str, Any],
    within: int = REMINDER_BUSINESS_DAYS,
) -> DueTimer | None:
    """The timer that will end the applicant's turn within `within` business days, if any.

    Only while the case waits on the applicant (`with: applicant`): any timer
    out of such a state takes the case away from them.  A timer already due is
    not a reminder's business; it fires.
    """
    state = machine.state(application.state)
    if state.final or state.with_ != "applicant":
        return None
    today = japan_date(now)
    horizon_day = machine.calendar.add_business_days(today, within)
    horizon = datetime.datetime.combine(horizon_day, datetime.time(12), tzinfo=JAPAN)
    entered = _utc(application.state_entered_at)
    upcoming = machine.timers_due(application.state, entered, now=horizon, values=values)
    return next((timer for timer in upcoming if timer.due > today), None)


def _already_reminded(session: Session, application: Application, transition: Transition) -> bool:
    rows = session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject == f"application:{application.receipt_number}",
            AuditEvent.action == REMINDER_ACTION,
        )
    )
    key = _entry_key(application)
    return any(
        (row.data or {}).get("state") == application.state
        and (row.data or {}).get("entered_at") == key
        and (row.data or {}).get("action") == transition.action
        for row in rows
    )


def reminder_mail(
    procedure: Procedure, application: Application, timer: DueTimer
) -> tuple[str, str]:
    """Subject and body of the reminder, in the application's language."""
    lang = "en" if application.language == "en" else "ja"
    title = procedure.title.get(lang)
    states = procedure.workflow.states
    now_label = states[application.state].label.get(lang)
    then_label = states[timer.transition.to].label.get(lang)
    action_label = timer.transition.display_label(lang)
    day = format_date(timer.due, lang)
    message = next(
        (
            e.comment
            for e in reversed(application.events)
            if e.to_state == application.state and e.comment
        ),
        None,
    )
    if lang == "en":
        body = (
            f"Your application {application.receipt_number} ({title}) is waiting for you:"
            f" {now_label}.\n\n"
            f"On {day} it will become {then_label} ({action_label})"
            " unless you act before then.\n"
        )
        if message:
            body += f"\nMessage from the office:\n{message}\n"
        return f"Reminder: {title} ({application.receipt_number})", body
    body = (
        f"申請 {application.receipt_number}({title})は「{now_label}」のままです。\n\n"
        f"{day}になると「{action_label}」により「{then_label}」となります。"
        "それまでにお手続きください。\n"
    )
    if message:
        body += f"\n窓口からのメッセージ:\n{message}\n"
    return f"【期限のお知らせ】{title}({application.receipt_number})", body


def _tick_one(
    session: Session, application_id: int, now: datetime.datetime, report: TickReport
) -> None:
    """Fire or remind for one application, in the current transaction (not committed here)."""
    application = _lock(session, application_id)
    if application is None:
        report.skipped.append(application_id)
        return
    procedure = transitions.procedure_of(session, application)
    machine = StateMachine(procedure)
    state = procedure.workflow.states.get(application.state)
    if state is None or state.final:
        return  # changed since the list was made
    values = transitions.values_of(procedure, application)
    entered = _utc(application.state_entered_at)
    due = machine.timers_due(application.state, entered, now=now, values=values)
    if due:
        timer = due[0]
        from_state = application.state
        event = transitions.take_action(
            session, application, timer.transition.action, roles={SYSTEM}, actor=SYSTEM, now=now
        )
        report.fired.append(
            Fired(application.receipt_number, event.action, from_state, event.to_state, timer.due)
        )
        return
    reminder = due_reminder(machine, application, now=now, values=values)
    if reminder is None or not application.applicant_email:
        return
    if _already_reminded(session, application, reminder.transition):
        return
    audit.record(
        session,
        actor=SYSTEM,
        action=REMINDER_ACTION,
        subject=f"application:{application.receipt_number}",
        data={
            "action": reminder.transition.action,
            "state": application.state,
            "entered_at": _entry_key(application),
            "due": reminder.due.isoformat(),
        },
    )
    subject, body = reminder_mail(procedure, application, reminder)
    mail.send_after_commit(application.applicant_email, subject, body)
    report.reminders.append(
        Reminded(
            application.receipt_number,
            reminder.transition.action,
            application.state,
            reminder.due,
        )
    )


def tick(*, now: datetime.datetime | None = None) -> TickReport:
    """Fire due timers and send due reminders, one application per transaction.

    Needs an app context: it works in `db.session()` and commits with
    `db.commit()`, so mail goes out only once each application's change is
    committed.  `now` (default: now) decides what is due; the events
    themselves are stamped with the real time by `take_action`.
    """
    now = _utc(now) if now else datetime.datetime.now(datetime.UTC)
    report = TickReport()
    session = db.session()
    try:
        candidates = waiting_applications(session)
    finally:
        db.rollback()  # end the read: every application gets a transaction of its own
    for application_id in candidates:
        session.expire_all()
        fired, reminded = len(report.fired), len(report.reminders)
        try:
            _tick_one(session, application_id, now, report)
            db.commit()
        except (StaleDataError, transitions.Conflict) as error:
            db.rollback()
            _undo(report, fired, reminded)
            report.skipped.append(application_id)
            log.info("tick: application %s changed meanwhile (%s)", application_id, error)
        except OperationalError as error:
            db.rollback()
            _undo(report, fired, reminded)
            if _is_sqlite_busy(session, error):
                # Another writer got there first; its work stands, ours is retried next tick.
                report.skipped.append(application_id)
                log.info("tick: application %s busy on SQLite (%s)", application_id, error)
            else:
                report.errors.append((application_id, str(error)))
                log.exception("tick: application %s failed", application_id)
        except Exception as error:  # one broken application must not stop the others
            db.rollback()
            _undo(report, fired, reminded)
            report.errors.append((application_id, str(error)))
            log.exception("tick: application %s failed", application_id)
    return report


def _undo(report: TickReport, fired: int, reminded: int) -> None:
    """Forget what a rolled-back transaction claimed to have done."""
    del report.fired[fired:]
    del report.reminders[reminded:]


def _is_sqlite_busy(session: Session, error: OperationalError) -> bool:
    return session.get_bind().dialect.name == "sqlite" and "locked" in str(error.orig).lower()
