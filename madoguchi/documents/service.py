"""The documents of an application: made once, stored by content, never remade differently.

A document is rendered the first time it is asked for and kept in the
`FileStore` under its sha256, with a `GeneratedDocument` row recording the
digest and the digest of the template that made it.  Asking again returns
that row: a receipt downloaded a year later is the receipt issued on the day.
"""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from madoguchi.config import Defaults
from madoguchi.documents.archive import ARCHIVE_KIND, ATTACHMENT_NAME, archive_pdf
from madoguchi.documents.context import ActionInfo, document_context, in_tokyo
from madoguchi.documents.render import DocumentError, render_html, render_pdf, template_sha256
from madoguchi.models import Application, ApplicationEvent, GeneratedDocument
from madoguchi.services import audit
from madoguchi.signatures import sign_office_pdf, transition_signs
from madoguchi.storage import FileStore, file_store
from workflow.model import LocalizedText, Office, Procedure

__all__ = [
    "BUILTIN_TITLES",
    "application_pdf",
    "builtin_templates_dir",
    "document_pdf",
    "ensure_document",
    "receipt_pdf",
    "store_document",
    "template_for",
]

BUILTIN_TITLES = {
    "receipt": LocalizedText((("ja", "受付票"), ("en", "Receipt"))),
    "application": LocalizedText(
        (("ja", "申請書（内部用）"), ("en", "Application (internal use)"))
    ),
}
#: kinds only the office may download
STAFF_ONLY = frozenset({"application"})


def builtin_templates_dir() -> Path:
    if has_app_context():
        return Path(current_app.config["DOCUMENT_TEMPLATES_DIR"])
    return Path(Defaults.DOCUMENT_TEMPLATES_DIR)


def template_for(procedure: Procedure, kind: str, *, base_dir: Path | None = None) -> Path:
    """The template file of document `kind` (`receipt`, `application` or a procedure document)."""
    base = base_dir or builtin_templates_dir()
    if kind in BUILTIN_TITLES:
        return base / f"{kind}.html"
    document = procedure.documents.get(kind)
    if document is None:
        raise DocumentError(f"procedure '{procedure.id}' has no document '{kind}'")
    if document.template_path and Path(document.template_path).is_file():
        return Path(document.template_path)
    # The procedure was loaded elsewhere (or its folder moved): look again, in the same order.
    for folder in (Path(procedure.source_path).parent, base):
        candidate = folder / document.template
        if candidate.is_file():
            return candidate
    raise DocumentError(
        f"template '{document.template}' of document '{kind}' is missing",
        template=document.template,
    )


def title_of(procedure: Procedure, kind: str, lang: str) -> str:
    if kind in BUILTIN_TITLES:
        return BUILTIN_TITLES[kind].get(lang)
    document = procedure.documents.get(kind)
    if document is None:
        raise DocumentError(f"procedure '{procedure.id}' has no document '{kind}'")
    return document.title.get(lang)


def document_pdf(
    application: Application,
    procedure: Procedure,
    office: Office,
    kind: str,
    *,
    lang: str,
    action: ApplicationEvent | ActionInfo | None = None,
    issued_on: datetime.date | None = None,
    base_dir: Path | None = None,
) -> bytes:
    """The PDF of document `kind` for `application`, rendered now (nothing stored)."""
    base = base_dir or builtin_templates_dir()
    context = document_context(
        application,
        procedure,
        office,
        lang=lang,
        action=action,
        issued_on=issued_on,
        mask_sensitive=kind not in STAFF_ONLY,
    )
    template = template_for(procedure, kind, base_dir=base)
    if kind == ARCHIVE_KIND:
        # The archive copy: PDF/A-3b with the application's data inside (see archive.py).
        context["archive"] = {
            "attachment": ATTACHMENT_NAME,
            "fingerprint": application.procedure_fingerprint,
        }
        html = render_html(template, context, base_dir=base)
        return archive_pdf(html, application, procedure, template_sha256=template_sha256(template))
    return render_pdf(template, context, base_dir=base)


