"""Random webhook sequences: duplicates, reordering, forgeries, wrong amounts.

Properties: a payment is paid iff a genuine paid event with the right
amount arrived (refunded iff a genuine refund came too); once paid it never
moves back; forged or stale deliveries change nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from madoguchi import db
from madoguchi.models import Application, Payment
from madoguchi.payments import service
from madoguchi.payments.service import EventFact, derive_status
from madoguchi.security import limiter

sys.path.append(str(Path(__file__).resolve().parent.parent / "office"))
from work_helpers import clone_application

SECRET = "stub-webhook-secret"
KINDS = ["payment.paid", "payment.failed", "payment.expired", "payment.refunded", "payment.pending"]

event = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=6),  # small: duplicates are likely
        "kind": st.sampled_from(KINDS),
        "amount": st.sampled_from(["right", "right", "right", "less", "zero"]),
        "currency": st.sampled_from(["JPY", "JPY", "JPY", "USD"]),
        "forged": st.sampled_from([False, False, False, True]),
        "stale": st.sampled_from([False, False, False, False, True]),
    }
)


def expected(sequence: list[dict]) -> str:
    """The model: the first delivery of each event id counts, if genuine."""
    seen: set[int] = set()
    paid = refunded = False
    failure = None
    for e in sequence:
        if e["forged"] or e["stale"]:
            continue
        if e["id"] in seen:
            continue
        seen.add(e["id"])
        right = e["amount"] == "right" and e["currency"] == "JPY"
        if e["kind"] == "payment.paid" and right:
            paid = True
        elif e["kind"] == "payment.refunded" and right:
            refunded = True
        elif e["kind"] in ("payment.failed", "payment.expired"):
            failure = e["kind"].removeprefix("payment.")
    if paid:
        return "refunded" if refunded else "paid"
    return failure or "pending"


@given(st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), max_size=12))
@settings(max_examples=300, deadline=None)
def test_derivation_is_order_independent_for_final_states(events: list[tuple[str, bool]]) -> None:
    facts = [EventFact(kind, flagged) for kind, flagged in events]
    status = derive_status(facts)
    genuine = {kind for kind, flagged in events if not flagged}
    assert (status in ("paid", "refunded")) == ("payment.paid" in genuine)
    assert (status == "refunded") == ({"payment.paid", "payment.refunded"} <= genuine)
    assert derive_status(reversed(facts)) in (status,) or status not in ("paid", "refunded")
    # never backwards: whatever comes after a genuine paid, it stays paid or refunded
    for index, (kind, flagged) in enumerate(events):
        if kind == "payment.paid" and not flagged:
            for end in range(index + 1, len(facts) + 1):
                assert derive_status(facts[:end]) in ("paid", "refunded")


@pytest.fixture
def property_app(migrated_app: Flask, engine: Engine) -> Iterator[tuple[Flask, str]]:
    """The app on one outer transaction for the whole property run (one rollback at the end),
    with a road-occupancy application waiting in its `pay: true` state to clone."""
    from test_payments import _road_occupancy_awaiting_payment

    from madoguchi.catalogue import catalogue

    database = migrated_app.extensions["madoguchi.db"]
    connection = engine.connect()
    outer = connection.begin()
    original = database.sessionmaker
    database.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        limiter.reset()
        with migrated_app.app_context():
            catalogue().publish(db.session(), by="test")
            db.session().commit()
        public_id = _road_occupancy_awaiting_payment(migrated_app, migrated_app.test_client())
        yield migrated_app, public_id
    finally:
        database.sessionmaker = original
        outer.rollback()
        connection.close()


counter = iter(range(1, 10_000_000))


@given(st.lists(event, max_size=12))
@settings(
    max_examples=int(os.environ.get("PAYMENT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_endpoint_keeps_payment_and_application_right(
    property_app: tuple[Flask, str], sequence: list[dict]
) -> None:
    app, template = property_app
    run = next(counter)
    (copy,) = clone_application(app, template, 1, state="payment")
    with app.test_request_context():
        application = (
            db.session().scalars(select(Application).where(Application.public_id == copy)).one()
        )
        amount = application.fee_total
        assert amount > 0
        payment, intent = service.start(
            db.session(),
            amount=amount,
            method="card",
            description="property",
            return_url="http://localhost/",
            purpose="after_approval",
            application=application,
        )
        db.commit()
        public_id, intent_id = payment.public_id, intent.id
    sent = {"right": amount, "less": amount - 1, "zero": 0}
    client = app.test_client()
    was_paid = False
    for index, e in enumerate(sequence):
        body = json.dumps(
            {
                "id": f"evt-{run}-{e['id']}",
                "type": e["kind"],
                "data": {"id": intent_id, "amount": sent[e["amount"]], "currency": e["currency"]},
            }
        ).encode()
        at = time.time() - (600 if e["stale"] else 0)
        header = service.sign("forged" if e["forged"] else SECRET, int(at), body)
        response = client.post(
            "/payments/webhook", data=body, headers={"Madoguchi-Stub-Signature": header}
        )
        assert response.status_code == (400 if e["forged"] or e["stale"] else 200)
        with app.app_context():
            status = (
                db.session()
                .scalars(select(Payment.status).where(Payment.public_id == public_id))
                .one()
            )
            state = (
                db.session()
                .scalars(select(Application.state).where(Application.public_id == copy))
                .one()
            )
        want = expected(sequence[: index + 1])
        assert status == want
        assert (state == "permitted") == (want in ("paid", "refunded")), (state, want)
        if was_paid:
            assert status in ("paid", "refunded"), "never backwards"
        was_paid = was_paid or status == "paid"
