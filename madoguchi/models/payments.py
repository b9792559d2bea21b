"""Cashless payment of fees: our payments and their append-only event log.

The `stub_*` tables belong to the local stand-in provider
(`madoguchi/payments/stub.py`): it keeps its own state there, as a real
provider would on its side, so that intents survive across processes.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from madoguchi.models.base import Base, created_at


class Payment(Base):
    """One fee payment: for a draft (`before_submit`) or an application (`after_approval`)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: the draft filed once this is paid (`before_submit`)
    draft_public_id: Mapped[str | None] = mapped_column(String(32), index=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )
    #: before_submit | after_approval
    purpose: Mapped[str] = mapped_column(String(16))
    #: yen
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    method: Mapped[str] = mapped_column(String(16))
    provider_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: pending | paid | failed | expired | refunded (derived from the events)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: who files the draft once paid: email, resident_id, language, actor
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    refund_id: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    events: Mapped[list[PaymentEvent]] = relationship(
        back_populates="payment", order_by="PaymentEvent.id"
    )


class PaymentEvent(Base):
    """What the provider told us, as received; never updated or deleted."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    #: the provider's event id; a duplicate delivery is ignored
    provider_event_id: Mapped[str] = mapped_column(String(80), unique=True)
    #: payment.paid | payment.failed | payment.expired | payment.refunded | payment.pending
    type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    #: webhook | return | reconcile
    source: Mapped[str] = mapped_column(String(16))
    #: stored but not counted (amount or currency not what we asked)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[created_at]

    payment: Mapped[Payment | None] = relationship(back_populates="events")


class StubIntent(Base):
    """The stand-in provider's payment intent."""

    __tablename__ = "stub_intents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    #: requires_action | paid | failed | expired | refunded
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    return_url: Mapped[str] = mapped_column(String(500))
    voucher: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created_at]


class StubWebhookDelivery(Base):
    """A webhook the stand-in provider owes us; re-sent until delivered."""

    __tablename__ = "stub_webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), index=True)
    body: Mapped[str] = mapped_column(Text)
    #: pending | delivered
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created_at]