def receipt_pdf(
    application: Application,
    procedure: Procedure,
    office: Office,
    *,
    lang: str,
    issued_on: datetime.date | None = None,
    base_dir: Path | None = None,
) -> bytes:
    """The receipt (受付票), dated the day of filing unless `issued_on` says otherwise."""
    return document_pdf(
        application,
        procedure,
        office,
        "receipt",
        lang=lang,
        issued_on=issued_on or in_tokyo(application.filed_at).date(),
        base_dir=base_dir,
    )


def application_pdf(
    application: Application,
    procedure: Procedure,
    office: Office,
    *,
    lang: str,
    base_dir: Path | None = None,
) -> bytes:
    """The whole application for the back office, sensitive answers in full.

    An archive: PDF/A-3b with the application's data embedded as `application.json`.
    """
    return document_pdf(application, procedure, office, "application", lang=lang, base_dir=base_dir)


def store_document(
    session: Session,
    application: Application,
    kind: str,
    title: str,
    pdf_bytes: bytes,
    template_path: Path | str,
    *,
    public: bool | None = None,
    store: FileStore | None = None,
) -> GeneratedDocument:
    """Keep `pdf_bytes` in the file store and record them; `public` defaults by kind."""
    digest = (store or file_store()).put(pdf_bytes)
    row = GeneratedDocument(
        public_id=secrets.token_hex(16),
        application=application,
        kind=kind,
        title=title[:200],
        sha256=digest,
        size=len(pdf_bytes),
        template_sha256=template_sha256(template_path),
        public=(kind not in STAFF_ONLY) if public is None else public,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor="system",
        action="document.issued",
        subject=f"application:{application.receipt_number}",
        data={"kind": kind, "sha256": digest, "template_sha256": row.template_sha256},
    )
    return row


def existing_document(
    session: Session, application: Application, kind: str
) -> GeneratedDocument | None:
    return session.scalars(
        select(GeneratedDocument)
        .where(GeneratedDocument.application_id == application.id, GeneratedDocument.kind == kind)
        .order_by(GeneratedDocument.id)
        .limit(1)
    ).first()


def ensure_document(
    session: Session,
    application: Application,
    kind: str,
    *,
    procedure: Procedure,
    office: Office,
    lang: str | None = None,
    action: ApplicationEvent | None = None,
    issued_on: datetime.date | None = None,
    store: FileStore | None = None,
    base_dir: Path | None = None,
) -> GeneratedDocument:
    """The stored document `kind` of `application`, rendered and stored the first time only.

    A decision is dated the day of its `action`, a receipt the day of filing.
    """
    found = existing_document(session, application, kind)
    if found is not None:
        return found
    # Two requests asking at once would both render and store: on PostgreSQL the
    # second waits on this row lock, then finds the first's row.  SQLite ignores
    # FOR UPDATE; only a unique (application_id, kind) would close it there.
    session.execute(
        select(Application.id).where(Application.id == application.id).with_for_update()
    )
    found = existing_document(session, application, kind)
    if found is not None:
        return found
    language = lang or application.language or "ja"
    if issued_on is None:
        if action is not None and action.at is not None:
            issued_on = in_tokyo(action.at).date()
        elif kind == "receipt":
            issued_on = in_tokyo(application.filed_at).date()
    base = base_dir or builtin_templates_dir()
    template = template_for(procedure, kind, base_dir=base)
    pdf = document_pdf(
        application,
        procedure,
        office,
        kind,
        lang=language,
        action=action,
        issued_on=issued_on,
        base_dir=base,
    )
    if action is not None and transition_signs(procedure, action.action):
        # `sign: true`: the decision carries the office's PAdES signature.
        pdf = sign_office_pdf(pdf, office)
    return store_document(
        session,
        application,
        kind,
        title_of(procedure, kind, language),
        pdf,
        template,
        store=store,
    )
