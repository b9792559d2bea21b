"""A local test certificate authority standing in for JPKI, built with `cryptography`.

One root per `SIGNATURE_CA_DIR` (default: the instance folder's `ca/`),
created the first time it is needed; under it an office CA issues one
certificate per ward office (CN = the office's name) for decision PDFs,
and the root issues each resident a signing certificate carrying the
name and address the card verified.  Never use it for real signatures.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_LOCK = threading.Lock()
#: the "card's" signing certificate lives five years, as JPKI's does
RESIDENT_YEARS = 5


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common: str, unit: str | None = None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Madoguchi Test CA"),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(parts)


def _build(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    address: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    builder = builder.add_extension(usage, critical=True)
    if address:
        # JPKI puts the address in the certificate; a directory name keeps it readable here.
        alt = x509.DirectoryName(
            x509.Name([x509.NameAttribute(NameOID.STREET_ADDRESS, address[:200])])
        )
        builder = builder.add_extension(x509.SubjectAlternativeName([alt]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Issued:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


class TestCA:
    """The root and office CA in `directory`, created once and then reused."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        with _LOCK:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.root_key, self.root = self._load_or_make("root", None)
            self.office_ca_key, self.office_ca = self._load_or_make("office-ca", "root")

    def _load_or_make(
        self, stem: str, issuer: str | None
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key_path = self.directory / f"{stem}.key.pem"
        cert_path = self.directory / f"{stem}.pem"
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = _new_key()
        now = _now()
        if issuer is None:
            subject = _name("Madoguchi Test Root CA")
            cert = _build(
                subject,
                key.public_key(),
                subject,
                key,
                ca=True,
                not_before=now - datetime.timedelta(days=1),
                not_after=now + datetime.timedelta(days=365 * 20),
            )
        else:
            cert = _build(
                _name("Madoguchi Test Office CA"),
                key.public_key(),
                self.root.subject,
                self.root_key,
                ca=True,
                not_before=now - datetime.timedelta(days=1),
                not_after=now + datetime.timedelta(days=365 * 10),
            )
        key_path.write_bytes(_key_pem(key))
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def issue_resident(
        self,
        name: str,
        address: str,
        *,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
    ) -> Issued:
        """A signing certificate bound to the verified name and address (and its key)."""
        key = _new_key()
        start = not_before or _now() - datetime.timedelta(minutes=5)
        end = not_after or start + datetime.timedelta(days=365 * RESIDENT_YEARS)
        cert = _build(
            _name(name, "Signing certificate"),
            key.public_key(),
            self.root.subject,
            self.root_key,
            ca=False,
            not_before=start,
            not_after=end,
            address=address,
        )
        return Issued(key, cert)

    def office_files(self, office_id: str, office_name: str) -> tuple[Path, Path]:
        """(key file, certificate file) of the office's signing certificate, made once."""
        safe = "".join(c for c in office_id if c.isalnum() or c in "-_") or "office"
        key_path = self.directory / f"office-{safe}.key.pem"
        cert_path = self.directory / f"office-{safe}.pem"
        with _LOCK:
            if not (key_path.exists() and cert_path.exists()):
                key = _new_key()
                now = _now()
                cert = _build(
                    _name(office_name, "Office"),
                    key.public_key(),
                    self.office_ca.subject,
                    self.office_ca_key,
                    ca=False,
                    not_before=now - datetime.timedelta(days=1),
                    not_after=now + datetime.timedelta(days=365 * 5),
                )
                key_path.write_bytes(_key_pem(key))
                key_path.chmod(0o600)
                cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key_path, cert_path

    def office_ca_file(self) -> Path:
        return self.directory / "office-ca.pem"
