"""Internal notes on an application: written and read by staff only.

Notes are never shown to the applicant and never go into documents or
mail; the audit log records that a note was added, not what it says.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from madoguchi.models import Application, ApplicationNote, Staff
from madoguchi.services import audit

__all__ = ["MAX_LENGTH", "NoteError", "NoteView", "add_note", "notes_of"]

MAX_LENGTH = 4000


class NoteError(ValueError):
    """The note cannot be kept: empty or too long."""


@dataclass(frozen=True)
class NoteView:
    at: datetime.datetime
    author: str
    body: str


def add_note(
    session: Session, application: Application, staff: Staff, body: str
) -> ApplicationNote:
    text = (body or "").strip()
    if not text:
        raise NoteError("empty")
    if len(text) > MAX_LENGTH:
        raise NoteError("too_long")
    now = datetime.datetime.now(datetime.UTC)
    note = ApplicationNote(application_id=application.id, staff_id=staff.id, body=text, at=now)
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="application.note",
        subject=f"application:{application.receipt_number}",
        data={"note": note.id},
        at=now,
    )
    return note


def notes_of(session: Session, application: Application) -> list[NoteView]:
    rows = session.execute(
        select(ApplicationNote, Staff.name)
        .outerjoin(Staff, Staff.id == ApplicationNote.staff_id)
        .where(ApplicationNote.application_id == application.id)
        .order_by(ApplicationNote.at, ApplicationNote.id)
    ).all()
    return [NoteView(note.at, name or "", note.body) for note, name in rows]
