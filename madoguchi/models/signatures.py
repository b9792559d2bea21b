"""Electronic signatures of applications (the applicant's, made with the card app)."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.models.base import Base, created_at


class ApplicationSignature(Base):
    """The applicant's signature over an application's canonical bytes.

    Made on a draft (`draft_public_id`), it is attached to the application
    (`application_id`) when the draft is filed.  `revoked_at` is the
    revocation list: set on every certificate of a resident whose name or
    address changes, as JPKI revokes the signing certificate.
    """

    __tablename__ = "application_signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_public_id: Mapped[str] = mapped_column(String(32), index=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    #: sha256 of the canonical bytes signed (to tell "signed" from "must sign again")
    content_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_pem: Mapped[str] = mapped_column(Text)
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
