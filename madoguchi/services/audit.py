"""Writing to the hash-chained audit log, in the caller's transaction.

Each row's hash covers its own content and the previous row's hash, so
editing or deleting any row breaks the chain from there on; `verify` finds
the first broken link.  Rows are appended under a lock (a row lock on
PostgreSQL, the write lock on SQLite) so that two requests never chain to
the same predecessor.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from madoguchi.models import AuditEvent

GENESIS = "0" * 64


def _digest(
    prev_hash: str,
    at: datetime.datetime,
    actor: str,
    action: str,
    subject: str | None,
    data: dict[str, Any],
) -> str:
    if at.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
        at = at.replace(tzinfo=datetime.UTC)
    payload = json.dumps(
        {
            "prev": prev_hash,
            "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """Append one audit row in the current transaction."""
    # Stored in UTC: SQLite keeps no offset, and the hash must survive a round trip.
    at = (at or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    payload = json.loads(json.dumps(data or {}, default=str))
    if session.get_bind().dialect.name == "postgresql":
        # Serialize appenders: a transaction-scoped advisory lock on the chain.
        session.execute(text("SELECT pg_advisory_xact_lock(727127)"))
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    prev_hash = last.hash if last else GENESIS
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        data=payload,
        prev_hash=prev_hash,
        hash=_digest(prev_hash, at, actor, action, subject, payload),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def verify(session: Session) -> list[ChainProblem]:
    """Every place where the chain is broken: an edited, inserted or deleted row."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev_hash:
            problems.append(
                ChainProblem(
                    event.id,
                    f"audit row {event.id} does not follow the previous row"
                    " (a row before it was deleted or changed)",
                )
            )
        expected = _digest(
            event.prev_hash, event.at, event.actor, event.action, event.subject, event.data
        )
        if expected != event.hash:
            problems.append(
                ChainProblem(event.id, f"audit row {event.id} was changed after it was written")
            )
        prev_hash = event.hash
    return problems
