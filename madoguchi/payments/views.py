"""Our payment endpoints: the provider's webhook, the return from its page, paying later."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from madoguchi import db
from madoguchi.i18n import current_language
from madoguchi.models import Application, Payment
from madoguchi.payments import service
from madoguchi.payments.port import METHODS
from madoguchi.resident.owner import current_owner
from madoguchi.services import transitions

bp = Blueprint("payments", __name__, url_prefix="/payments", template_folder="templates")


def webhook() -> tuple[str, int]:
    try:
        new = service.handle_webhook(
            db.session(),
            request.headers.get("Madoguchi-Stub-Signature"),
            request.get_data(),
            now=time.time(),
        )
    except service.WebhookRejected as rejected:
        db.rollback()
        return f"rejected: {rejected}", 400
    db.commit()
    return ("ok" if new else "duplicate"), 200


def _owned(application_id: str) -> Application:
    from madoguchi.resident.applications import _application

    return _application(application_id)


def returned(draft_id: str) -> Response:
    """Back from the provider's page: ask it how the payment stands, file if paid."""
    session = db.session()
    payment = service.payment_for_draft(session, draft_id)
    if payment is None or not _mine(payment):
        abort(404)
    if payment.status == "pending":
        service.refresh(session, payment, source="return")
    db.commit()
    if payment.application_id is not None:
        application = session.get(Application, payment.application_id)
        assert application is not None
        return redirect(url_for("resident.receipt", application_id=application.public_id))
    if payment.status == "pending":
        flash(
            _("Your payment is not confirmed yet. The application is filed once it is paid."),
            "info",
        )
    else:
        flash(_("The payment did not go through. Your draft is kept: you can try again."), "error")
    return redirect(url_for("resident.review", draft_id=draft_id))


def _mine(payment: Payment) -> bool:
    owner = current_owner()
    context = payment.context or {}
    if owner.resident is not None:
        return context.get("resident_id") == owner.resident.id
    return owner.guest_email is not None and context.get("email") == owner.guest_email


def pay(application_id: str) -> Response:
    """Pay an `after_approval` fee of an application waiting in a `pay: true` state."""
    session = db.session()
    application = _owned(application_id)
    procedure = transitions.procedure_of(session, application)
    if not procedure.workflow.states[application.state].pay or not application.fee_total:
        abort(409)
    method = request.form.get("method", "")
    allowed = procedure.fee.methods if procedure.fee else ()
    if method not in allowed or method not in METHODS:
        flash(_("Please choose how to pay."), "error")
        return redirect(url_for("resident.application", application_id=application_id))
    _payment, intent = service.start(
        session,
        amount=application.fee_total,
        method=method,
        description=procedure.title.get(current_language()),
        return_url=url_for(
            "payments.returned_application", application_id=application_id, _external=True
        ),
        purpose="after_approval",
        application=application,
    )
    db.commit()
    return redirect(intent.redirect_url)


def returned_application(application_id: str) -> Response:
    session = db.session()
    application = _owned(application_id)
    for payment in service.payments_of(session, application):
        if payment.status == "pending":
            service.refresh(session, payment, source="return")
    db.commit()
    return redirect(url_for("resident.application", application_id=application_id))


def payment_receipt(application_id: str, payment_id: str) -> str:
    """A receipt of payment (領収書), as an HTML page the resident can print."""
    session = db.session()
    application = _owned(application_id)
    payment = next(
        (p for p in service.payments_of(session, application) if p.public_id == payment_id), None
    )
    if payment is None or payment.status not in ("paid", "refunded"):
        abort(404)
    procedure = transitions.procedure_of(session, application)
    return render_template(
        "payments/receipt.html",
        application=application,
        procedure=procedure,
        payment=payment,
        method=METHODS.get(payment.method),
    )


bp.add_url_rule("/webhook", "webhook", webhook, methods=["POST"])
bp.add_url_rule("/return/drafts/<draft_id>", "returned", returned)
bp.add_url_rule("/applications/<application_id>/pay", "pay", pay, methods=["POST"])
bp.add_url_rule(
    "/return/applications/<application_id>", "returned_application", returned_application
)
bp.add_url_rule("/applications/<application_id>/receipts/<payment_id>", "receipt", payment_receipt)


def init_app(app: Flask) -> None:
    from madoguchi.security import csrf

    csrf.exempt(webhook)  # signed by the provider instead
    app.register_blueprint(bp)
    if app.config.get("PAYMENT_STUB_ENABLED"):
        from madoguchi.payments import stub

        stub.init_app(app)
