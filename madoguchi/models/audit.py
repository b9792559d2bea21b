"""The append-only audit log, each row chained to the previous one by its hash."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    #: who: "resident:12", "staff:3", "system", "api:client"
    actor: Mapped[str] = mapped_column(String(100))
    #: what: "application.filed", "application.transition", "login", ...
    action: Mapped[str] = mapped_column(String(64))
    #: on what: "application:27127-2026-000123"
    subject: Mapped[str | None] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
