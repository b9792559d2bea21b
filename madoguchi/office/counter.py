"""Counter filing (代行入力): a clerk files on behalf of a resident at the counter.

The clerk goes through the very pages, validation and review a resident
does (the same `services.drafts` and `services.filing`, the same field
macros), then files with `channel="counter"` and themselves as the actor
and `counter_staff_id`.  The draft belongs to the clerk: its owner is the
marker ``counter:<staff id>`` in `Draft.guest_email`, which is never a
verified email, so no resident or guest can open it, and no other clerk.

The application is routed like any other: a fixed office, or the ward of
the postal code (which is the clerk's own office when the resident lives
in that ward).  If the clerk types the resident's email address, the
resident gets the receipt mail as usual and can follow the application as
a guest with that address.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms.answers import input_fields
from forms.builder import repeat_errors
from forms.fees import compute_fee
from madoguchi import db, mail
from madoguchi.catalogue import catalogue
from madoguchi.documents.context import display_rows
from madoguchi.i18n import current_language
from madoguchi.models import Application, Draft, Staff
from madoguchi.models.catalogue import latest_versions
from madoguchi.office.common import me
from madoguchi.services import drafts, filing, proxy, receipts, transitions
from madoguchi.services.accounts import email_error, normalise_email
from madoguchi.services.pages import page_context
from madoguchi.services.staff import actor, staff_required
from madoguchi.storage import file_store
from workflow.model import Page, Procedure, today_in_japan

COUNTER_PREFIX = "counter:"


def owner_of(staff: Staff) -> drafts.Owner:
    """The owner of the clerk's counter drafts."""
    return drafts.Owner(guest_email=f"{COUNTER_PREFIX}{staff.id}")


def _draft(draft_id: str) -> Draft:
    draft = drafts.get(db.session(), draft_id, owner_of(me()))
    if draft.application_id is not None:  # pragma: no cover - counter drafts never correct
        abort(404)
    return draft


def _may_file(staff: Staff) -> None:
    if not staff.office_ids:
        abort(404)


@staff_required
def choose() -> ResponseReturnValue:
    staff = me()
    _may_file(staff)
    session = db.session()
    language = current_language()
    versions = latest_versions(session)
    entries = [(v.procedure_id, catalogue().procedure_of(v).title.get(language)) for v in versions]
    mine = [
        {"draft": d, "title": drafts.procedure_of(session, d).title.get(language)}
        for d in session.scalars(
            select(Draft)
            .where(Draft.guest_email == owner_of(staff).guest_email)
            .order_by(Draft.updated_at.desc())
        )
    ]
    return render_template("office/counter.html", entries=entries, drafts=mine)


@staff_required
def start() -> ResponseReturnValue:
    staff = me()
    _may_file(staff)
    session = db.session()
    version = drafts.published_version(session, request.form.get("procedure", ""))
    if version is None:
        abort(404)
    draft = drafts.start(session, version, owner_of(staff))
    db.commit()
    return redirect(url_for("office.counter_next", draft_id=draft.public_id))


@staff_required
def draft_next(draft_id: str) -> ResponseReturnValue:
    draft = _draft(draft_id)
    procedure = drafts.procedure_of(db.session(), draft)
    page_ = drafts.first_unfinished(procedure, draft, today_in_japan())
    if page_ is None:
        return redirect(url_for("office.counter_review", draft_id=draft_id))
    return redirect(url_for("office.counter_page", draft_id=draft_id, page_id=page_.id))


@staff_required
def delete(draft_id: str) -> ResponseReturnValue:
    drafts.delete(db.session(), _draft(draft_id))
    db.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("office.counter"))


