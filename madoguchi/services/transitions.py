"""Taking a workflow action on a filed application.

The `workflow/` state machine decides whether the action is allowed and
what it does; this module stores the result in the request's transaction:
the new state, a history event, the audit row and the due date, and queues
the applicant's email for after the commit.  The application's
`row_version` makes a concurrent second action fail instead of silently
overwriting the first.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.orm import Session

from forms.answers import choice_amounts, expression_values, from_json
from madoguchi import mail
from madoguchi.catalogue import catalogue
from madoguchi.models import Application, ApplicationEvent, ProcedureVersion
from madoguchi.services import audit
from workflow.calendar import ClockSpan, ProcessingClock, default_calendar, processing_clock
from workflow.machine import StateMachine, TransitionError
from workflow.model import JAPAN, Procedure, Transition

__all__ = [
    "Conflict",
    "TransitionError",
    "clock",
    "document_after_commit",
    "make_document",
    "pending_documents",
    "procedure_of",
    "take_action",
]


class Conflict(Exception):  # noqa: N818 - reads as `raise Conflict()`, like HTTP 409
    """Someone else changed the application since the actor loaded it."""


def procedure_of(session: Session, application: Application) -> Procedure:
    version = session.get(ProcedureVersion, application.procedure_version_id)
    assert version is not None
    return catalogue().procedure_of(version)


def values_of(procedure: Procedure, application: Application) -> dict[str, Any]:
    answers = from_json(procedure, application.answers)
    return dict(expression_values(procedure, answers))


def allowed_actions(
    session: Session, application: Application, roles: set[str]
) -> list[Transition]:
    procedure = procedure_of(session, application)
    machine = StateMachine(procedure)
    return machine.allowed(
        application.state,
        roles,
        values_of(procedure, application),
        amounts=choice_amounts(procedure),
    )


def clock(
    procedure: Procedure, application: Application, now: datetime.datetime | None = None
) -> ProcessingClock:
    """The standard-processing-period clock from the application's history."""
    now = now or datetime.datetime.now(datetime.UTC)
    events = sorted(application.events, key=lambda e: (_aware(e.at), e.id or 0))
    spans = []
    for index, event in enumerate(events):
        end = events[index + 1].at if index + 1 < len(events) else None
        state = procedure.workflow.states.get(event.to_state)
        spans.append(ClockSpan(_aware(event.at), _aware(end), bool(state and state.clock_runs)))
    return processing_clock(
        default_calendar(), procedure.standard_processing_days, spans, now=_aware(now)
    )


