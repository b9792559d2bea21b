"""What Madoguchi needs from a My Number card identity provider.

The resident's phone app reads the card and checks the PIN of the user
certificate (利用者証明用電子証明書); the provider then tells us who the
card holder is.  The round trip is the usual authorization-code shape: we
send the resident to `authorize_url(state, return_url)`, the provider
sends them back to `return_url` with `code` and `state` (or `error` and
`state`), and we `exchange(code)` server-side for a `VerifiedIdentity`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class VerifiedIdentity:
    """The basic four facts on the card (基本4情報 less sex) and the card's serial."""

    name: str
    address: str
    #: seven ASCII digits, as `forms.normalise.normalise_postal_code` makes them
    postal_code: str
    #: ISO 8601, ``1988-06-15``
    birth_date: str
    #: identifies the card holder's certificate; accounts are keyed by it
    card_serial: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class IdentityError(Exception):
    """The provider refused: `code` is machine-readable (``invalid_code``, ``expired_code``...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@runtime_checkable
class IdentityProvider(Protocol):
    def authorize_url(self, state: str, return_url: str) -> str:
        """Where to send the resident; they come back to `return_url` with `state`."""
        ...

    def exchange(self, code: str) -> VerifiedIdentity:
        """The identity behind a one-time `code`; raises `IdentityError`."""
        ...
