"""Ward-office staff: accounts with a second factor, and roles held at offices."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from madoguchi.models.base import Base, created_at


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stored lower-cased; unique
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: argon2 hash
    password_hash: Mapped[str] = mapped_column(String(200))
    #: base32 TOTP secret (RFC 6238); None until the second factor is enrolled
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    #: the last TOTP time step accepted, so a code cannot be used twice
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffRole.id"
    )

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def roles_at(self, office_id: str) -> set[str]:
        """The roles this person holds at `office_id` (none when disabled)."""
        if not self.active:
            return set()
        return {r.role for r in self.roles if r.office_id == office_id}

    @property
    def office_ids(self) -> set[str]:
        return {r.office_id for r in self.roles} if self.active else set()


class StaffRole(Base):
    """One role held at one office: `clerk` at `kita`, `supervisor` at `city-hall`..."""

    __tablename__ = "staff_roles"
    __table_args__ = (
        UniqueConstraint("staff_id", "office_id", "role", name="uq_staff_roles_staff_office_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship(back_populates="roles")


class ApplicationNote(Base):
    """An internal note on an application: staff only, never shown to the applicant."""

    __tablename__ = "application_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
