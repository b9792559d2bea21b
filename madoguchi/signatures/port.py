"""What Madoguchi needs from an electronic-signature provider (JPKI in production)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Status = Literal["valid", "mismatch", "revoked", "expired", "untrusted"]


@dataclass(frozen=True)
class Verification:
    status: Status
    signer_name: str
    signed_at: datetime.datetime | None
    message: str

    @property
    def valid(self) -> bool:
        return self.status == "valid"


@runtime_checkable
class SignaturePort(Protocol):
    def sign_request(self, draft_public_id: str, return_url: str) -> str:
        """Where to send the resident to sign the draft; they come back to `return_url`."""
        ...

    def verify(
        self,
        content: bytes,
        signature: bytes,
        certificate_pem: str,
        signed_at: datetime.datetime,
        *,
        revoked: bool = False,
    ) -> Verification:
        """Whether `signature` over `content` holds, by a certificate of the trusted CA."""
        ...
