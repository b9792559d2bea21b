"""The payment port: what Madoguchi needs from a payment provider, and the methods.

A provider is anything with `create_intent`, `get_intent` and `refund`;
the local stand-in (`stub.py`) is one, a real provider's adapter is
another.  The methods a resident may choose are a registry: adding a
method is one class below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Intent:
    id: str
    #: requires_action | paid | failed | expired | refunded
    status: str
    amount: int
    currency: str
    method: str
    #: where to send the resident to pay (the provider's hosted page)
    redirect_url: str
    #: konbini / Pay-easy numbers the resident pays with later
    voucher: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    id: str
    intent_id: str
    amount: int


class Provider(Protocol):
    def create_intent(
        self,
        amount: int,
        currency: str,
        method: str,
        idempotency_key: str,
        description: str,
        return_url: str,
    ) -> Intent: ...

    def get_intent(self, intent_id: str) -> Intent: ...

    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> Refund: ...


class Method:
    """A payment method: its id, its label and what the resident sees."""

    id: ClassVar[str]
    label: ClassVar[Any]
    #: what happens after choosing it
    explanation: ClassVar[Any]
    #: paid at once on the hosted page (card, QR) or later at a counter/ATM
    immediate: ClassVar[bool]


METHODS: dict[str, type[Method]] = {}


def method(cls: type[Method]) -> type[Method]:
    METHODS[cls.id] = cls
    return cls


@method
class Card(Method):
    id = "card"
    label = _l("Credit card")
    explanation = _l("Enter your card on the payment page; the payment is made at once.")
    immediate = True


@method
class Konbini(Method):
    id = "konbini"
    label = _l("Convenience store")
    explanation = _l("You get a payment number to pay at a convenience store within a few days.")
    immediate = False


@method
class Qr(Method):
    id = "qr"
    label = _l("QR code wallet")
    explanation = _l("You are sent to your wallet app to approve the payment, then back here.")
    immediate = True


@method
class PayEasy(Method):
    id = "payeasy"
    label = _l("Pay-easy")
    explanation = _l("You get the numbers to pay at a bank ATM or in online banking.")
    immediate = False


def provider() -> Provider:
    """The configured provider: the stand-in unless a deployment installs its own."""
    found: Provider | None = current_app.extensions.get("madoguchi.payments")
    if found is None:
        raise RuntimeError("no payment provider configured (PAYMENT_STUB_ENABLED is off)")
    return found
