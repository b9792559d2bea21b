"""A local stand-in payment provider at /pay-stub/, for development and tests.

It imitates a real provider with its own state (the `stub_*` tables):
intents with idempotency keys, a hosted page per method, and webhooks
signed with HMAC-SHA256 over ``timestamp + "." + body`` in the header
`Madoguchi-Stub-Signature: t=...,v1=...`, sent after the state change.

Delivery (config PAYMENT_STUB_DELIVERY): "inprocess" posts each webhook
through the app itself (its test client) right after the commit that
changed the intent -- honest for a stand-in living in the same process,
and synchronous in tests; "http" POSTs it with urllib to
PUBLIC_BASE_URL/payments/webhook; "none" leaves it pending.  Every webhook
is a `stub_webhook_deliveries` row first; one that fails stays pending and
`madoguchi payments deliver` re-sends it.  PAYMENT_STUB_CHAOS sends each
one twice (a duplicate, re-signed) to exercise our idempotency.

Production turns the stand-in off (MADOGUCHI_PAYMENT_STUB_ENABLED=false)
and installs a real provider's adapter as app.extensions["madoguchi.payments"].
Its pages are not translated: they stand for a provider's own site.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template_string, request
from flask import url_for as flask_url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from madoguchi import db
from madoguchi.models import StubIntent, StubWebhookDelivery
from madoguchi.payments.port import METHODS, Intent, Refund
from madoguchi.payments.service import sign

SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"

bp = Blueprint("pay_stub", __name__, url_prefix="/pay-stub")


def _intent(row: StubIntent) -> Intent:
    return Intent(
        id=row.id,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        method=row.method,
        redirect_url=f"{bp.url_prefix}/intents/{row.id}",
        voucher=dict(row.voucher or {}),
    )


def _voucher(method: str) -> dict[str, Any]:
    digits = lambda n: "".join(secrets.choice("0123456789") for _ in range(n))  # noqa: E731
    if method == "konbini":
        return {"payment_number": digits(12), "expires_in_days": 3}
    if method == "payeasy":
        return {"collector": "58191", "customer": digits(16), "confirmation": digits(6)}
    return {}


class StubProvider:
    """The port implemented against the stand-in's own tables."""

    def create_intent(
        self,
        amount: int,
        currency: str,
        method: str,
        idempotency_key: str,
        description: str,
        return_url: str,
    ) -> Intent:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        session = db.session()
        row = session.scalars(
            select(StubIntent).where(StubIntent.idempotency_key == idempotency_key)
        ).first()
        if row is None:
            row = StubIntent(
                id=f"pi_{secrets.token_hex(12)}",
                idempotency_key=idempotency_key,
                amount=amount,
                currency=currency,
                method=method,
                status="requires_action",
                description=description[:200],
                return_url=return_url,
                voucher=_voucher(method),
            )
            session.add(row)
            session.flush()
        return _intent(row)

    def get_intent(self, intent_id: str) -> Intent:
        row = db.session().get(StubIntent, intent_id)
        if row is None:
            raise KeyError(intent_id)
        return _intent(row)

    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> Refund:
        row = db.session().get(StubIntent, intent_id)
        if row is None:
            raise KeyError(intent_id)
        if row.status != "refunded":
            row.refunded_amount = amount
            change(row, "refunded")
        return Refund(id=f"re_{intent_id}", intent_id=intent_id, amount=row.refunded_amount)


# --- state changes and webhooks ---------------------------------------------------


def change(row: StubIntent, status: str) -> None:
    """Move an intent and queue its webhook, sent after the commit."""
    row.status = status
    body = json.dumps(
        {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": f"payment.{status}",
            "created": int(time.time()),
            "data": {
                "id": row.id,
                "status": status,
                "amount": row.refunded_amount if status == "refunded" else row.amount,
                "currency": row.currency,
                "method": row.method,
            },
        },
        sort_keys=True,
    )
    delivery = StubWebhookDelivery(event_id=json.loads(body)["id"], body=body, status="pending")
    session = db.session()
    session.add(delivery)
    session.flush()
    if current_app.config.get("PAYMENT_STUB_DELIVERY", "inprocess") != "none":
        delivery_id = delivery.id
        db.after_commit(lambda: deliver_pending([delivery_id]))


