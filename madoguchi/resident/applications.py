"""Views of "My applications": status, history, documents, corrections, withdrawal."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from forms.answers import from_json, to_json
from madoguchi import db
from madoguchi.documents.context import display_rows
from madoguchi.i18n import current_language
from madoguchi.models import Application, Draft, StoredFile
from madoguchi.resident.owner import current_owner
from madoguchi.services import drafts, filing, transitions
from madoguchi.services.receipts import ensure_receipt
from madoguchi.storage import file_store
from workflow.machine import TransitionError
from workflow.model import Procedure, japan_date

APPLICANT = {"applicant"}


def _applications_query() -> Select[tuple[Application]]:
    owner = current_owner()
    if owner.resident is not None:
        return select(Application).where(Application.resident_id == owner.resident.id)
    if owner.guest_email is None:
        abort(404)
    return select(Application).where(
        Application.resident_id.is_(None), Application.applicant_email == owner.guest_email
    )


def _application(application_id: str) -> Application:
    """The owner's application, or 404 for anyone else's id."""
    found = (
        db.session()
        .scalars(_applications_query().where(Application.public_id == application_id))
        .first()
    )
    if found is None:
        abort(404)
    return found


def _state_label(procedure: Procedure, state: str) -> str:
    return procedure.workflow.states[state].label.get(current_language())


def my_applications() -> str:
    session = db.session()
    rows = []
    for application in session.scalars(_applications_query().order_by(Application.filed_at.desc())):
        procedure = transitions.procedure_of(session, application)
        rows.append(
            {
                "application": application,
                "title": procedure.title.get(current_language()),
                "state": _state_label(procedure, application.state),
                "clock": transitions.clock(procedure, application),
                "waiting_on_me": procedure.workflow.states[application.state].with_ == "applicant",
            }
        )
    return render_template("resident/applications.html", rows=rows)


def _history(procedure: Procedure, application: Application) -> list[dict[str, object]]:
    language = current_language()
    history = []
    for event in application.events:
        transition = next(procedure.transition(event.action), None)
        label = transition.display_label(language) if transition else _("Filed")
        history.append(
            {
                "at": event.at,
                "label": label,
                "state": _state_label(procedure, event.to_state),
                "comment": event.comment,
                "by_office": event.by_role not in ("applicant", "system"),
            }
        )
    return history


def detail(application_id: str) -> str:
    session = db.session()
    application = _application(application_id)
    procedure = transitions.procedure_of(session, application)
    language = current_language()
    answers = from_json(procedure, application.answers)
    actions = transitions.allowed_actions(session, application, APPLICANT)
    waiting = procedure.workflow.states[application.state].with_ == "applicant"
    last = application.events[-1] if application.events else None
    correction_pages = tuple(last.edit_pages) if (waiting and last) else ()
    return render_template(
        "resident/application.html",
        application=application,
        procedure=procedure,
        state=_state_label(procedure, application.state),
        final=procedure.workflow.states[application.state].final,
        clock=transitions.clock(procedure, application),
        rows=display_rows(
            procedure, answers, lang=language, today=japan_date(application.filed_at)
        ),
        history=_history(procedure, application),
        documents=[d for d in application.documents if d.public],
        files=application.files,
        actions=[
            a for a in actions if not (waiting and correction_pages and not _is_exit(procedure, a))
        ],
        correction_pages=correction_pages,
        correction_message=last.comment if (waiting and last) else None,
        **_payment_context(session, procedure, application),
    )


def _payment_context(session: Session, procedure: Procedure, application: Application) -> dict:
    from madoguchi.payments import service as payments
    from madoguchi.payments.port import METHODS

    listed = payments.payments_of(session, application)
    paying = procedure.workflow.states[application.state].pay and application.fee_total
    busy = any(p.status in ("paid", "refunded") for p in listed)
    methods = procedure.fee.methods if procedure.fee else ()
    labels = {
        "pending": _("Waiting for payment"),
        "paid": _("Paid"),
        "failed": _("Payment failed"),
        "expired": _("Payment expired"),
        "refunded": _("Refunded"),
    }
    return {
        "payments": listed,
        "pay_methods": [METHODS[m] for m in methods if m in METHODS] if paying and not busy else [],
        "payment_label": lambda status: labels.get(status, status),
    }


def _is_exit(procedure: Procedure, transition: transitions.Transition) -> bool:
    """An action that ends the case (withdraw) rather than answering a correction."""
    return procedure.workflow.states[transition.to].final


def receipt(application_id: str) -> str:
    application = _application(application_id)
    procedure = transitions.procedure_of(db.session(), application)
    return render_template(
        "resident/receipt.html",
        application=application,
        procedure=procedure,
        state=_state_label(procedure, application.state),
    )


def document(application_id: str, document_id: str) -> Response:
    application = _application(application_id)
    found = next(
        (d for d in application.documents if d.public_id == document_id and d.public), None
    )
    if found is None or found.sha256 is None:
        abort(404)
    return _send(found.sha256, f"{application.receipt_number}-{found.kind}.pdf", "application/pdf")


def receipt_pdf(application_id: str) -> Response:
    application = _application(application_id)
    generated = ensure_receipt(db.session(), application)
    db.commit()
    assert generated.sha256 is not None
    return _send(generated.sha256, f"{application.receipt_number}-receipt.pdf", "application/pdf")


def attachment(application_id: str, file_id: str) -> Response:
    application = _application(application_id)
    stored = (
        db.session()
        .scalars(
            select(StoredFile).where(
                StoredFile.application_id == application.id, StoredFile.public_id == file_id
            )
        )
        .first()
    )
    if stored is None:
        abort(404)
    return _send(stored.sha256, stored.name, stored.mime)


def _send(sha256: str, name: str, mime: str) -> Response:
    path = file_store().path(sha256)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=mime, as_attachment=True, download_name=name)


def act(application_id: str, action: str) -> Response:
    """An applicant's action that needs no form (withdraw)."""
    session = db.session()
    application = _application(application_id)
    owner = current_owner()
    actor = f"resident:{owner.resident.id}" if owner.resident else f"guest:{owner.guest_email}"
    try:
        expected = int(request.form.get("row_version", "0")) or None
        transitions.take_action(
            session,
            application,
            action,
            roles=APPLICANT,
            actor=actor,
            comment=request.form.get("comment"),
            expected_version=expected,
        )
        db.commit()
    except TransitionError as error:
        db.rollback()
        flash(transitions.explain(error), "error")
    except (transitions.Conflict, StaleDataError):
        db.rollback()
        flash(_("The application changed in the meantime; please check its new status."), "error")
    else:
        flash(_("Done: the status of your application was updated."), "success")
    return redirect(url_for("resident.application", application_id=application_id))


