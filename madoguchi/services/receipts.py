"""The receipt PDF (受付票): made once after filing, and on demand if that failed."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from madoguchi import db
from madoguchi.catalogue import catalogue
from madoguchi.documents.service import ensure_document
from madoguchi.models import Application, GeneratedDocument
from madoguchi.services.transitions import procedure_of


def ensure_receipt(session: Session, application: Application) -> GeneratedDocument:
    return ensure_document(
        session,
        application,
        "receipt",
        procedure=procedure_of(session, application),
        office=catalogue().offices()[application.office_id],
    )


def make_after_commit(application_id: int) -> None:
    """Render the receipt once the filing is committed; a failure only delays it.

    The resident already has their receipt number; the PDF is made again on
    first download if rendering fails here.
    """

    def render() -> None:
        session = db.session()
        try:
            application = session.get(Application, application_id)
            if application is not None:
                ensure_receipt(session, application)
                session.commit()
        except Exception:
            session.rollback()
            current_app.logger.exception("receipt PDF for application %s failed", application_id)

    db.after_commit(render)
