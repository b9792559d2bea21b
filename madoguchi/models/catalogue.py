"""Published procedure versions: the catalogue residents file against."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from madoguchi.models.base import Base, created_at, language_id


class ProcedureVersion(Base):
    """One immutable published version of a procedure file.

    Applications pin the fingerprint of the version they were started on,
    so a procedure can change while cases in flight finish on their own
    version.
    """

    __tablename__ = "procedure_versions"
    __table_args__ = (
        UniqueConstraint("procedure_id", "version", name="uq_procedure_versions_id_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[language_id] = mapped_column(index=True)
    version: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[created_at]
    published_by: Mapped[str | None] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)


def latest_versions(session: Session) -> list[ProcedureVersion]:
    """The newest non-retired version of every procedure, ordered by procedure id."""
    rows = session.scalars(
        select(ProcedureVersion)
        .where(ProcedureVersion.retired.is_(False))
        .order_by(ProcedureVersion.procedure_id, ProcedureVersion.version.desc())
    )
    newest: dict[str, ProcedureVersion] = {}
    for row in rows:
        newest.setdefault(row.procedure_id, row)
    return list(newest.values())
