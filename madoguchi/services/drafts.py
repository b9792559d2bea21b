"""Drafts: a filing in progress, saved on the server after every page.

A draft pins the procedure version it was started on; the resident can
leave and resume on another device, and a correction of a filed
application is a draft too (with `application_id` set) that may only
change the pages the office opened.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from forms.answers import (
    from_json,
    to_json,
    visible_pages,
    with_page_values,
    without_item,
)
from forms.builder import PageResult, validate_page
from madoguchi.catalogue import catalogue
from madoguchi.models import Draft, ProcedureVersion, Resident, StoredFile
from madoguchi.models.catalogue import latest_versions
from madoguchi.services import proxy as proxy_page
from madoguchi.storage import FileStore
from workflow.model import Page, Procedure, today_in_japan


def new_public_id() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Owner:
    """Who a draft or application belongs to: a resident, or a verified guest email."""

    resident: Resident | None = None
    guest_email: str | None = None

    @property
    def known(self) -> bool:
        return self.resident is not None or self.guest_email is not None

    def owns_draft(self, draft: Draft) -> bool:
        if self.resident is not None:
            return draft.resident_id == self.resident.id
        return self.guest_email is not None and draft.guest_email == self.guest_email


def published_version(session: Session, procedure_id: str) -> ProcedureVersion | None:
    return next((v for v in latest_versions(session) if v.procedure_id == procedure_id), None)


def procedure_of(session: Session, draft: Draft) -> Procedure:
    version = session.get(ProcedureVersion, draft.procedure_version_id)
    assert version is not None
    return catalogue().procedure_of(version)


def start(session: Session, version: ProcedureVersion, owner: Owner) -> Draft:
    draft = Draft(
        public_id=new_public_id(),
        resident_id=owner.resident.id if owner.resident else None,
        guest_email=None if owner.resident else owner.guest_email,
        procedure_version_id=version.id,
        procedure_id=version.procedure_id,
        answers={},
        completed_pages=[],
    )
    session.add(draft)
    session.flush()
    return draft


def get(session: Session, public_id: str, owner: Owner) -> Draft:
    """The owner's draft, or 404 (never 403: ids of others are not confirmed)."""
    draft = session.scalars(select(Draft).where(Draft.public_id == public_id)).first()
    if draft is None or not owner.owns_draft(draft):
        raise NotFound()
    return draft


def drafts_of(session: Session, owner: Owner) -> list[Draft]:
    if owner.resident is None:
        return []
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.resident_id == owner.resident.id, Draft.application_id.is_(None))
            .order_by(Draft.updated_at.desc())
        )
    )


def answers_of(procedure: Procedure, draft: Draft) -> dict[str, Any]:
    return from_json(procedure, draft.answers or {})


def pages_in_order(procedure: Procedure, draft: Draft, today: datetime.date) -> list[Page]:
    """The pages the resident goes through now, the built-in proxy page first."""
    pages = visible_pages(procedure, answers_of(procedure, draft), today)
    if procedure.applicant.proxy == "allowed" and draft.application_id is None:
        pages = [proxy_page.PAGE, *pages]
    return pages


def editable_pages(procedure: Procedure, draft: Draft, allowed: tuple[str, ...] | None) -> set[str]:
    """Page ids the draft may change: all of them, or those a correction opened."""
    if draft.application_id is None or allowed is None:
        return {p.id for p in procedure.pages} | {proxy_page.PAGE.id}
    return set(allowed)


def next_page(
    procedure: Procedure, draft: Draft, current: str, today: datetime.date
) -> Page | None:
    pages = pages_in_order(procedure, draft, today)
    ids = [p.id for p in pages]
    if current in ids:
        index = ids.index(current) + 1
        return pages[index] if index < len(pages) else None
    return None


def first_unfinished(procedure: Procedure, draft: Draft, today: datetime.date) -> Page | None:
    done = set(draft.completed_pages or [])
    return next((p for p in pages_in_order(procedure, draft, today) if p.id not in done), None)


def page_by_id(procedure: Procedure, page_id: str) -> Page:
    if page_id == proxy_page.PAGE.id and procedure.applicant.proxy == "allowed":
        return proxy_page.PAGE
    try:
        return procedure.page(page_id)
    except KeyError:
        raise NotFound() from None


def save_page(
    session: Session,
    store: FileStore,
    draft: Draft,
    procedure: Procedure,
    page: Page,
    formdata: Any,
    files: Any,
    *,
    language: str,
    item_index: int | None = None,
) -> PageResult:
    """Validate one page (or item) and, when valid, save it into the draft."""
    today = today_in_japan()
    if page is proxy_page.PAGE:
        answers = dict(draft.proxy or {})
        answers = proxy_page.from_json(answers)
        result = validate_page(
            proxy_page.PROCEDURE,
            page,
            formdata,
            answers=answers,
            language=language,
            today=today,
            files=files,
        )
        if result.ok:
            _store_uploads(session, store, draft, result)
            draft.proxy = proxy_page.to_json(result.values)
            _mark_done(draft, page.id)
        return result
    answers = answers_of(procedure, draft)
    result = validate_page(
        procedure,
        page,
        formdata,
        answers=answers,
        language=language,
        today=today,
        files=files,
        item_index=item_index,
    )
    if result.ok:
        _store_uploads(session, store, draft, result)
        merged = with_page_values(procedure, page, answers, result.values, item_index=item_index)
        draft.answers = to_json(procedure, merged)
        if page.repeat is None:
            _mark_done(draft, page.id)
    return result


def finish_repeating_page(draft: Draft, page: Page) -> None:
    _mark_done(draft, page.id)


def remove_item(draft: Draft, procedure: Procedure, page: Page, item_index: int) -> None:
    answers = answers_of(procedure, draft)
    items = answers.get(page.id) or []
    if not 0 <= item_index < len(items):
        raise NotFound()
    draft.answers = to_json(procedure, without_item(procedure, page, answers, item_index))


def _mark_done(draft: Draft, page_id: str) -> None:
    done = list(draft.completed_pages or [])
    if page_id not in done:
        done.append(page_id)
    draft.completed_pages = done


def _store_uploads(session: Session, store: FileStore, draft: Draft, result: PageResult) -> None:
    """Keep each new upload on disk and record it against the draft."""
    for values in _file_values(result.values):
        data = result.uploads.get(values["key"])
        if data is None:
            continue
        digest = store.put(data)
        session.add(
            StoredFile(
                public_id=new_public_id(),
                sha256=digest,
                size=len(data),
                mime=values["mime"],
                name=values["name"],
                field_id=values["field_id"],
                draft_id=draft.id,
            )
        )


def _file_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for field_id, value in values.items():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "key" in item and "sha256" in item:
                    found.append({**item, "field_id": field_id})
    return found


def delete(session: Session, draft: Draft) -> None:
    for stored in list(draft.files):
        session.delete(stored)
    session.delete(draft)
