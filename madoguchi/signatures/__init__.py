"""Electronic signatures: the applicant's (card app stand-in) and the office's (PAdES).

The applicant signs the canonical bytes of a draft: canonical JSON (sorted
keys, UTF-8) of its answers as they would be filed, the sha256 of every
attached file and the procedure's fingerprint.  The signature is kept
against the draft and attached to the application when the draft is
filed; verifying it later recomputes the bytes from the application, so a
changed answer or file shows as "does not match".
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask, current_app, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms.answers import to_json
from madoguchi.models import Application, ApplicationSignature, Draft, Resident
from madoguchi.signatures.ca import Issued, TestCA
from madoguchi.signatures.port import SignaturePort, Verification
from workflow.model import Office, Procedure

__all__ = ["SignaturePort", "TestCA", "Verification"]

EXTENSION = "madoguchi.signatures"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    # SQLite gives naive datetimes back; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def local_ca(app: Flask | None = None) -> TestCA:
    """The instance's test CA (created the first time)."""
    app = app or current_app
    found = app.extensions.get(EXTENSION + ".ca")
    if found is None:
        directory = app.config.get("SIGNATURE_CA_DIR") or Path(app.instance_path) / "ca"
        found = app.extensions[EXTENSION + ".ca"] = TestCA(Path(directory))
    assert isinstance(found, TestCA)
    return found


# --- canonical bytes ---------------------------------------------------------


def canonical_bytes(answers: dict[str, Any], file_hashes: list[str], fingerprint: str) -> bytes:
    document = {"answers": answers, "files": sorted(file_hashes), "procedure": fingerprint}
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def draft_bytes(session: Session, draft: Draft) -> bytes:
    """What filing `draft` now would sign: the answers as filed, the files kept."""
    from madoguchi.services.filing import _referenced_files, check_draft

    procedure, answers, _problems = check_draft(session, draft, language="ja")
    kept = _referenced_files(procedure, answers, draft)
    hashes_ = {f.sha256 for f in draft.files if f.sha256 in kept}
    return canonical_bytes(to_json(procedure, answers), list(hashes_), procedure.fingerprint)


def application_bytes(application: Application) -> bytes:
    hashes_ = {f.sha256 for f in application.files}
    return canonical_bytes(application.answers, list(hashes_), application.procedure_fingerprint)


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- signing and storing -----------------------------------------------------


def sign_bytes(content: bytes, issued: Issued) -> bytes:
    return issued.key.sign(content, ec.ECDSA(hashes.SHA256()))


def sign_draft(
    session: Session,
    draft: Draft,
    resident: Resident,
    *,
    identity: dict[str, Any] | None = None,
    issued: Issued | None = None,
    at: datetime.datetime | None = None,
) -> ApplicationSignature:
    """Sign the draft's current bytes with a certificate bound to the card's identity."""
    identity = identity or resident.identity or {}
    if issued is None:
        issued = local_ca().issue_resident(
            str(identity.get("name", "")), str(identity.get("address", ""))
        )
    content = draft_bytes(session, draft)
    row = ApplicationSignature(
        draft_public_id=draft.public_id,
        resident_id=resident.id,
        content_sha256=_sha(content),
        signature=sign_bytes(content, issued),
        certificate_pem=issued.certificate_pem,
        certificate_serial=format(issued.certificate.serial_number, "x"),
        signed_at=at or _now(),
    )
    session.add(row)
    session.flush()
    return row


def draft_signature(session: Session, draft_public_id: str) -> ApplicationSignature | None:
    return session.scalars(
        select(ApplicationSignature)
        .where(ApplicationSignature.draft_public_id == draft_public_id)
        .order_by(ApplicationSignature.id.desc())
        .limit(1)
    ).first()


def draft_signed(session: Session, draft: Draft) -> bool:
    """Signed, by a certificate not revoked, over exactly what would be filed now."""
    row = draft_signature(session, draft.public_id)
    if row is None:
        return False
    content = draft_bytes(session, draft)
    result = verify_row(row, content)
    return result.valid


