"""Cashless payment: the stand-in provider's pages, webhooks, filing once paid, refunds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from sqlalchemy import select
from werkzeug.test import TestResponse

from madoguchi import db
from madoguchi.models import Application, Draft, Payment, PaymentEvent, StubIntent
from madoguchi.payments import service
from madoguchi.payments.stub import StubProvider
from madoguchi.services import transitions

SECRET = "stub-webhook-secret"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def go_pay(
    client: FlaskClient,
    app: Flask,
    procedure_id: str,
    method: str,
    answers: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """Fill a `before_submit` procedure and choose `method`: (draft id, stub page path)."""
    review_url = Walk(client, app, procedure_id, answers=answers or {}).to_review()
    review = client.get(review_url + "?lang=en")
    assert "How do you pay the fee?" in review.text
    response = client.post(
        review_url.replace("/review", "/file"),
        data={"csrf_token": csrf_of(review.text), "declaration": "yes", "method": method},
    )
    assert response.status_code == 302, response.text
    assert "/pay-stub/intents/" in response.headers["Location"]
    draft_id = review_url.split("/drafts/")[1].split("/")[0]
    return draft_id, _path(response.headers["Location"])


def follow(client: FlaskClient, response: TestResponse) -> TestResponse:
    assert response.status_code == 302, response.text
    return client.get(_path(response.headers["Location"]))


def payment_of_draft(app: Flask, draft_id: str) -> Payment:
    with app.app_context():
        payment = service.payment_for_draft(db.session(), draft_id)
        assert payment is not None
        db.session().expunge(payment)
        return payment


def filed_for(app: Flask, draft_id: str) -> Application | None:
    with app.app_context():
        found = (
            db.session()
            .scalars(select(Application).where(Application.draft_public_id == draft_id))
            .first()
        )
        if found is not None:
            db.session().expunge(found)
        return found


@pytest.fixture
def config(app: Flask) -> Iterator[dict[str, Any]]:
    """app.config, restored after the test."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def test_card_payment_files_the_application(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    assert filed_for(app, draft_id) is None, "not filed before payment"
    page = client.get(stub_page)
    assert "4242" in page.text
    paid = client.post(stub_page + "/card", data={"number": "4242 4242 4242 4242"})
    back = follow(client, paid)
    assert back.status_code == 302
    assert "/receipt" in back.headers["Location"]
    application = filed_for(app, draft_id)
    assert application is not None
    assert application.fee_total >= 3000
    payment = payment_of_draft(app, draft_id)
    assert payment.status == "paid"
    assert payment.amount == application.fee_total
    assert payment.application_id == application.id
    with app.app_context():
        assert (
            db.session().scalars(select(Draft).where(Draft.public_id == draft_id)).first() is None
        )
    detail = client.get(f"/applications/{application.public_id}?lang=en")
    assert "Receipt of payment" in detail.text
    assert "Paid" in detail.text
    receipt = client.get(
        f"/payments/applications/{application.public_id}/receipts/{payment.public_id}"
    )
    assert receipt.status_code == 200
    assert str(payment.provider_intent_id) in receipt.text


