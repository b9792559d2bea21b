"""The archive copy of an application: a PDF/A-3b that carries its own data.

The back office's `application` document is the copy kept for the retention
period, so it is made for the long term: PDF/A-3b (ISO 19005-3, level B:
fonts embedded, sRGB output intent, XMP metadata declaring the part and the
conformance), with the application as machine-readable JSON embedded inside
as `application.json` and associated with the document (/AF, relationship
/Source: the data the pages were made from).  The JSON has the answers as
stored, the history, the procedure's id, version and fingerprint, the
receipt number and every attached file's sha256, so the archive can be
checked against the files and the procedure version long after the
database is gone.

Like every document it is made once through `ensure_document` and stored
with its own sha256 and its template's; it is a snapshot of the day it was
made.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from madoguchi.documents.render import PdfAttachment, html_to_pdf
from madoguchi.models import Application
from workflow.model import Procedure

__all__ = [
    "ARCHIVE_KIND",
    "ATTACHMENT_NAME",
    "FORMAT",
    "PDF_VARIANT",
    "application_json",
    "application_record",
    "archive_pdf",
]

#: the document kind made as an archive
ARCHIVE_KIND = "application"
#: the embedded file's name
ATTACHMENT_NAME = "application.json"
PDF_VARIANT = "pdf/a-3b"
#: names the JSON's shape; bump the number when it changes incompatibly
FORMAT = "madoguchi-application/1"
DESCRIPTION = "申請データ（JSON）/ Application data (JSON)"


def _utc(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat()


def application_record(
    application: Application,
    procedure: Procedure,
    *,
    generated_at: datetime.datetime | None = None,
    template_sha256: str | None = None,
) -> dict[str, Any]:
    """The application as plain JSON-able data: what the archive PDF carries inside.

    Answers are the stored JSON, sensitive ones in full: the archive is for the
    office only.
    """
    events = sorted(
        application.events or [],
        key=lambda e: (_utc(e.at) or "", e.id or 0),
    )
    files = sorted(application.files or [], key=lambda f: (f.field_id, f.name, f.sha256))
    return {
        "format": FORMAT,
        "generated_at": _utc(generated_at or datetime.datetime.now(datetime.UTC)),
        "template_sha256": template_sha256,
        "receipt_number": application.receipt_number,
        "public_id": application.public_id,
        "procedure": {
            "id": application.procedure_id,
            "version": procedure.version,
            "fingerprint": application.procedure_fingerprint,
        },
        "office_id": application.office_id,
        "channel": application.channel,
        "language": application.language,
        "filed_at": _utc(application.filed_at),
        "state": application.state,
        "state_entered_at": _utc(application.state_entered_at),
        "due_date": application.due_date.isoformat() if application.due_date else None,
        "applicant": {
            "name": application.applicant_name,
            "email": application.applicant_email,
        },
        "proxy": application.proxy,
        "answers": application.answers,
        "fee_total": application.fee_total,
        "files": [
            {
                "field": f.field_id,
                "name": f.name,
                "mime": f.mime,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in files
        ],
        "history": [
            {
                "at": _utc(e.at),
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "by_role": e.by_role,
                "actor": e.actor,
                "comment": e.comment,
                "fields": e.fields or {},
                "edit": e.edit_pages or [],
            }
            for e in events
        ],
    }


def application_json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2, default=str).encode(
        "utf-8"
    )


def archive_pdf(
    html: str,
    application: Application,
    procedure: Procedure,
    *,
    template_sha256: str | None = None,
) -> bytes:
    """The PDF/A-3b of `html` (the rendered `application.html`) with `application.json` inside."""
    now = datetime.datetime.now(datetime.UTC)
    record = application_record(
        application, procedure, generated_at=now, template_sha256=template_sha256
    )
    return html_to_pdf(
        html,
        pdf_variant=PDF_VARIANT,
        attachments=[
            PdfAttachment(
                name=ATTACHMENT_NAME,
                data=application_json(record),
                description=DESCRIPTION,
                relationship="Source",
                modified=now,
            )
        ],
    )
