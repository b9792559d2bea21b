"""Views of filing: start, pages one at a time, repeating items, check answers, file.

Every page is saved to the server-side draft when it is valid; an invalid
post shows the page again with an error summary and everything the
resident typed.  Nothing here knows any procedure: the pages, fields and
rules all come from the procedure's YAML through `forms/`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from forms.answers import input_fields
from forms.builder import repeat_errors
from forms.fees import compute_fee
from forms.messages import Invalid
from forms.registry import REGISTRY
from madoguchi import db, mail, signatures
from madoguchi.documents.context import display_rows
from madoguchi.i18n import current_language
from madoguchi.models import Application, Draft
from madoguchi.payments import service as payments
from madoguchi.payments.port import METHODS
from madoguchi.resident.owner import current_owner, login_or_guest_redirect, owner_for_procedure
from madoguchi.security import limiter
from madoguchi.services import drafts, filing, proxy, receipts, transitions
from madoguchi.services.accounts import current_identity
from madoguchi.services.pages import page_context
from madoguchi.signatures import cardapp as signing_cardapp
from madoguchi.storage import file_store
from workflow.model import Page, Procedure, today_in_japan


def _draft(draft_id: str) -> Draft:
    return drafts.get(db.session(), draft_id, current_owner())


def _correction_pages(draft: Draft) -> tuple[str, ...] | None:
    """Pages a correction draft may change, from the event that asked for it."""
    if draft.application_id is None:
        return None
    application = db.session().get(Application, draft.application_id)
    assert application is not None
    last = application.events[-1] if application.events else None
    return tuple(last.edit_pages) if last else ()


def _page_or_404(procedure: Procedure, draft: Draft, page_id: str) -> Page:
    page = drafts.page_by_id(procedure, page_id)
    if page.id not in drafts.editable_pages(procedure, draft, _correction_pages(draft)):
        abort(404)
    return page


def start(procedure_id: str) -> Response:
    session = db.session()
    version = drafts.published_version(session, procedure_id)
    if version is None:
        abort(404)
    procedure = drafts.catalogue().procedure_of(version)
    owner = owner_for_procedure(procedure)
    if owner is None:
        return login_or_guest_redirect(procedure)
    draft = drafts.start(session, version, owner)
    db.commit()
    return redirect(url_for("resident.draft_next", draft_id=draft.public_id))


def draft_next(draft_id: str) -> Response:
    """Continue a draft where it was left: the first page not yet done, else the review."""
    draft = _draft(draft_id)
    procedure = drafts.procedure_of(db.session(), draft)
    allowed = _correction_pages(draft)
    if allowed is not None:
        return redirect(url_for("resident.review", draft_id=draft_id))
    page = drafts.first_unfinished(procedure, draft, today_in_japan())
    if page is None:
        return redirect(url_for("resident.review", draft_id=draft_id))
    return redirect(url_for("resident.page", draft_id=draft_id, page_id=page.id))


def _prefilled(procedure: Procedure, page: Page, values: dict[str, Any]) -> dict[str, Any]:
    """Stored values, plus identity-card values for empty `prefill:` fields."""
    identity = current_identity() or {}
    merged = dict(values)
    for field in input_fields(page):
        if field.prefill and field.id not in merged:
            source = identity.get(field.prefill.removeprefix("identity."))
            if source:
                with contextlib.suppress(Invalid):  # a card value the field refuses is not typed in
                    merged[field.id] = REGISTRY.for_field(field).clean(
                        field, str(source), today=today_in_japan()
                    )
    return merged


def _render_page(
    procedure: Procedure,
    draft: Draft,
    page: Page,
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
        page,
        language=current_language(),
        item_index=item_index,
        values=values,
        raw=raw,
        errors=errors,
        page_errors=page_errors,
    )
    return render_template("resident/page.html", **context), status


def page(draft_id: str, page_id: str) -> Response | tuple[str, int]:
    draft = _draft(draft_id)
    session = db.session()
    procedure = drafts.procedure_of(session, draft)
    current = _page_or_404(procedure, draft, page_id)
    if current.repeat is not None:
        return _repeating_summary(procedure, draft, current)
    if request.method == "GET":
        stored = (
            proxy.from_json(draft.proxy or {})
            if current is proxy.PAGE
            else drafts.answers_of(procedure, draft)
        )
        return _render_page(
            procedure, draft, current, values=_prefilled(procedure, current, stored)
        )
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


def _after_page(procedure: Procedure, draft: Draft, current: Page) -> Response:
    if request.form.get("return_to") == "review" or draft.application_id is not None:
        return redirect(url_for("resident.review", draft_id=draft.public_id))
    following = drafts.next_page(procedure, draft, current.id, today_in_japan())
    if following is None:
        return redirect(url_for("resident.review", draft_id=draft.public_id))
    return redirect(url_for("resident.page", draft_id=draft.public_id, page_id=following.id))


def _repeating_summary(
    procedure: Procedure, draft: Draft, current: Page
) -> Response | tuple[str, int]:
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
            "resident/repeat.html",
            procedure=procedure,
            draft=draft,
            page=current,
            items=rows,
            can_add=len(items) < current.repeat.max,
            page_errors=problems,
        ),
        422 if problems else 200,
    )


def item(draft_id: str, page_id: str, index: int) -> Response | tuple[str, int]:
    draft = _draft(draft_id)
    session = db.session()
    procedure = drafts.procedure_of(session, draft)
    current = _page_or_404(procedure, draft, page_id)
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
    return redirect(url_for("resident.page", draft_id=draft_id, page_id=page_id))


def remove_item(draft_id: str, page_id: str, index: int) -> Response:
    draft = _draft(draft_id)
    procedure = drafts.procedure_of(db.session(), draft)
    current = _page_or_404(procedure, draft, page_id)
    if current.repeat is None:
        abort(404)
    drafts.remove_item(draft, procedure, current, index)
    db.commit()
    flash(_("The item was removed."), "success")
    return redirect(url_for("resident.page", draft_id=draft_id, page_id=page_id))


def review(draft_id: str) -> str:
    draft = _draft(draft_id)
    session = db.session()
    language = current_language()
    procedure, answers, problems = filing.check_draft(session, draft, language=language)
    pages = drafts.pages_in_order(procedure, draft, today_in_japan())
    editable = drafts.editable_pages(procedure, draft, _correction_pages(draft))
    all_rows = display_rows(procedure, answers, lang=language)
    sections = []
    for shown in pages:
        if shown is proxy.PAGE:
            rows = display_rows(proxy.PROCEDURE, proxy.from_json(draft.proxy or {}), lang=language)
        else:
            rows = [r for r in all_rows if r.page_id == shown.id]
        sections.append({"page": shown, "rows": rows, "editable": shown.id in editable})
    fee = compute_fee(procedure, answers, today_in_japan()) if procedure.fee else None
    pay_methods = []
    if procedure.fee and procedure.fee.when == "before_submit" and fee and fee.total > 0:
        pay_methods = [METHODS[m] for m in procedure.fee.methods if m in METHODS]
    return render_template(
        "resident/review.html",
        pay_methods=pay_methods,
        procedure=procedure,
        draft=draft,
        sections=sections,
        problems=problems,
        fee=fee,
        correction=draft.application_id is not None,
    )


@limiter.limit("20 per minute")
def file(draft_id: str) -> Response | tuple[str, int]:
    session = db.session()
    owner = current_owner()
    public_id = draft_id
    already = filing.existing_filing(session, public_id)
    if already is not None and _owns(already):
        return redirect(url_for("resident.receipt", application_id=already.public_id))
    draft = _draft(draft_id)
    if draft.application_id is not None:
        return _resubmit(draft)
    if not request.form.get("declaration"):
        flash(_("Please confirm the declaration before filing."), "error")
        return redirect(url_for("resident.review", draft_id=draft_id))
    unsigned = _must_sign(draft)
    if unsigned is not None:
        return unsigned
    email = owner.resident.email if owner.resident else owner.guest_email
    assert email is not None
    actor = f"resident:{owner.resident.id}" if owner.resident else f"guest:{email}"
    try:
        filed = filing.file_draft(
            session,
            draft,
            email=email,
            resident=owner.resident,
            language=current_language(),
            actor=actor,
        )
        application = filed.application
        if filed.new:
            signatures.attach(session, application)
            procedure = transitions.procedure_of(session, application)
            subject, body = filing.receipt_mail(application, procedure)
            mail.send_after_commit(email, subject, body)
            receipts.make_after_commit(application.id)
        db.commit()
    except filing.PaymentRequired as required:
        return _start_payment(draft, required.amount, email=email, actor=actor)
    except filing.FilingError as error:
        db.rollback()
        for problem in error.problems:
            flash(problem.message, "error")
        return redirect(url_for("resident.review", draft_id=draft_id))
    except IntegrityError:
        # A second tap raced the first one: the first filing stands.
        db.rollback()
        application = filing.existing_filing(db.session(), public_id)
        if application is None:
            raise
    return redirect(url_for("resident.receipt", application_id=application.public_id))


def _must_sign(draft: Draft) -> Response | None:
    """`sign: applicant`: off to the card app's signing page unless signed as it stands now."""
    session = db.session()
    if drafts.procedure_of(session, draft).sign != "applicant":
        return None
    if signatures.draft_signed(session, draft):
        return None
    if signatures.draft_signature(session, draft.public_id) is not None:
        flash(_("Your answers changed after you signed. Please sign again."), "error")
    return redirect(signing_cardapp.sign_url(draft.public_id))


