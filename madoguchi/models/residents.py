"""Resident accounts and the one-time tokens mailed to them."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.models.base import Base, created_at


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stored lower-cased; unique
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: argon2 hash; None for an account created by the card app alone
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email_verified_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    #: what the My Number card app verified: name, address, postal_code, birth_date
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    identity_verified_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    #: the serial of the card that verified the identity: one account per card
    card_serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    created_at: Mapped[created_at]


class EmailToken(Base):
    """A one-time link: email verification, or a guest's filing session.

    Only the sha256 of the token is stored; the token itself is in the mail.
    """

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # verify | guest
    email: Mapped[str] = mapped_column(String(254))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    #: for a guest link: the procedure the guest is filing
    procedure_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