def attach(session: Session, application: Application) -> ApplicationSignature | None:
    """At filing: the draft's signature becomes the application's."""
    if application.draft_public_id is None:
        return None
    row = draft_signature(session, application.draft_public_id)
    if row is not None:
        row.application_id = application.id
        session.flush()
    return row


def application_signature(
    session: Session, application: Application
) -> ApplicationSignature | None:
    return session.scalars(
        select(ApplicationSignature)
        .where(ApplicationSignature.application_id == application.id)
        .order_by(ApplicationSignature.id.desc())
        .limit(1)
    ).first()


def revoke_resident(session: Session, resident_id: int, at: datetime.datetime | None = None) -> int:
    """Revoke every signing certificate of the resident (name or address changed)."""
    result = session.execute(
        update(ApplicationSignature)
        .where(
            ApplicationSignature.resident_id == resident_id,
            ApplicationSignature.revoked_at.is_(None),
        )
        .values(revoked_at=at or _now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- verifying ---------------------------------------------------------------


class CardAppSignatures:
    """The `SignaturePort` over the card app stand-in and the test CA."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca

    def sign_request(self, draft_public_id: str, return_url: str) -> str:
        return url_for("card_app_sign.sign", draft=draft_public_id, return_url=return_url)

    def verify(
        self,
        content: bytes,
        signature: bytes,
        certificate_pem: str,
        signed_at: datetime.datetime,
        *,
        revoked: bool = False,
    ) -> Verification:
        signed_at = _aware(signed_at)
        try:
            cert = x509.load_pem_x509_certificate(certificate_pem.encode())
        except ValueError:
            return Verification("untrusted", "", signed_at, "certificate cannot be read")
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        signer = str(names[0].value) if names else ""
        try:
            cert.verify_directly_issued_by(self.ca.root)
        except (ValueError, TypeError, InvalidSignature):
            return Verification("untrusted", signer, signed_at, "not issued by the trusted CA")
        public_key = cert.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            return Verification("untrusted", signer, signed_at, "unexpected key type")
        try:
            public_key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return Verification(
                "mismatch", signer, signed_at, "the application changed after it was signed"
            )
        if revoked:
            return Verification("revoked", signer, signed_at, "the certificate was revoked")
        if not cert.not_valid_before_utc <= signed_at <= cert.not_valid_after_utc:
            return Verification(
                "expired", signer, signed_at, "the certificate was not valid when signing"
            )
        return Verification("valid", signer, signed_at, "signature valid")


def port(app: Flask | None = None) -> CardAppSignatures:
    return CardAppSignatures(local_ca(app))


def verify_row(row: ApplicationSignature, content: bytes) -> Verification:
    return port().verify(
        content,
        bytes(row.signature),
        row.certificate_pem,
        row.signed_at,
        revoked=row.revoked_at is not None,
    )


def verify_application(session: Session, application: Application) -> Verification | None:
    """The applicant's signature of `application`, checked now; None when unsigned."""
    row = application_signature(session, application)
    if row is None:
        return None
    return verify_row(row, application_bytes(application))


# --- office signatures (PAdES) ---------------------------------------------


def transition_signs(procedure: Procedure, action: str) -> bool:
    transition = next(procedure.transition(action), None)
    return bool(transition is not None and transition.sign)


def sign_office_pdf(pdf: bytes, office: Office, app: Flask | None = None) -> bytes:
    """`pdf` with a PAdES signature of the office (its certificate from the test CA)."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    ca = local_ca(app)
    key_file, cert_file = ca.office_files(office.id, office.name.get("ja"))
    signer = signers.SimpleSigner.load(
        str(key_file), str(cert_file), ca_chain_files=(str(ca.office_ca_file()),)
    )
    assert signer is not None

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = signers.sign_pdf(
            writer,
            signers.PdfSignatureMetadata(field_name="OfficeSignature", name=office.name.get("ja")),
            signer=signer,
        )
        return bytes(out.getvalue())

    # pyHanko's sync API runs its own asyncio loop, which fails in a thread that
    # already runs one (an async server, a browser driver): sign in a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(sign).result()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = True
    if app.config.get("CARD_APP_ENABLED"):
        from madoguchi.signatures import cardapp

        cardapp.init_app(app)