def _start_payment(draft: Draft, amount: int, *, email: str, actor: str) -> Response:
    """A complete draft with a `before_submit` fee: off to the provider's page to pay."""
    session = db.session()
    procedure = drafts.procedure_of(session, draft)
    allowed = list(procedure.fee.methods) if procedure.fee else []
    method = request.form.get("method") or (allowed[0] if allowed else "")
    if method not in allowed or method not in METHODS:
        db.rollback()
        flash(_("Please choose how to pay."), "error")
        return redirect(url_for("resident.review", draft_id=draft.public_id))
    owner = current_owner()
    _payment, intent = payments.start(
        session,
        amount=amount,
        method=method,
        description=procedure.title.get(current_language()),
        return_url=url_for("payments.returned", draft_id=draft.public_id, _external=True),
        purpose="before_submit",
        draft_public_id=draft.public_id,
        context={
            "email": email,
            "resident_id": owner.resident.id if owner.resident else None,
            "language": current_language(),
            "actor": actor,
        },
    )
    db.commit()
    return redirect(intent.redirect_url)


def _owns(application: Application) -> bool:
    owner = current_owner()
    if owner.resident is not None:
        return application.resident_id == owner.resident.id
    return owner.guest_email is not None and application.applicant_email == owner.guest_email


def _resubmit(draft: Draft) -> Response:
    """Send a correction back: the changed answers, then the applicant's resubmit action."""
    from madoguchi.resident.applications import resubmit_correction

    return resubmit_correction(draft)


def my_drafts() -> str:
    owner = current_owner()
    if not owner.known:
        abort(404)
    session = db.session()
    listed = []
    for draft in drafts.drafts_of(session, owner):
        procedure = drafts.procedure_of(session, draft)
        listed.append({"draft": draft, "title": procedure.title.get(current_language())})
    return render_template("resident/drafts.html", drafts=listed)


def delete_draft(draft_id: str) -> Response:
    draft = _draft(draft_id)
    drafts.delete(db.session(), draft)
    db.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("resident.my_drafts"))