def start_correction(application_id: str) -> Response:
    """Open (or resume) the correction draft of an application waiting on its applicant."""
    session = db.session()
    application = _application(application_id)
    procedure = transitions.procedure_of(session, application)
    if procedure.workflow.states[application.state].with_ != "applicant":
        abort(404)
    draft = session.scalars(select(Draft).where(Draft.application_id == application.id)).first()
    if draft is None:
        owner = current_owner()
        draft = Draft(
            public_id=drafts.new_public_id(),
            resident_id=application.resident_id,
            guest_email=None if owner.resident else owner.guest_email,
            procedure_version_id=application.procedure_version_id,
            procedure_id=application.procedure_id,
            answers=dict(application.answers),
            completed_pages=[p.id for p in procedure.pages],
            application_id=application.id,
        )
        session.add(draft)
        db.commit()
    return redirect(url_for("resident.review", draft_id=draft.public_id))


def resubmit_correction(draft: Draft) -> Response:
    """Copy the corrected answers to the application and take the applicant's way back."""
    session = db.session()
    application = session.get(Application, draft.application_id)
    assert application is not None
    language = current_language()
    procedure, answers, problems = filing.check_draft(session, draft, language=language)
    if problems:
        for problem in problems:
            flash(problem.message, "error")
        return redirect(url_for("resident.review", draft_id=draft.public_id))
    machine_actions = [
        t
        for t in transitions.allowed_actions(session, application, APPLICANT)
        if not procedure.workflow.states[t.to].final
    ]
    if not machine_actions:
        abort(409)
    owner = current_owner()
    actor = f"resident:{owner.resident.id}" if owner.resident else f"guest:{owner.guest_email}"
    application.answers = to_json(procedure, answers)
    for stored in list(draft.files):
        stored.application_id = application.id
        stored.draft_id = None
    try:
        transitions.take_action(
            session, application, machine_actions[0].action, roles=APPLICANT, actor=actor
        )
        session.delete(draft)
        db.commit()
    except (TransitionError, transitions.Conflict, StaleDataError):
        db.rollback()
        flash(_("The application changed in the meantime; please check its new status."), "error")
        return redirect(url_for("resident.application", application_id=application.public_id))
    flash(_("Your corrections were sent to the office."), "success")
    return redirect(url_for("resident.application", application_id=application.public_id))