def _render_page(
    procedure: Procedure,
    draft: Draft,
    page_: Page,
    *,
    item_index: int | None = None,
    values: dict[str, Any] | None = None,
    raw: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    page_errors: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    context = page_context(
        procedure,
        draft,
        page_,
        language=current_language(),
        item_index=item_index,
        values=values,
        raw=raw,
        errors=errors,
        page_errors=page_errors,
    )
    return render_template("office/counter_page.html", **context), status


def _stored(procedure: Procedure, draft: Draft, page_: Page) -> dict[str, Any]:
    if page_ is proxy.PAGE:
        return proxy.from_json(draft.proxy or {})
    answers = drafts.answers_of(procedure, draft)
    return {f.id: answers[f.id] for f in input_fields(page_) if f.id in answers}


@staff_required
def page(draft_id: str, page_id: str) -> ResponseReturnValue:
    draft = _draft(draft_id)
    session = db.session()
    procedure = drafts.procedure_of(session, draft)
    current = drafts.page_by_id(procedure, page_id)
    if current.repeat is not None:
        return _repeating_summary(procedure, draft, current)
    if request.method == "GET":
        return _render_page(procedure, draft, current, values=_stored(procedure, draft, current))
    result = drafts.save_page(
        session,
        file_store(),
        draft,
        procedure,
        current,
        request.form,
        request.files,
        language=current_language(),
    )
    if not result.ok:
        return _render_page(
            procedure,
            draft,
            current,
            raw=result.raw,
            errors=result.errors,
            page_errors=result.page_errors,
            values=result.values,
            status=422,
        )
    db.commit()
    return _after_page(procedure, draft, current)


def _after_page(procedure: Procedure, draft: Draft, current: Page) -> ResponseReturnValue:
    if request.form.get("return_to") == "review":
        return redirect(url_for("office.counter_review", draft_id=draft.public_id))
    following = drafts.next_page(procedure, draft, current.id, today_in_japan())
    if following is None:
        return redirect(url_for("office.counter_review", draft_id=draft.public_id))
    return redirect(url_for("office.counter_page", draft_id=draft.public_id, page_id=following.id))


def _repeating_summary(procedure: Procedure, draft: Draft, current: Page) -> ResponseReturnValue:
    language = current_language()
    answers = drafts.answers_of(procedure, draft)
    items = answers.get(current.id) or []
    assert current.repeat is not None
    problems: list[str] = []
    if request.method == "POST":
        problems = repeat_errors(
            procedure, current, answers, language=language, today=today_in_japan()
        )
        if not problems:
            drafts.finish_repeating_page(draft, current)
            db.commit()
            return _after_page(procedure, draft, current)
    all_rows = [
        r for r in display_rows(procedure, answers, lang=language) if r.page_id == current.id
    ]
    rows = [[r for r in all_rows if r.item_index == index] for index in range(len(items))]
    return (
        render_template(
            "office/counter_repeat.html",
            procedure=procedure,
            draft=draft,
            page=current,
            items=rows,
            can_add=len(items) < current.repeat.max,
            page_errors=problems,
        ),
        422 if problems else 200,
    )


@staff_required
def item(draft_id: str, page_id: str, index: int) -> ResponseReturnValue:
    draft = _draft(draft_id)
    session = db.session()
    procedure = drafts.procedure_of(session, draft)
    current = drafts.page_by_id(procedure, page_id)
    if current.repeat is None:
        abort(404)
    items = drafts.answers_of(procedure, draft).get(current.id) or []
    if not 0 <= index <= len(items) or index >= current.repeat.max:
        abort(404)
    if request.method == "GET":
        stored = dict(items[index]) if index < len(items) else {}
        return _render_page(procedure, draft, current, item_index=index, values=stored)
    result = drafts.save_page(
        session,
        file_store(),
        draft,
        procedure,
        current,
        request.form,
        request.files,
        language=current_language(),
        item_index=index,
    )
    if not result.ok:
        return _render_page(
            procedure,
            draft,
            current,
            item_index=index,
            raw=result.raw,
            errors=result.errors,
            page_errors=result.page_errors,
            values=result.values,
            status=422,
        )
    db.commit()
    return redirect(url_for("office.counter_page", draft_id=draft_id, page_id=page_id))


@staff_required
def remove_item(draft_id: str, page_id: str, index: int) -> ResponseReturnValue:
    draft = _draft(draft_id)
    procedure = drafts.procedure_of(db.session(), draft)
    current = drafts.page_by_id(procedure, page_id)
    if current.repeat is None:
        abort(404)
    drafts.remove_item(draft, procedure, current, index)
    db.commit()
    flash(_("The item was removed."), "success")
    return redirect(url_for("office.counter_page", draft_id=draft_id, page_id=page_id))


def _answered_email(procedure: Procedure, answers: dict[str, Any]) -> str:
    """The first email answer of the application, to offer as the receipt address."""
    for field in procedure.all_fields():
        if field.type == "email" and answers.get(field.id):
            return str(answers[field.id])
    return ""


def _review(
    draft: Draft,
    *,
    email: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db.session()
    language = current_language()
    procedure, answers, problems = filing.check_draft(session, draft, language=language)
    pages = drafts.pages_in_order(procedure, draft, today_in_japan())
    all_rows = display_rows(procedure, answers, lang=language)
    sections = []
    for shown in pages:
        if shown is proxy.PAGE:
            rows = display_rows(proxy.PROCEDURE, proxy.from_json(draft.proxy or {}), lang=language)
        else:
            rows = [r for r in all_rows if r.page_id == shown.id]
        sections.append({"page": shown, "rows": rows})
    fee = compute_fee(procedure, answers, today_in_japan()) if procedure.fee else None
    return (
        render_template(
            "office/counter_review.html",
            procedure=procedure,
            draft=draft,
            sections=sections,
            problems=problems,
            fee=fee,
            email=_answered_email(procedure, answers) if email is None else email,
            errors=errors or {},
        ),
        status,
    )


@staff_required
def review(draft_id: str) -> ResponseReturnValue:
    return _review(_draft(draft_id))


@staff_required
def file(draft_id: str) -> ResponseReturnValue:
    staff = me()
    session = db.session()
    already = filing.existing_filing(session, draft_id)
    if already is not None and already.counter_staff_id == staff.id:
        return redirect(url_for("office.counter_filed", public_id=already.public_id))
    draft = _draft(draft_id)
    typed = request.form.get("email", "")
    email = normalise_email(typed)
    errors: dict[str, str] = {}
    if email and (problem := email_error(email)):
        errors["email"] = problem
    if not request.form.get("declaration"):
        errors["declaration"] = _("Confirm that the resident made the declaration.")
    if errors:
        return _review(draft, email=typed, errors=errors, status=422)
    try:
        filed = filing.file_draft(
            session,
            draft,
            email=email,
            resident=None,
            language=current_language(),
            channel="counter",
            actor=actor(staff),
        )
        application = filed.application
        if filed.new:
            application.counter_staff_id = staff.id
            session.flush()
            if email:
                procedure = transitions.procedure_of(session, application)
                subject, body = filing.receipt_mail(application, procedure)
                mail.send_after_commit(email, subject, body)
            receipts.make_after_commit(application.id)
        db.commit()
    except filing.FilingError as error:
        db.rollback()
        for problem in error.problems:
            flash(problem.message, "error")
        return redirect(url_for("office.counter_review", draft_id=draft_id))
    except IntegrityError:
        db.rollback()
        application_or_none = filing.existing_filing(db.session(), draft_id)
        if application_or_none is None:
            raise
        application = application_or_none
    return redirect(url_for("office.counter_filed", public_id=application.public_id))


@staff_required
def filed(public_id: str) -> ResponseReturnValue:
    """What the clerk tells the resident: the receipt number and where it went."""
    staff = me()
    found = (
        db.session()
        .scalars(
            select(Application).where(
                Application.public_id == public_id, Application.counter_staff_id == staff.id
            )
        )
        .first()
    )
    if found is None:
        abort(404)
    procedure = transitions.procedure_of(db.session(), found)
    office = catalogue().offices().get(found.office_id)
    return render_template(
        "office/counter_filed.html",
        application=found,
        procedure=procedure,
        office_label=office.name.get(current_language()) if office else found.office_id,
        visible=found.office_id in staff.office_ids,
    )
