"""Drafts, filed applications, their history, files and receipt numbers."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from madoguchi.models.base import Base, created_at, language_id, utcnow


class Draft(Base):
    """A resident's (or a verified guest's) unfinished filing, saved page by page."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the id in URLs: random, so drafts cannot be enumerated
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    guest_email: Mapped[str | None] = mapped_column(String(254))
    #: the procedure version the draft was started on (pinned to the end)
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    procedure_id: Mapped[language_id]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: pages the resident has completed, in order
    completed_pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: proxy filing: the answers of the built-in "who is filing" page
    proxy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: set when the draft is a correction of a filed application
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    files: Mapped[list[StoredFile]] = relationship(back_populates="draft")


class Application(Base):
    """A filed application: answers, files and the pinned procedure version."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_office_state_due", "office_id", "state", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    receipt_number: Mapped[str] = mapped_column(String(32), unique=True)
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    procedure_id: Mapped[language_id] = mapped_column(index=True)
    #: sha256 of the procedure version, kept with the answers it explains
    procedure_fingerprint: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    state_entered_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    applicant_email: Mapped[str] = mapped_column(String(254))
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    proxy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: online | counter
    channel: Mapped[str] = mapped_column(String(16), default="online")
    #: the draft it was filed from: unique, so a double tap files once
    draft_public_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    filed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[datetime.date | None] = mapped_column(Date)
    fee_total: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    #: the staff member working on it (claimed); None while unclaimed
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    #: for counter filing (代行入力, `channel` "counter"): the clerk who filed it
    counter_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL")
    )
    #: optimistic locking: every update checks and bumps it
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's API

    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id"
    )
    files: Mapped[list[StoredFile]] = relationship(back_populates="application")
    documents: Mapped[list[GeneratedDocument]] = relationship(
        back_populates="application", order_by="GeneratedDocument.id"
    )


class ApplicationEvent(Base):
    """One step of an application's history (state change, message, filing)."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    by_role: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(254))
    #: a message the applicant sees
    comment: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: pages the applicant may change after this event (a correction request)
    edit_pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))

    application: Mapped[Application] = relationship(back_populates="events")


class StoredFile(Base):
    """An uploaded file: content-addressed on disk, attached to a draft, then an application."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    field_id: Mapped[str] = mapped_column(String(64))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[created_at]

    draft: Mapped[Draft | None] = relationship(back_populates="files")
    application: Mapped[Application | None] = relationship(back_populates="files")


class GeneratedDocument(Base):
    """A PDF made for an application, stored once and never regenerated differently."""

    __tablename__ = "generated_documents"
    #: one document of a kind per application: never regenerated differently
    __table_args__ = (
        UniqueConstraint("application_id", "kind", name="uq_generated_documents_application_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))  # receipt | application | a document id
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    #: for the applicant to download, or staff-only
    public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    application: Mapped[Application] = relationship(back_populates="documents")


class ReceiptCounter(Base):
    """The last receipt number given per office and year."""

    __tablename__ = "receipt_counters"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