def _post(body: str) -> int:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    raw = body.encode()
    header = sign(app.config["PAYMENT_WEBHOOK_SECRET"], int(time.time()), raw)
    headers = {"Content-Type": "application/json", "Madoguchi-Stub-Signature": header}
    if app.config.get("PAYMENT_STUB_DELIVERY") == "http":
        base = (app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        outgoing = urllib.request.Request(  # noqa: S310 - our own configured base URL
            base + "/payments/webhook", data=raw, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=10) as answer:  # noqa: S310
                return int(answer.status)
        except OSError:
            return 0
    response = app.test_client().post("/payments/webhook", data=raw, headers=headers)
    return response.status_code


def deliver_pending(ids: list[int] | None = None) -> tuple[int, int]:
    """Send pending webhooks (all, or `ids`); returns (delivered, still pending)."""
    session = db.session()
    query = select(StubWebhookDelivery).where(StubWebhookDelivery.status == "pending")
    if ids is not None:
        query = query.where(StubWebhookDelivery.id.in_(ids))
    pending = [
        (row.id, row.body) for row in session.scalars(query.order_by(StubWebhookDelivery.id))
    ]
    session.commit()  # no transaction (nor SQLite write lock) held while our endpoint runs
    delivered = 0
    for delivery_id, body in pending:
        status = _post(body)
        if current_app.config.get("PAYMENT_STUB_CHAOS"):
            _post(body)  # a duplicate, as real providers sometimes send
        row = session.get(StubWebhookDelivery, delivery_id)
        assert row is not None
        row.attempts += 1
        if status == 200:
            row.status = "delivered"
            delivered += 1
        session.commit()
    return delivered, len(pending) - delivered


# --- the hosted pages -------------------------------------------------------------

PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>Pay-stub</title></head><body><main>
<h1>Pay-stub ({{ row.method }})</h1>
<p>{{ row.description }}: ¥{{ "{:,}".format(row.amount) }}
 — status: <strong>{{ row.status }}</strong></p>
{% if row.method == "card" and row.status == "requires_action" %}
<form method="post" action="{{ url_for('pay_stub.card', intent_id=row.id) }}">
<label>Card number <input name="number" value="4242424242424242"></label>
<button>Pay</button></form>
<p>Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
{% elif row.method == "qr" and row.status == "requires_action" %}
<p><a href="{{ url_for('pay_stub.wallet', intent_id=row.id) }}">Open the wallet app</a></p>
{% elif row.method == "konbini" %}
<p>お支払い番号 (payment number): <strong>{{ row.voucher.payment_number }}</strong></p>
{% elif row.method == "payeasy" %}
<dl><dt>収納機関番号</dt><dd>{{ row.voucher.collector }}</dd>
<dt>納付番号</dt><dd>{{ row.voucher.customer }}</dd>
<dt>確認番号</dt><dd>{{ row.voucher.confirmation }}</dd></dl>
{% endif %}
{% if row.method in ("konbini", "payeasy") and row.status == "requires_action" %}
<form method="post" action="{{ url_for('pay_stub.admin', intent_id=row.id) }}">
<button name="outcome" value="paid">[stub admin] mark paid</button>
<button name="outcome" value="expired">[stub admin] expire</button></form>
{% endif %}
<p><a href="{{ row.return_url }}">Return to Madoguchi</a></p>
</main></body></html>"""

WALLET = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Wallet</title></head>
<body><main><h1>Wallet</h1><p>{{ row.description }}: ¥{{ "{:,}".format(row.amount) }}</p>
<form method="post" action="{{ url_for('pay_stub.wallet', intent_id=row.id) }}">
<button name="outcome" value="paid">Approve</button>
<button name="outcome" value="failed">Cancel</button></form></main></body></html>"""


def _row(intent_id: str) -> StubIntent:
    row = db.session().get(StubIntent, intent_id)
    if row is None:
        abort(404)
    return row


def hosted(intent_id: str) -> str:
    return render_template_string(PAGE, row=_row(intent_id))


def card(intent_id: str) -> Response:
    row = _row(intent_id)
    number = "".join(ch for ch in request.form.get("number", "") if ch.isdigit())
    if row.status == "requires_action":
        change(row, "paid" if number == SUCCESS_CARD else "failed")
        db.commit()
    return redirect(row.return_url)


def wallet(intent_id: str) -> Response | str:
    row = _row(intent_id)
    if request.method == "GET":
        return render_template_string(WALLET, row=row)
    if row.status == "requires_action":
        change(row, "paid" if request.form.get("outcome") == "paid" else "failed")
        db.commit()
    return redirect(row.return_url)


def admin(intent_id: str) -> Response:
    """The stand-in's back office: a konbini / Pay-easy payment arrives, or expires."""
    row = _row(intent_id)
    outcome = request.form.get("outcome")
    if row.status == "requires_action" and outcome in ("paid", "expired"):
        change(row, outcome)
        db.commit()
    return redirect(flask_url_for("pay_stub.hosted", intent_id=intent_id))


bp.add_url_rule("/intents/<intent_id>", "hosted", hosted)
bp.add_url_rule("/intents/<intent_id>/card", "card", card, methods=["POST"])
bp.add_url_rule("/intents/<intent_id>/wallet", "wallet", wallet, methods=["GET", "POST"])
bp.add_url_rule("/intents/<intent_id>/admin", "admin", admin, methods=["POST"])


def init_app(app: Flask) -> None:
    from madoguchi.security import csrf

    # The stand-in imitates another site: its forms carry no token of ours.
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.extensions.setdefault("madoguchi.payments", StubProvider())