def _aware(moment: datetime.datetime | None) -> Any:
    """The moment in Japan time: the clock counts days as the office's calendar does."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)  # SQLite gives back naive UTC
    return moment.astimezone(JAPAN)


def take_action(
    session: Session,
    application: Application,
    action: str,
    *,
    roles: set[str],
    actor: str,
    comment: str | None = None,
    fields: dict[str, Any] | None = None,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> ApplicationEvent:
    """Apply `action` or raise `TransitionError` / `Conflict`.

    `now` is the moment recorded for the event (a timer replayed with
    `madoguchi tick --now` fires at the time it was due).
    """
    if expected_version is not None and expected_version != application.row_version:
        raise Conflict()
    procedure = procedure_of(session, application)
    now = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    event = StateMachine(procedure).apply(
        application.state,
        action,
        roles,
        values_of(procedure, application),
        at=now,
        actor=actor,
        comment=comment,
        fields=fields,
        amounts=choice_amounts(procedure),
    )
    row = ApplicationEvent(
        application_id=application.id,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        by_role=event.by_role,
        actor=actor,
        comment=event.comment,
        fields={k: _jsonable(v) for k, v in event.fields.items()},
        edit_pages=list(event.edit),
        at=now,
    )
    session.add(row)
    application.state = event.to_state
    application.state_entered_at = now
    application.events.append(row)
    status = clock(procedure, application, now)
    application.due_date = status.due_date
    audit.record(
        session,
        actor=actor,
        action="application.transition",
        subject=f"application:{application.receipt_number}",
        data={"action": event.action, "from": event.from_state, "to": event.to_state},
        at=now,
    )
    session.flush()
    final = procedure.workflow.states[event.to_state]
    if final.final and final.outcome in ("rejected", "withdrawn"):
        from madoguchi.payments.service import refund_paid

        refund_paid(session, application)  # a fee paid for nothing goes back
    if "applicant" in event.notify and application.applicant_email:
        # A counter filing (代行入力) may have no email address to write to.
        subject, body = state_mail(procedure, application, event.comment)
        mail.send_after_commit(application.applicant_email, subject, body)
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool | list | dict) else str(value)


def state_mail(
    procedure: Procedure, application: Application, comment: str | None
) -> tuple[str, str]:
    language = application.language
    title = procedure.title.get(language)
    label = procedure.workflow.states[application.state].label.get(language)
    if language == "en":
        body = f"Your application {application.receipt_number} ({title}) is now: {label}.\n"
        if comment:
            body += f"\nMessage from the office:\n{comment}\n"
        return f"Update: {title} ({application.receipt_number})", body
    body = f"申請 {application.receipt_number}({title})の状況が「{label}」になりました。\n"
    if comment:
        body += f"\n窓口からのメッセージ:\n{comment}\n"
    return f"【状況のお知らせ】{title}({application.receipt_number})", body


# --- documents of decisions (`document:` on a transition) --------------------------


def pending_documents(
    procedure: Procedure, application: Application
) -> list[tuple[str, ApplicationEvent]]:
    """(document id, the event it is issued for) of decisions whose PDF is not made yet.

    A document is made once per kind; the latest event of a transition with
    that `document:` is the one it is issued for.
    """
    made = {d.kind for d in application.documents}
    wanted: dict[str, ApplicationEvent] = {}
    for event in application.events:
        transition = next(procedure.transition(event.action), None)
        if transition is not None and transition.document and transition.document not in made:
            wanted[transition.document] = event
    return list(wanted.items())


def make_document(
    session: Session, application: Application, kind: str, event: ApplicationEvent | None
) -> Any:
    """Render and store document `kind` for `event` (once: `ensure_document`)."""
    from madoguchi.documents.service import ensure_document

    return ensure_document(
        session,
        application,
        kind,
        procedure=procedure_of(session, application),
        office=catalogue().offices()[application.office_id],
        action=event,
    )


def document_after_commit(application_id: int, event_id: int, kind: str) -> None:
    """Make the decision's PDF once the action is committed; a failure only delays it.

    The action stands either way; the office room shows the document as
    pending and offers to make it again.
    """
    from flask import current_app

    from madoguchi import db

    def render() -> None:
        session = db.session()
        try:
            application = session.get(Application, application_id)
            event = session.get(ApplicationEvent, event_id)
            if application is not None and event is not None:
                make_document(session, application, kind, event)
                session.commit()
        except Exception:
            session.rollback()
            current_app.logger.exception(
                "document %s of application %s failed", kind, application_id
            )

    db.after_commit(render)


def explain(error: TransitionError) -> str:
    """The reason an action was refused, in the reader's language.

    The state machine speaks English to logs and tests; people get these.
    """
    from flask_babel import gettext as _

    reasons = {
        "comment_required": _("Write a message for the applicant: this action needs one."),
        "fields": _("Fill in the fields this action needs."),
        "forbidden": _("Your roles at this office do not allow this action."),
        "condition": _("This action is not possible for this application."),
        "wrong_state": _("This action cannot be taken in the application's current state."),
        "final": _("The application is closed; no action can be taken."),
        "unknown_action": _("There is no such action."),
        "unknown_state": _("The application is in a state its procedure does not know."),
    }
    return reasons.get(error.code, error.message)


def explain_fields(error: TransitionError) -> dict[str, str]:
    """Field errors of a refused action, in the reader's language."""
    from flask_babel import gettext as _

    return {
        field_id: _("Write a message for the applicant.")
        if field_id == "comment"
        else _("This field is required.")
        for field_id in error.field_errors
    }
