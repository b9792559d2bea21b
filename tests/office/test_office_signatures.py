"""Office signatures: a `sign: true` decision PDF carries a PAdES signature of the office."""

from __future__ import annotations

import concurrent.futures
import io

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from work_helpers import application_row, file_as_resident, staff_client, take

from madoguchi import signatures


@pytest.fixture
def kita(app: Flask, published: None) -> dict[str, FlaskClient]:
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")], name="Aoki")
    chief, _ = staff_client(app, "chief@kita.example.jp", [("kita", "supervisor")], name="Chief")
    return {"clerk": clerk, "chief": chief}


def certified_decision(app: Flask, kita: dict[str, FlaskClient]) -> bytes:
    public_id = file_as_resident(app)
    assert take(kita["clerk"], public_id, "start_review").status_code == 302
    assert take(kita["clerk"], public_id, "recommend").status_code == 302
    done = take(
        kita["chief"], public_id, "certify", {"monthly_amount": "15000", "first_month": "2026-12"}
    )
    assert done.status_code == 302, done.text
    row = application_row(app, public_id)
    [decision] = [d for d in row.documents if d.kind == "decision"]
    pdf = kita["chief"].get(f"/office/applications/{public_id}/documents/{decision.public_id}")
    data = pdf.get_data()
    pdf.close()
    assert pdf.status_code == 200
    return data


def trust(app: Flask) -> ValidationContext:
    with app.app_context():
        root = signatures.local_ca().root.public_bytes(Encoding.DER)
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(root)])


def validate(pdf: bytes, context: ValidationContext) -> bool:
    """pyHanko's validation, in a thread of its own: its sync API runs an asyncio loop,
    which cannot start where another already runs (the browser tests' driver)."""

    def run() -> bool:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        [embedded] = reader.embedded_signatures
        return bool(validate_pdf_signature(embedded, context).bottom_line)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_a_sign_true_decision_validates_against_the_test_root(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    pdf = certified_decision(app, kita)
    assert validate(pdf, trust(app))
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    [embedded] = reader.embedded_signatures
    signer = embedded.signer_cert.subject.native
    assert "北区" in signer["common_name"], "CN is the office's name"


def test_one_flipped_byte_fails_validation(app: Flask, kita: dict[str, FlaskClient]) -> None:
    pdf = certified_decision(app, kita)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    [embedded] = reader.embedded_signatures
    start, length = embedded.byte_range[0], embedded.byte_range[1]
    position = start + length // 2  # inside the first signed range: the document itself
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    try:
        valid = validate(bytes(tampered), trust(app))
    except Exception:  # a reader refusing the damaged file is a failure too
        valid = False
    assert not valid


def test_a_foreign_root_does_not_trust_the_signature(
    app: Flask, kita: dict[str, FlaskClient], tmp_path: object
) -> None:
    from pathlib import Path

    pdf = certified_decision(app, kita)
    other = signatures.TestCA(Path(str(tmp_path)) / "other").root.public_bytes(Encoding.DER)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(other)])
    assert not validate(pdf, context)


def test_a_decision_without_sign_is_not_signed(app: Flask, kita: dict[str, FlaskClient]) -> None:
    """The receipt (no `sign:`) stays unsigned."""
    public_id = file_as_resident(app)
    row = application_row(app, public_id)
    receipts = [d for d in row.documents if d.kind == "receipt"]
    assert receipts, "filing makes the receipt PDF after the commit"
    pdf = kita["clerk"].get(f"/office/applications/{public_id}/documents/{receipts[0].public_id}")
    data = pdf.get_data()
    pdf.close()
    assert not PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures


def test_the_application_page_shows_the_applicants_signature(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    from sqlalchemy import update
    from staff_helpers import log_in_resident

    from madoguchi import db
    from madoguchi.identity.cardapp import DEMO_CARDS
    from madoguchi.models import Application

    resident = app.test_client()
    log_in_resident(resident, "hanako@example.jp", identity=DEMO_CARDS[0].identity().as_dict())
    resident.get("/?lang=en")
    public_id = file_as_resident(app, "moving-out", client=resident)
    page = kita["clerk"].get(f"/office/applications/{public_id}").text
    assert 'data-signature="valid"' in page
    assert "Signature:" in page
    assert "valid" in page

    row = application_row(app, public_id)
    with app.app_context():
        db.session().execute(
            update(Application)
            .where(Application.id == row.id)
            .values(answers={**row.answers, "new_address": "changed"})
        )
        db.commit()
    page = kita["clerk"].get(f"/office/applications/{public_id}").text
    assert 'data-signature="mismatch"' in page
    assert "does not match" in page
