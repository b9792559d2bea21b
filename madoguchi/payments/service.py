"""Our side of payments: starting one, webhooks, the derived status, filing, refunds.

The status of a payment is never written by hand: it is `derive_status`
over the payment's stored events, recomputed inside the transaction that
stores a new event.  Final states do not move backwards: once a genuine
`paid` event is in the log the payment is paid (or refunded, if a refund
event is there too), whatever arrives late or out of order.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from madoguchi.models import Application, Draft, Payment, PaymentEvent, Resident
from madoguchi.payments.port import Intent, provider
from madoguchi.services import audit

CURRENCY = "JPY"
STATUSES = ("pending", "paid", "failed", "expired", "refunded")


class WebhookRejected(Exception):  # noqa: N818 - reads as `raise WebhookRejected()`
    """The webhook is not from the provider (signature) or is too old (timestamp)."""


@dataclass(frozen=True)
class EventFact:
    """What `derive_status` needs of an event."""

    type: str
    flagged: bool = False


def derive_status(events: Iterable[EventFact]) -> str:
    """The payment's status from its event log, whatever the order of arrival.

    paid iff a genuine (unflagged) `payment.paid` is there; refunded iff also
    a genuine `payment.refunded`; otherwise the latest genuine failure or
    expiry; otherwise pending.
    """
    paid = refunded = False
    last_failure: str | None = None
    for event in events:
        if event.flagged:
            continue
        if event.type == "payment.paid":
            paid = True
        elif event.type == "payment.refunded":
            refunded = True
        elif event.type in ("payment.failed", "payment.expired"):
            last_failure = event.type.removeprefix("payment.")
    if paid:
        return "refunded" if refunded else "paid"
    return last_failure or "pending"


# --- signatures -------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str | None, body: bytes, *, now: float, tolerance: int = 300
) -> None:
    """Raise `WebhookRejected` unless `header` signs `body` recently enough."""
    if not header:
        raise WebhookRejected("no signature")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookRejected("no timestamp") from None
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected("timestamp outside the tolerance")
    expected = sign(secret, timestamp, body).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise WebhookRejected("bad signature")


# --- starting a payment -----------------------------------------------------------


def payment_for_draft(session: Session, draft_public_id: str) -> Payment | None:
    """The latest payment of a draft."""
    return session.scalars(
        select(Payment)
        .where(Payment.draft_public_id == draft_public_id)
        .order_by(Payment.id.desc())
    ).first()


def payments_of(session: Session, application: Application) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.application_id == application.id).order_by(Payment.id)
        )
    )


def start(
    session: Session,
    *,
    amount: int,
    method: str,
    description: str,
    return_url: str,
    purpose: str,
    draft_public_id: str | None = None,
    application: Application | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[Payment, Intent]:
    """A pending payment and the provider's intent for it.

    Starting again while a payment for the same thing and method is pending
    reuses it (same idempotency key, so the provider gives the same intent);
    after a failure or expiry a new attempt gets a new key.
    """
    query = select(Payment).where(Payment.status == "pending", Payment.method == method)
    if draft_public_id is not None:
        query = query.where(Payment.draft_public_id == draft_public_id)
    else:
        assert application is not None
        query = query.where(Payment.application_id == application.id)
    payment = session.scalars(query.where(Payment.amount == amount)).first()
    if payment is None:
        payment = Payment(
            public_id=secrets.token_urlsafe(12),
            draft_public_id=draft_public_id,
            application_id=application.id if application else None,
            purpose=purpose,
            amount=amount,
            currency=CURRENCY,
            method=method,
            idempotency_key=f"pay-{secrets.token_hex(16)}",
            status="pending",
            context=context or {},
        )
        session.add(payment)
        session.flush()
    intent = provider().create_intent(
        amount, CURRENCY, method, payment.idempotency_key, description, return_url
    )
    payment.provider_intent_id = intent.id
    session.flush()
    return payment, intent


# --- events -----------------------------------------------------------------------


def record_event(
    session: Session,
    *,
    event_id: str,
    type: str,
    intent_id: str,
    amount: int | None,
    currency: str | None,
    source: str,
    payload: dict[str, Any] | None = None,
) -> PaymentEvent | None:
    """Store one provider event and act on it; None when it was a duplicate."""
    if session.scalars(
        select(PaymentEvent).where(PaymentEvent.provider_event_id == event_id)
    ).first():
        return None
    payment = session.scalars(
        select(Payment).where(Payment.provider_intent_id == intent_id)
    ).first()
    flagged, reason = False, None
    if payment is None:
        flagged, reason = True, "unknown intent"
    elif type in ("payment.paid", "payment.refunded") and (
        amount != payment.amount or currency != payment.currency
    ):
        flagged = True
        reason = f"amount {amount} {currency} is not the {payment.amount} {payment.currency} asked"
    event = PaymentEvent(
        payment_id=payment.id if payment else None,
        provider_event_id=event_id,
        type=type,
        amount=amount,
        currency=currency,
        source=source,
        flagged=flagged,
        reason=reason,
        payload=payload or {},
    )
    session.add(event)
    session.flush()
    if payment is None:
        return event
    session.refresh(payment, ["events"])
    before = payment.status
    payment.status = derive_status(EventFact(e.type, e.flagged) for e in payment.events)
    if payment.status != before:
        audit.record(
            session,
            actor="system",
            action="payment.status",
            subject=f"payment:{payment.public_id}",
            data={"from": before, "to": payment.status, "event": event_id},
        )
    if payment.status in ("paid", "refunded"):  # a refund may arrive before its payment
        if payment.paid_at is None:
            payment.paid_at = datetime.datetime.now(datetime.UTC)
        settle(session, payment)
    session.flush()
    return event


def settle(session: Session, payment: Payment) -> None:
    """A paid payment files its draft, or moves its application on `on: paid`. Idempotent."""
    from madoguchi.services import filing, receipts, transitions
    from workflow.machine import StateMachine

    if payment.purpose == "before_submit":
        if payment.application_id is not None:
            return
        already = filing.existing_filing(session, payment.draft_public_id or "")
        if already is not None:
            payment.application_id = already.id
            return
        draft = session.scalars(
            select(Draft).where(Draft.public_id == payment.draft_public_id)
        ).first()
        if draft is None:
            return
        context = payment.context or {}
        resident = (
            session.get(Resident, context["resident_id"]) if context.get("resident_id") else None
        )
        try:
            filed = filing.file_draft(
                session,
                draft,
                email=str(context.get("email") or (resident.email if resident else "")),
                resident=resident,
                language=str(context.get("language") or "ja"),
                actor=str(context.get("actor") or "system"),
            )
        except filing.FilingError as error:
            # Checked before the resident paid; if the draft no longer files (say a
            # postal code left the city), the payment stands and the office follows up.
            audit.record(
                session,
                actor="system",
                action="payment.not_filed",
                subject=f"payment:{payment.public_id}",
                data={"draft": payment.draft_public_id, "problem": str(error)[:500]},
            )
            return
        payment.application_id = filed.application.id
        if filed.new:
            from madoguchi import mail

            application = filed.application
            procedure = transitions.procedure_of(session, application)
            subject, body = filing.receipt_mail(application, procedure)
            if application.applicant_email:
                mail.send_after_commit(application.applicant_email, subject, body)
            receipts.make_after_commit(application.id)
        return
    application = (
        session.get(Application, payment.application_id) if payment.application_id else None
    )
    if application is None:
        return
    procedure = transitions.procedure_of(session, application)
    transition = StateMachine(procedure).on_event(application.state, "paid")
    if transition is not None:
        transitions.take_action(
            session, application, transition.action, roles={"system"}, actor="system"
        )


def refund_paid(session: Session, application: Application) -> list[Payment]:
    """Refund every paid payment of an application that was rejected or withdrawn."""
    done = []
    for payment in payments_of(session, application):
        if payment.status != "paid" or payment.refund_id:
            continue
        refund = provider().refund(
            payment.provider_intent_id or "", payment.amount, f"refund-{payment.idempotency_key}"
        )
        payment.refund_id = refund.id
        audit.record(
            session,
            actor="system",
            action="payment.refund",
            subject=f"payment:{payment.public_id}",
            data={"application": application.receipt_number, "amount": payment.amount},
        )
        done.append(payment)
    session.flush()
    return done


STATUS_EVENTS = {
    "paid": "payment.paid",
    "failed": "payment.failed",
    "expired": "payment.expired",
    "refunded": "payment.refunded",
}


def refresh(session: Session, payment: Payment, *, source: str) -> None:
    """Ask the provider (`get_intent`) and record what it says as an event."""
    if not payment.provider_intent_id:
        return
    intent = provider().get_intent(payment.provider_intent_id)
    kind = STATUS_EVENTS.get(intent.status)
    if kind is None:
        return
    if kind == "payment.refunded" and payment.status != "paid":
        record_event(
            session,
            event_id=f"{source}:{intent.id}:paid",
            type="payment.paid",
            intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency,
            source=source,
        )
    record_event(
        session,
        event_id=f"{source}:{intent.id}:{intent.status}",
        type=kind,
        intent_id=intent.id,
        amount=intent.amount,
        currency=intent.currency,
        source=source,
    )


def reconcile(session: Session) -> list[Payment]:
    """Ask the provider about every payment still pending; returns those that moved."""
    moved = []
    for payment in session.scalars(select(Payment).where(Payment.status == "pending")).all():
        before = payment.status
        refresh(session, payment, source="reconcile")
        if payment.status != before:
            moved.append(payment)
    return moved


def handle_webhook(session: Session, header: str | None, body: bytes, *, now: float) -> bool:
    """Verify and record one webhook; False for a duplicate. Raises `WebhookRejected`."""
    verify(
        current_app.config["PAYMENT_WEBHOOK_SECRET"],
        header,
        body,
        now=now,
        tolerance=int(current_app.config["PAYMENT_WEBHOOK_TOLERANCE_SECONDS"]),
    )
    try:
        data = json.loads(body)
        intent = data["data"]
        event_id, kind = str(data["id"]), str(data["type"])
        intent_id = str(intent["id"])
    except (ValueError, KeyError, TypeError):
        raise WebhookRejected("malformed body") from None
    amount = intent.get("amount")
    return (
        record_event(
            session,
            event_id=event_id,
            type=kind,
            intent_id=intent_id,
            amount=amount if isinstance(amount, int) else None,
            currency=intent.get("currency"),
            source="webhook",
            payload=data,
        )
        is not None
    )
