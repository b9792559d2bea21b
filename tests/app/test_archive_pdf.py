"""The archive copy of an application: a PDF/A-3b with `application.json` inside.

An application is filed through real HTTP and handled by a clerk, its archive
made through `ensure_document`, and the stored file read back with pypdf: the
text, the fonts, the embedded JSON, its association with the document and the
PDF/A identification.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from filing_walker import Walk
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from pypdf import PdfReader
from sqlalchemy import func, select

from madoguchi import db
from madoguchi.catalogue import catalogue
from madoguchi.documents import archive, ensure_document
from madoguchi.documents import service as documents_service
from madoguchi.models import Application, GeneratedDocument, ProcedureVersion
from madoguchi.services import transitions
from madoguchi.storage import file_store

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "templates" / "documents" / "application.html"
NAME = "浪速 花子"
COMMENT = "児童の住所が確認できる書類を添付してください。"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"


@dataclass
class Archived:
    pdf: bytes
    document: GeneratedDocument
    application: Application
    version: ProcedureVersion


def make_archive(app: Flask, public_id: str) -> GeneratedDocument:
    with app.app_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        document = ensure_document(
            session,
            application,
            "application",
            procedure=transitions.procedure_of(session, application),
            office=catalogue().offices()[application.office_id],
        )
        db.commit()
        session.expunge(document)
        return document


@pytest.fixture
def archived(app: Flask, client: FlaskClient, published: None) -> Archived:
    """child-allowance filed by a resident, sent to correction by a clerk, then archived."""
    log_in_resident(client, "taro@example.jp")
    filed = Walk(client, app, "child-allowance", answers={"name": NAME}).file()
    assert filed.status_code == 302, filed.text
    public_id = filed.headers["Location"].rstrip("/").split("/")[-2]
    with app.test_request_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(
            session,
            application,
            "request_correction",
            roles={"clerk"},
            actor="staff:1",
            comment=COMMENT,
        )
        db.commit()
    document = make_archive(app, public_id)
    with app.app_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        _ = application.events, application.files  # loaded before detaching
        version = session.get(ProcedureVersion, application.procedure_version_id)
        assert version is not None
        session.expunge_all()
        assert document.sha256 is not None
        pdf = file_store().get(document.sha256)
    return Archived(pdf, document, application, version)


def embedded_json(pdf: bytes) -> dict[str, Any]:
    files = PdfReader(BytesIO(pdf)).attachments
    assert list(files) == [archive.ATTACHMENT_NAME]
    (content,) = files[archive.ATTACHMENT_NAME]
    found: dict[str, Any] = json.loads(content.decode("utf-8"))
    return found


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def fonts_of(pdf: bytes) -> list[tuple[str, Any]]:
    found = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            holder = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            found.append((str(font["/BaseFont"]), holder["/FontDescriptor"].get_object()))
    return found


def pdfa_identification(pdf: bytes) -> dict[str, str]:
    """`pdfaid:*` of the XMP metadata, written as attributes or as elements."""
    root = PdfReader(BytesIO(pdf)).trailer["/Root"]
    xml = root["/Metadata"].get_object().get_data()
    found: dict[str, str] = {}
    for element in ET.fromstring(xml).iter():  # noqa: S314 - the XMP of a PDF we just made
        for key, value in element.attrib.items():
            if key.startswith(f"{{{PDFAID}}}"):
                found[key.split("}")[1]] = value
        if element.tag.startswith(f"{{{PDFAID}}}") and element.text:
            found[element.tag.split("}")[1]] = element.text.strip()
    return found


def test_the_archive_is_stored_once_with_its_digests(app: Flask, archived: Archived) -> None:
    document = archived.document
    assert document.kind == "application"
    assert document.public is False, "the archive is for the office only"
    assert document.sha256 == hashlib.sha256(archived.pdf).hexdigest()
    assert document.size == len(archived.pdf)
    assert document.template_sha256 == hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()


def test_the_archive_is_never_made_again(
    app: Flask, archived: Archived, monkeypatch: pytest.MonkeyPatch
) -> None:
    def render_again(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the archive must not be rendered a second time")

    monkeypatch.setattr(documents_service, "archive_pdf", render_again)
    again = make_archive(app, archived.application.public_id)
    assert (again.id, again.sha256) == (archived.document.id, archived.document.sha256)
    with app.app_context():
        count = db.session().scalar(
            select(func.count())
            .select_from(GeneratedDocument)
            .where(
                GeneratedDocument.application_id == archived.application.id,
                GeneratedDocument.kind == "application",
            )
        )
    assert count == 1


def test_the_archive_reads_back_with_the_receipt_number_and_japanese_answers(
    archived: Archived,
) -> None:
    text = text_of(archived.pdf)
    assert archived.application.receipt_number in text
    assert NAME in text
    assert COMMENT in "".join(text.split()), "the history is printed (lines wrapped)"
    assert "123456789018" in text, "the office's copy shows sensitive answers in full"
    assert archive.ATTACHMENT_NAME in text, "the page says what is embedded"


def test_every_font_is_embedded_and_japanese_ones_are_used(archived: Archived) -> None:
    fonts = fonts_of(archived.pdf)
    assert fonts
    for name, descriptor in fonts:
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{name} is not embedded"
    assert any("IPAex" in name for name, _ in fonts)


def test_the_embedded_json_is_the_application(archived: Archived) -> None:
    record = embedded_json(archived.pdf)
    application = archived.application
    assert record["format"] == archive.FORMAT
    assert record["receipt_number"] == application.receipt_number
    assert record["procedure"] == {
        "id": "child-allowance",
        "version": archived.version.version,
        "fingerprint": archived.version.fingerprint,
    }
    assert record["procedure"]["fingerprint"] == application.procedure_fingerprint
    assert record["answers"] == application.answers
    assert record["answers"]["name"] == NAME
    assert record["office_id"] == application.office_id
    assert record["state"] == "correction"
    assert [(h["action"], h["to"], h["by_role"]) for h in record["history"]] == [
        ("file", "received", "applicant"),
        ("request_correction", "correction", "clerk"),
    ]
    assert record["history"][1]["comment"] == COMMENT
    assert application.files, "child-allowance is filed with attachments"
    assert sorted(f["sha256"] for f in record["files"]) == sorted(
        f.sha256 for f in application.files
    )
    assert record["template_sha256"] == archived.document.template_sha256


def test_the_json_is_associated_with_the_document(archived: Archived) -> None:
    root = PdfReader(BytesIO(archived.pdf)).trailer["/Root"]
    # WeasyPrint 70 lists the one file specification twice in /AF (Kozea/WeasyPrint#2917).
    assert len({ref.idnum for ref in root["/AF"]}) == 1
    specs = {ref.get_object()["/UF"]: ref.get_object() for ref in root["/AF"]}
    assert list(specs) == [archive.ATTACHMENT_NAME]
    spec = specs[archive.ATTACHMENT_NAME]
    assert spec["/Type"] == "/Filespec"
    assert spec["/AFRelationship"] == "/Source"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] in ("/application/json", "/application#2Fjson")
    assert "/ModDate" in stream["/Params"]


def test_the_pdf_claims_pdf_a_3b(archived: Archived) -> None:
    assert archived.pdf.startswith(b"%PDF-1.7"), "PDF/A-3 is based on PDF 1.7"
    assert pdfa_identification(archived.pdf) == {"part": "3", "conformance": "B"}
    root = PdfReader(BytesIO(archived.pdf)).trailer["/Root"]
    (intent,) = root["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intent


def test_the_resident_cannot_download_the_archive(
    app: Flask, client: FlaskClient, archived: Archived
) -> None:
    url = f"/applications/{archived.application.public_id}/documents/{archived.document.public_id}"
    with client.get(url) as response:
        assert response.status_code == 404