def test_declined_card_keeps_the_draft_for_a_retry(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    declined = client.post(stub_page + "/card", data={"number": "4000000000000002"})
    back = follow(client, declined)
    assert back.headers["Location"].endswith("/review")
    assert filed_for(app, draft_id) is None
    assert payment_of_draft(app, draft_id).status == "failed"
    review = client.get(f"/drafts/{draft_id}/review")
    retry = client.post(
        f"/drafts/{draft_id}/file",
        data={"csrf_token": csrf_of(review.text), "declaration": "yes", "method": "card"},
    )
    second = _path(retry.headers["Location"])
    assert second != stub_page, "a new attempt gets a new intent"
    follow(client, client.post(second + "/card", data={"number": "4242424242424242"}))
    assert filed_for(app, draft_id) is not None


def test_qr_wallet_payment(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "hanako@example.jp")
    draft_id, stub_page = go_pay(client, app, "juminhyo-copy", "qr", {"purpose": "employment"})
    wallet = client.get(stub_page + "/wallet")
    assert "Approve" in wallet.text
    follow(client, client.post(stub_page + "/wallet", data={"outcome": "paid"}))
    assert filed_for(app, draft_id) is not None


def test_payeasy_before_filing_is_paid_later_or_expires(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "payeasy")
    page = client.get(stub_page)
    assert "収納機関番号" in page.text
    assert "確認番号" in page.text
    back = client.get(f"/payments/return/drafts/{draft_id}")
    assert back.headers["Location"].endswith("/review"), "pending: not filed yet"
    assert filed_for(app, draft_id) is None
    client.post(stub_page + "/admin", data={"outcome": "expired"})
    assert payment_of_draft(app, draft_id).status == "expired"
    assert filed_for(app, draft_id) is None
    with app.app_context():
        assert db.session().scalars(select(Draft).where(Draft.public_id == draft_id)).first()


def test_konbini_voucher_is_paid_later(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "oversized-garbage", "konbini")
    assert "payment number" in client.get(stub_page).text
    assert filed_for(app, draft_id) is None
    client.post(stub_page + "/admin", data={"outcome": "paid"})  # paid at the store
    assert filed_for(app, draft_id) is not None


def _road_occupancy_awaiting_payment(app: Flask, client: FlaskClient) -> str:
    log_in_resident(client, "builder@example.jp")
    filed = Walk(client, app, "road-occupancy").file()
    assert filed.status_code == 302
    assert "/applications/" in filed.headers["Location"]
    public_id = filed.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(session, application, "start_review", roles={"clerk"}, actor="c")
        transitions.take_action(session, application, "recommend", roles={"clerk"}, actor="c")
        transitions.take_action(
            session,
            application,
            "approve",
            roles={"supervisor"},
            actor="s",
            fields={"decision_no": "大建道第1号"},
        )
        assert application.state == "payment"
        db.commit()
    return public_id


def test_after_approval_payeasy_fires_the_paid_transition(
    app: Flask, client: FlaskClient, published: None
) -> None:
    public_id = _road_occupancy_awaiting_payment(app, client)
    page = client.get(f"/applications/{public_id}?lang=en")
    assert "Pay now" in page.text
    started = client.post(
        f"/payments/applications/{public_id}/pay",
        data={
            "csrf_token": csrf_of(page.text.split("payments/applications")[1]),
            "method": "payeasy",
        },
    )
    assert started.status_code == 302
    stub_page = _path(started.headers["Location"])
    assert "納付番号" in client.get(stub_page).text
    client.post(stub_page + "/admin", data={"outcome": "paid"})
    with app.app_context():
        application = (
            db.session()
            .scalars(select(Application).where(Application.public_id == public_id))
            .one()
        )
        assert application.state == "permitted"
        assert [e.action for e in application.events][-1] == "paid"
        assert application.events[-1].by_role == "system"
    after = client.get(f"/applications/{public_id}?lang=en")
    assert "Pay now" not in after.text
    assert "Receipt of payment" in after.text


def test_staff_page_shows_payment_events(app: Flask, client: FlaskClient, published: None) -> None:
    import sys
    from pathlib import Path

    sys.path.append(str(Path(__file__).resolve().parent.parent / "office"))
    from work_helpers import staff_client

    public_id = _road_occupancy_awaiting_payment(app, client)
    page = client.get(f"/applications/{public_id}?lang=en")
    started = client.post(
        f"/payments/applications/{public_id}/pay",
        data={"csrf_token": csrf_of(page.text.split("payments/applications")[1]), "method": "card"},
    )
    stub_page = _path(started.headers["Location"])
    follow(client, client.post(stub_page + "/card", data={"number": "4242424242424242"}))
    with app.app_context():
        events = db.session().scalars(select(PaymentEvent)).all()
        assert [e.type for e in events] == ["payment.paid"]
    clerk, _ = staff_client(app, "clerk@city.example.jp", [("city-hall", "clerk")])
    office_page = clerk.get(f"/office/applications/{public_id}?lang=en")
    assert office_page.status_code == 200
    assert "Payment: payment.paid ¥" in office_page.text


# --- the webhook endpoint ----------------------------------------------------------


def _pending_payment(app: Flask, amount: int = 3000) -> tuple[str, str]:
    """A pending payment with its stub intent: (payment public id, intent id)."""
    with app.test_request_context():
        payment, intent = service.start(
            db.session(),
            amount=amount,
            method="card",
            description="test",
            return_url="http://localhost/",
            purpose="after_approval",
            application=None,
            draft_public_id="no-such-draft",
        )
        db.commit()
        return payment.public_id, intent.id


def _status(app: Flask, public_id: str) -> str:
    with app.app_context():
        payment = db.session().scalars(select(Payment).where(Payment.public_id == public_id)).one()
        return payment.status


def webhook(
    client: FlaskClient,
    event_id: str,
    kind: str,
    intent_id: str,
    amount: int = 3000,
    *,
    currency: str = "JPY",
    secret: str = SECRET,
    at: float | None = None,
) -> TestResponse:
    body = json.dumps(
        {
            "id": event_id,
            "type": kind,
            "data": {"id": intent_id, "amount": amount, "currency": currency},
        }
    ).encode()
    header = service.sign(secret, int(at if at is not None else time.time()), body)
    return client.post(
        "/payments/webhook",
        data=body,
        headers={"Madoguchi-Stub-Signature": header, "Content-Type": "application/json"},
    )


def test_forged_signature_is_refused(app: Flask, client: FlaskClient) -> None:
    public_id, intent_id = _pending_payment(app)
    response = webhook(client, "evt_1", "payment.paid", intent_id, secret="guess")
    assert response.status_code == 400
    assert client.post("/payments/webhook", data=b"{}").status_code == 400
    assert _status(app, public_id) == "pending"


def test_old_timestamp_is_refused(app: Flask, client: FlaskClient) -> None:
    public_id, intent_id = _pending_payment(app)
    response = webhook(client, "evt_1", "payment.paid", intent_id, at=time.time() - 301)
    assert response.status_code == 400
    assert _status(app, public_id) == "pending"


def test_duplicate_event_is_ignored(app: Flask, client: FlaskClient) -> None:
    public_id, intent_id = _pending_payment(app)
    assert webhook(client, "evt_1", "payment.paid", intent_id).text == "ok"
    assert webhook(client, "evt_1", "payment.paid", intent_id).text == "duplicate"
    with app.app_context():
        assert len(db.session().scalars(select(PaymentEvent)).all()) == 1
    assert _status(app, public_id) == "paid"


def test_wrong_amount_is_stored_but_ignored(app: Flask, client: FlaskClient) -> None:
    public_id, intent_id = _pending_payment(app)
    assert webhook(client, "evt_1", "payment.paid", intent_id, amount=30).status_code == 200
    assert webhook(client, "evt_2", "payment.paid", intent_id, currency="USD").status_code == 200
    assert _status(app, public_id) == "pending"
    with app.app_context():
        events = db.session().scalars(select(PaymentEvent)).all()
        assert [e.flagged for e in events] == [True, True]
        assert "not the 3000" in (events[0].reason or "")


def test_paid_does_not_move_backwards(app: Flask, client: FlaskClient) -> None:
    public_id, intent_id = _pending_payment(app)
    webhook(client, "evt_2", "payment.paid", intent_id)
    webhook(client, "evt_1", "payment.failed", intent_id)  # late, out of order
    webhook(client, "evt_3", "payment.pending", intent_id)
    assert _status(app, public_id) == "paid"


def test_same_idempotency_key_gives_the_same_intent(app: Flask) -> None:
    with app.test_request_context():
        stub = StubProvider()
        first = stub.create_intent(500, "JPY", "card", "key-1", "x", "http://localhost/")
        again = stub.create_intent(500, "JPY", "card", "key-1", "x", "http://localhost/")
        other = stub.create_intent(500, "JPY", "card", "key-2", "x", "http://localhost/")
        assert first.id == again.id != other.id
        assert len(db.session().scalars(select(StubIntent)).all()) == 2


def test_starting_twice_reuses_the_pending_payment(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, first = go_pay(client, app, "dog-registration", "card")
    review = client.get(f"/drafts/{draft_id}/review")
    again = client.post(
        f"/drafts/{draft_id}/file",
        data={"csrf_token": csrf_of(review.text), "declaration": "yes", "method": "card"},
    )
    assert _path(again.headers["Location"]) == first
    with app.app_context():
        assert len(db.session().scalars(select(Payment)).all()) == 1


# --- refunds, reconciliation, re-delivery -----------------------------------------------


def test_withdrawal_after_payment_is_refunded(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    follow(client, client.post(stub_page + "/card", data={"number": "4242424242424242"}))
    with app.app_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.draft_public_id == draft_id)
        ).one()
        withdraw = next(
            t.action
            for t in transitions.allowed_actions(session, application, {"applicant"})
            if t.to == "withdrawn" or "withdraw" in t.action
        )
        transitions.take_action(session, application, withdraw, roles={"applicant"}, actor="r")
        db.commit()
    payment = payment_of_draft(app, draft_id)
    assert payment.refund_id is not None
    assert payment.status == "refunded", "the provider's refund webhook arrived"
    with app.app_context():
        intent = db.session().get(StubIntent, payment.provider_intent_id)
        assert intent is not None
        assert intent.status == "refunded"


def test_reconcile_asks_the_provider_for_pending_payments(
    app: Flask, client: FlaskClient, published: None, config: dict[str, Any], runner: Any
) -> None:
    config["PAYMENT_STUB_DELIVERY"] = "none"  # the webhook is lost
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    client.post(stub_page + "/card", data={"number": "4242424242424242"})  # never comes back
    assert filed_for(app, draft_id) is None
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "1 payment(s) moved" in result.output
    assert filed_for(app, draft_id) is not None
    assert payment_of_draft(app, draft_id).status == "paid"


def test_deliver_resends_pending_webhooks(
    app: Flask, client: FlaskClient, published: None, config: dict[str, Any], runner: Any
) -> None:
    config["PAYMENT_STUB_DELIVERY"] = "none"
    log_in_resident(client, "taro@example.jp")
    draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    client.post(stub_page + "/card", data={"number": "4242424242424242"})
    config["PAYMENT_STUB_DELIVERY"] = "inprocess"
    result = runner.invoke(args=["payments", "deliver"])
    assert "1 delivered, 0 still pending" in result.output, result.output
    assert filed_for(app, draft_id) is not None
    again = runner.invoke(args=["payments", "deliver"])
    assert "0 delivered" in again.output


def test_chaos_duplicates_are_harmless(
    app: Flask, client: FlaskClient, published: None, config: dict[str, Any]
) -> None:
    config["PAYMENT_STUB_CHAOS"] = True
    log_in_resident(client, "taro@example.jp")
    _draft_id, stub_page = go_pay(client, app, "dog-registration", "card")
    follow(client, client.post(stub_page + "/card", data={"number": "4242424242424242"}))
    with app.app_context():
        assert len(db.session().scalars(select(Application)).all()) == 1
        events = db.session().scalars(select(PaymentEvent)).all()
        assert len([e for e in events if e.source == "webhook"]) == 1
