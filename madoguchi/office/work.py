"""Working one application: answers, attachments, history, notes, the clock, and actions."""

from __future__ import annotations

import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from forms.answers import from_json
from forms.builder import PageResult, bind_page_form, transition_page, validate_page
from madoguchi import db, signatures
from madoguchi.documents.context import display_rows, is_sensitive
from madoguchi.i18n import current_language
from madoguchi.models import Application, StoredFile
from madoguchi.office.common import actor_names, me, message_page
from madoguchi.services import audit, notes, queues, transitions
from madoguchi.services.staff import actor, application_for_staff, staff_required
from madoguchi.storage import file_store
from workflow.machine import TransitionError
from workflow.model import Procedure, Transition, japan_date, today_in_japan

#: attachments shown in the browser rather than downloaded
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


def _application(public_id: str) -> Application:
    return application_for_staff(me(), public_id)


def _version(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _try_pending_documents(procedure: Procedure, application: Application) -> None:
    """Make decision PDFs an earlier attempt left pending; a failure is logged, not shown."""
    session = db.session()
    for kind, event in transitions.pending_documents(procedure, application):
        try:
            with session.begin_nested():
                transitions.make_document(session, application, kind, event)
        except Exception:
            current_app.logger.exception(
                "document %s of application %s failed again", kind, application.id
            )
    db.commit()


def _render(
    application: Application,
    *,
    status: int = 200,
    open_action: str | None = None,
    raw: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    comment: str | None = None,
    page_errors: list[str] | None = None,
    revealed: dict[tuple[str, int | None], str] | None = None,
) -> tuple[str, int]:
    staff = me()
    session = db.session()
    procedure = transitions.procedure_of(session, application)
    language = current_language()
    roles = staff.roles_at(application.office_id)
    answers = from_json(procedure, application.answers or {})
    filed_on = japan_date(application.filed_at)
    rows = []
    for row in display_rows(procedure, answers, lang=language, today=filed_on):
        sensitive = is_sensitive(procedure.field(row.field_id))
        shown = (revealed or {}).get((row.field_id, row.item_index))
        rows.append(
            {
                "row": row,
                "value": shown if shown is not None else row.value,
                "sensitive": sensitive and bool(row.value),
                "revealed": shown is not None,
            }
        )
    actions = []
    summary: dict[str, str] = {}
    summary_labels: dict[str, str] = {}
    for transition in transitions.allowed_actions(session, application, roles):
        page = transition_page(transition)
        mine = transition.action == open_action
        form = bind_page_form(
            procedure,
            page,
            language,
            raw=raw if mine else None,
            errors=errors if mine else None,
        )
        if mine:
            for key, text in (errors or {}).items():
                anchor = f"comment-{transition.action}" if key == "comment" else key
                summary[anchor] = text
                field_ = page.field(key)
                summary_labels[anchor] = (
                    field_.label.get(language)
                    if field_ is not None and field_.label is not None
                    else _("Message to the applicant")
                )
        actions.append(
            {
                "transition": transition,
                "label": transition.display_label(language),
                "fields": list(page.fields),
                "form": form,
                "errors": (errors or {}) if mine else {},
                "comment": comment if mine else "",
                "open": mine,
            }
        )
    events = list(application.events)
    names = actor_names([e.actor for e in events])
    history = []
    for event in events:
        transition = next(procedure.transition(event.action), None)
        history.append(
            {
                "at": event.at,
                "label": transition.display_label(language) if transition else _("Filed"),
                "state": _state_label(procedure, event.to_state, language),
                "actor": names.get(event.actor or "", event.by_role),
                "comment": event.comment,
                "fields": _event_fields(transition, event.fields or {}, language),
            }
        )
    history.extend(_payment_history(session, application))
    history.sort(key=lambda h: _aware_utc(h["at"]))
    pending = [kind for kind, _event in transitions.pending_documents(procedure, application)]
    assignee_names = queues.staff_names(session, [application.assigned_to_id])
    state = procedure.workflow.states[application.state]
    return (
        render_template(
            "office/application.html",
            application=application,
            procedure=procedure,
            state_label=state.label.get(language),
            final=state.final,
            clock=transitions.clock(procedure, application),
            due=queues.due_text(application.due_date, today_in_japan()),
            rows=rows,
            files=application.files,
            inline_types=INLINE_TYPES,
            documents=application.documents,
            pending=pending,
            document_titles={k: d.title.get(language) for k, d in procedure.documents.items()},
            history=history,
            notes=notes.notes_of(session, application),
            actions=actions,
            page_errors=[e for e in page_errors or [] if e not in summary.values()],
            summary=summary,
            summary_labels=summary_labels,
            assignee=assignee_names.get(application.assigned_to_id or 0),
            is_supervisor=queues.SUPERVISOR in roles,
            colleagues=queues.colleagues(session, application.office_id)
            if queues.SUPERVISOR in roles
            else [],
            staff=staff,
            signature=signatures.verify_application(session, application),
        ),
        status,
    )


def _aware_utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _payment_history(session: Session, application: Application) -> list[dict[str, Any]]:
    """What the payment provider told us about this application's fee, as history lines."""
    from madoguchi.payments.service import payments_of

    lines = []
    for payment in payments_of(session, application):
        for event in payment.events:
            amount = f"¥{event.amount:,}" if event.amount is not None else "—"
            lines.append(
                {
                    "at": event.received_at,
                    "label": _(
                        "Payment: %(event)s %(amount)s (%(method)s)",
                        event=event.type,
                        amount=amount,
                        method=payment.method,
                    ),
                    "state": payment.status,
                    "actor": event.source,
                    "comment": _("Ignored: %(reason)s", reason=event.reason)
                    if event.flagged
                    else None,
                    "fields": [],
                }
            )
    return lines


def _state_label(procedure: Procedure, state_id: str, language: str) -> str:
    state = procedure.workflow.states.get(state_id)
    return state.label.get(language) if state else state_id


def _event_fields(
    transition: Transition | None, values: dict[str, Any], language: str
) -> list[tuple[str, Any]]:
    if transition is None:
        return []
    labels = {f.id: f.label.get(language) for f in transition.fields if f.label is not None}
    return [(labels.get(key, key), value) for key, value in values.items()]


@staff_required
def application(public_id: str) -> ResponseReturnValue:
    found = _application(public_id)
    procedure = transitions.procedure_of(db.session(), found)
    if transitions.pending_documents(procedure, found):
        _try_pending_documents(procedure, found)
    return _render(found)


# --- claim, release, reassign -------------------------------------------------------


def _taken_page(application: Application, name: str) -> tuple[str, int]:
    return message_page(
        _("Already taken"),
        _("This application is already taken by %(name)s.", name=name),
        409,
        back=url_for("office.application", public_id=application.public_id),
        queue=url_for("office.queue"),
    )


@staff_required
def claim(public_id: str) -> ResponseReturnValue:
    staff = me()
    found = _application(public_id)
    result = queues.claim(
        db.session(), found.id, staff_id=staff.id, office_ids=sorted(staff.office_ids)
    )
    db.commit()
    if result.status == "taken":
        return _taken_page(found, result.taken_by or "?")
    if result.status == "mine":
        flash(_("This application is already yours."), "info")
    else:
        flash(_("You took %(receipt)s.", receipt=found.receipt_number), "success")
    return redirect(url_for("office.application", public_id=public_id))


@staff_required
def release(public_id: str) -> ResponseReturnValue:
    found = _application(public_id)
    try:
        queues.release(db.session(), found, me())
        db.commit()
    except queues.QueueError as error:
        db.rollback()
        return message_page(
            _("Not released"),
            error.message,
            error.status,
            back=url_for("office.application", public_id=public_id),
        )
    except StaleDataError:
        db.rollback()
        return _changed(public_id)
    flash(_("The application is back in the queue."), "success")
    return redirect(url_for("office.application", public_id=public_id))


@staff_required
def reassign(public_id: str) -> ResponseReturnValue:
    found = _application(public_id)
    target = _version(request.form.get("to"))
    try:
        if target is None:
            raise queues.QueueError(_("Choose who should work on it."), status=422)
        person = queues.reassign(db.session(), found, me(), target)
        db.commit()
    except queues.QueueError as error:
        db.rollback()
        return message_page(
            _("Not reassigned"),
            error.message,
            error.status,
            back=url_for("office.application", public_id=public_id),
        )
    except StaleDataError:
        db.rollback()
        return _changed(public_id)
    flash(_("The application is now assigned to %(name)s.", name=person.name), "success")
    return redirect(url_for("office.application", public_id=public_id))


# --- actions ------------------------------------------------------------------------


def _changed(public_id: str) -> tuple[str, int]:
    """The 409 answer to an actor whose page was stale: the application as it is now."""
    db.session().expire_all()
    fresh = _application(public_id)
    procedure = transitions.procedure_of(db.session(), fresh)
    label = _state_label(procedure, fresh.state, current_language())
    text = _(
        "The application changed in the meantime: it is now “%(state)s”."
        " Check it and try again if still needed.",
        state=label,
    )
    return _render(fresh, status=409, page_errors=[text])


def _transition(procedure: Procedure, application: Application, action: str) -> Transition | None:
    outgoing = procedure.workflow.outgoing(application.state)
    here = next((t for t in outgoing if t.action == action), None)
    return here or next(procedure.transition(action), None)


@staff_required
def act(public_id: str, action: str) -> ResponseReturnValue:
    staff = me()
    session = db.session()
    found = _application(public_id)
    procedure = transitions.procedure_of(session, found)
    transition = _transition(procedure, found, action)
    if transition is None:
        abort(404)
    expected = _version(request.form.get("row_version"))
    if expected is not None and expected != found.row_version:
        return _changed(public_id)
    comment = request.form.get("comment") or None
    result: PageResult | None = None
    if transition.fields:
        result = validate_page(
            procedure,
            transition_page(transition),
            request.form,
            answers={},
            language=current_language(),
            today=today_in_japan(),
            files=request.files,
        )
        if not result.ok:
            return _render(
                found,
                status=422,
                open_action=action,
                raw=result.raw,
                errors=result.errors,
                comment=comment,
            )
    from_state = found.state
    try:
        event = transitions.take_action(
            session,
            found,
            action,
            roles=staff.roles_at(found.office_id),
            actor=actor(staff),
            comment=comment,
            fields=result.values if result else None,
            expected_version=expected,
        )
        queues.handoff(session, found, from_state)
        if transition.document:
            transitions.document_after_commit(found.id, event.id, transition.document)
        label = transition.display_label(current_language())
        db.commit()
    except TransitionError as error:
        db.rollback()
        fresh = _application(public_id)
        return _render(
            fresh,
            status=422,
            open_action=action,
            raw=result.raw if result else None,
            errors=transitions.explain_fields(error),
            comment=comment,
            page_errors=[transitions.explain(error)],
        )
    except (transitions.Conflict, StaleDataError):
        db.rollback()
        return _changed(public_id)
    flash(_("Done: %(action)s.", action=label), "success")
    return redirect(url_for("office.application", public_id=public_id))


# --- notes, sensitive answers -----------------------------------------------------------


@staff_required
def add_note(public_id: str) -> ResponseReturnValue:
    found = _application(public_id)
    try:
        notes.add_note(db.session(), found, me(), request.form.get("body", ""))
        db.commit()
    except notes.NoteError as error:
        db.rollback()
        if str(error) == "too_long":
            flash(_("A note can be at most %(n)s characters.", n=notes.MAX_LENGTH), "error")
        else:
            flash(_("Write the note before saving it."), "error")
    else:
        flash(_("The note was saved."), "success")
    return redirect(url_for("office.application", public_id=public_id) + "#notes")


@staff_required
def reveal(public_id: str) -> ResponseReturnValue:
    """Show one sensitive answer in full; the audit row is written in the same transaction."""
    staff = me()
    session = db.session()
    found = _application(public_id)
    procedure = transitions.procedure_of(session, found)
    field_id = request.form.get("field", "")
    item = _version(request.form.get("item")) if request.form.get("item") else None
    try:
        field = procedure.field(field_id)
    except KeyError:
        abort(404)
    if not is_sensitive(field):
        abort(404)
    answers = from_json(procedure, found.answers or {})
    rows = display_rows(
        procedure,
        answers,
        lang=current_language(),
        mask_sensitive=False,
        today=japan_date(found.filed_at),
    )
    row = next((r for r in rows if r.field_id == field_id and r.item_index == item), None)
    if row is None:
        abort(404)
    audit.record(
        session,
        actor=actor(staff),
        action="sensitive.reveal",
        subject=f"application:{found.receipt_number}",
        data={"field": field_id, "item": item},
    )
    db.commit()
    return _render(found, revealed={(field_id, item): row.value})


# --- files and documents ------------------------------------------------------------------


def _stored_file(application: Application, file_id: str) -> StoredFile:
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
    return stored


def _send(sha256: str, name: str, mime: str, *, inline: bool = False) -> ResponseReturnValue:
    path = file_store().path(sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mime, as_attachment=not inline, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@staff_required
def attachment(public_id: str, file_id: str) -> ResponseReturnValue:
    stored = _stored_file(_application(public_id), file_id)
    return _send(stored.sha256, stored.name, stored.mime)


@staff_required
def attachment_preview(public_id: str, file_id: str) -> ResponseReturnValue:
    """Images and PDFs inline (Content-Disposition: inline); anything else is downloaded."""
    stored = _stored_file(_application(public_id), file_id)
    return _send(stored.sha256, stored.name, stored.mime, inline=stored.mime in INLINE_TYPES)


@staff_required
def document(public_id: str, document_id: str) -> ResponseReturnValue:
    found = _application(public_id)
    doc = next((d for d in found.documents if d.public_id == document_id), None)
    if doc is None or doc.sha256 is None:
        abort(404)
    return _send(doc.sha256, f"{found.receipt_number}-{doc.kind}.pdf", "application/pdf")


@staff_required
def make_document(public_id: str, kind: str) -> ResponseReturnValue:
    session = db.session()
    found = _application(public_id)
    procedure = transitions.procedure_of(session, found)
    pending = dict(transitions.pending_documents(procedure, found))
    if kind not in pending:
        flash(_("This document is already made."), "info")
        return redirect(url_for("office.application", public_id=public_id))
    try:
        transitions.make_document(session, found, kind, pending[kind])
        db.commit()
    except Exception:
        db.rollback()
        current_app.logger.exception("document %s of application %s failed", kind, found.id)
        flash(_("The document could not be made. Try again later."), "error")
    else:
        flash(_("The document was made."), "success")
    return redirect(url_for("office.application", public_id=public_id))
