"""Resident accounts: sign-up, email links, log in and out, card identity, guests.

Who is on the other end of a request lives in the Flask session (a signed
cookie): the resident's id, or for a guest the procedures and the email
address they proved with a one-time link.  Views of other rooms use the
helpers at the top (`current_resident`, `current_identity`,
`current_guest_email`, `resident_can_file`, `login_url`,
`resident_required`); the rest is what the account pages call.

Every function that changes data commits once through `db.commit()`, so
mail goes out only when the change is stored.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, has_request_context, redirect, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from madoguchi import db, mail
from madoguchi.i18n import current_language
from madoguchi.identity.port import VerifiedIdentity
from madoguchi.models import EmailToken, Resident
from madoguchi.services import audit

P = ParamSpec("P")
R = TypeVar("R")

# Session keys.  Everything but the language is dropped on login and logout.
RESIDENT_KEY = "resident_id"
AUTH_AT_KEY = "resident_auth_at"
AUTH_FINGERPRINT_KEY = "resident_auth"
GUESTS_KEY = "guests"
KEPT_ACROSS_LOGIN = ("lang",)

#: what `current_identity()` hands to forms (`prefill: identity.<key>`)
IDENTITY_FIELDS = ("name", "address", "postal_code", "birth_date")

MAX_EMAIL_LENGTH = 254
#: argon2 takes any length, but hashing megabytes per request is a cheap DoS
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

_hasher = PasswordHasher()


def _hash_password(password: str) -> str:
    return _hasher.hash(_stable(password))


def _stable(password: str) -> str:
    # NFKC, as NIST SP 800-63B advises: a Japanese IME may type the same
    # password in full-width characters one day and half-width the next.
    return unicodedata.normalize("NFKC", password)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


# --- helpers for the views of every room -----------------------------------


def current_resident() -> Resident | None:
    """The logged-in resident, or None (also outside a request)."""
    if not has_request_context():
        return None
    # Cached per request, and per database session: a context kept past its
    # teardown (tests, `with client:`) reloads rather than use a detached row.
    cached = g.get("_current_resident")
    if cached is not None and cached[0] is g.get("db_session"):
        found: Resident | None = cached[1]
        return found
    resident = _resident_from_session()
    _cache_resident(resident)
    return resident


def _cache_resident(resident: Resident | None) -> None:
    g._current_resident = (g.get("db_session"), resident)


def _resident_from_session() -> Resident | None:
    resident_id = session.get(RESIDENT_KEY)
    if not isinstance(resident_id, int):
        return None
    auth_at = session.get(AUTH_AT_KEY)
    max_age = current_app.config["RESIDENT_SESSION_HOURS"] * 3600
    resident = db.session().get(Resident, resident_id)
    if (
        resident is None
        or not isinstance(auth_at, int | float)
        or time.time() - auth_at > max_age
        # The cookie cannot be revoked, so a password reset must outdate it.
        or session.get(AUTH_FINGERPRINT_KEY) != _auth_fingerprint(resident)
    ):
        for key in (RESIDENT_KEY, AUTH_AT_KEY, AUTH_FINGERPRINT_KEY):
            session.pop(key, None)
        return None
    return resident


def current_identity() -> dict[str, str] | None:
    """What the My Number card app verified about the logged-in resident.

    Keys: name, address, postal_code (7 digits), birth_date (ISO 8601).
    """
    resident = current_resident()
    if resident is None or not resident.identity or resident.identity_verified_at is None:
        return None
    return {k: str(resident.identity[k]) for k in IDENTITY_FIELDS if k in resident.identity}


def current_guest_email(procedure_id: str) -> str | None:
    """The email address a guest proved for `procedure_id` in this browser, if still fresh."""
    if not has_request_context():
        return None
    entry = (session.get(GUESTS_KEY) or {}).get(procedure_id)
    if not isinstance(entry, dict):
        return None
    max_age = current_app.config["GUEST_SESSION_HOURS"] * 3600
    started = entry.get("at")
    if not isinstance(started, int | float) or time.time() - started > max_age:
        return None
    email = entry.get("email")
    return email if isinstance(email, str) else None


def resident_can_file(resident: Resident) -> bool:
    """Filing needs an address we can reach: the resident must have confirmed it."""
    return resident.email_verified_at is not None


def safe_next_url(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: never an open redirect."""
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_url(next_url: str) -> str:
    """The login page, coming back to `next_url` afterwards when it is a local path."""
    safe = safe_next_url(next_url)
    return url_for("resident.login", next=safe) if safe else url_for("resident.login")


def current_path() -> str:
    """This request's path and query, as a `next` target."""
    return request.full_path.removesuffix("?")


def resident_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send visitors who are not logged in to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_resident() is None:
            return redirect(login_url(current_path()))
        return view(*args, **kwargs)

    return wrapped


# --- input checks -------------------------------------------------------------


def normalise_email(raw: str) -> str:
    """Lower-cased, trimmed, and full-width characters from a Japanese IME made ASCII."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def email_error(email: str) -> str | None:
    """Why `email` (already normalised) cannot be used, or None."""
    if not email:
        return _("Enter your email address")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        return _("Enter an email address in the correct format, like name@example.jp")
    return None


def new_password_error(password: str, email: str) -> str | None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not password:
        return _("Create a password")
    if len(_stable(password)) < minimum:
        return _("Your password must be at least %(num)s characters long", num=minimum)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Your password must be %(num)s characters or fewer", num=MAX_PASSWORD_LENGTH)
    if normalise_email(password) == email:
        return _("Your password must not be your email address")
    return None


# --- one-time links -----------------------------------------------------------


class TokenError(Exception):
    """A link that cannot be used: `code` is ``invalid``, ``expired`` or ``used``."""

    def __init__(self, code: str, token: EmailToken | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.token = token


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(
    purpose: str,
    email: str,
    lifetime: datetime.timedelta,
    *,
    resident_id: int | None = None,
    procedure_id: str | None = None,
) -> str:
    """A new one-time token; only its hash is stored, the token itself goes in the mail."""
    raw = secrets.token_urlsafe(32)
    db.session().add(
        EmailToken(
            token_hash=_token_hash(raw),
            purpose=purpose,
            email=email,
            resident_id=resident_id,
            procedure_id=procedure_id,
            expires_at=_now() + lifetime,
        )
    )
    db.session().flush()
    return raw


def check_token(raw: str, purpose: str) -> EmailToken:
    """The token if it can still be used; raises `TokenError`.  Does not use it up."""
    if not raw or len(raw) > 100:
        raise TokenError("invalid")
    token = (
        db.session()
        .scalars(
            select(EmailToken).where(
                EmailToken.token_hash == _token_hash(raw), EmailToken.purpose == purpose
            )
        )
        .first()
    )
    if token is None:
        raise TokenError("invalid")
    if token.used_at is not None:
        raise TokenError("used", token)
    if _aware(token.expires_at) <= _now():
        raise TokenError("expired", token)
    return token


def use_token(raw: str, purpose: str) -> EmailToken:
    """Use the token up; of two requests racing with the same link, only one wins."""
    token = check_token(raw, purpose)
    now = _now()
    result = db.session().execute(
        update(EmailToken)
        .where(EmailToken.id == token.id, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise TokenError("used", token)
    token.used_at = now
    return token


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail.

    PUBLIC_BASE_URL, when set, is used rather than the request's Host
    header: a forged Host must not turn reset links into links to another site.
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _mail(to: str, subject: str, *paragraphs: str) -> None:
    signature = _("Madoguchi — Osaka City online filing")
    mail.send_after_commit(to, subject, "\n\n".join([*paragraphs, "-- ", signature]))


# --- signing up and confirming the address -----------------------------------


def sign_up(email: str, password: str, next_url: str | None = None) -> None:
    """Create an account and mail the confirmation link.

    When the address already has an account, its owner gets a mail saying
    so instead: the page looks the same either way, so the sign-up form
    cannot be used to find out who has an account.
    """
    existing = _resident_by_email(email)
    if existing is not None:
        _hash_password(password)  # as slow as a real sign-up: timing tells nothing either
        _mail_existing_account(existing)
        db.commit()
        return
    resident = Resident(
        email=email,
        password_hash=_hash_password(password),
        language=current_language(),
    )
    db.session().add(resident)
    try:
        db.session().flush()
    except IntegrityError:
        # Someone signed up with the same address a moment ago.
        db.rollback()
        existing = _resident_by_email(email)
        if existing is not None:
            _mail_existing_account(existing)
        db.commit()
        return
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}",
        action="signup",
        subject=f"resident:{resident.id}",
        data={"method": "password", "ip": request.remote_addr},
    )
    send_verification(resident, next_url)
    db.commit()


def _resident_by_email(email: str) -> Resident | None:
    return db.session().scalars(select(Resident).where(Resident.email == email)).first()


def _mail_existing_account(resident: Resident) -> None:
    with force_locale(resident.language):
        _mail(
            resident.email,
            _("You already have a Madoguchi account"),
            _(
                "Someone, probably you, tried to create a Madoguchi account"
                " with this email address."
            ),
            _("You already have an account. Log in here:"),
            external_url("resident.login"),
            _("If you have forgotten your password, set a new one here:"),
            external_url("resident.forgot_password"),
            _("If it was not you, you can ignore this email. Your account has not changed."),
        )


def send_verification(resident: Resident, next_url: str | None = None) -> None:
    """Mail a link confirming the resident's address (the caller commits)."""
    hours = current_app.config["EMAIL_VERIFY_HOURS"]
    raw = issue_token(
        "verify", resident.email, datetime.timedelta(hours=hours), resident_id=resident.id
    )
    link_values: dict[str, str] = {"token": raw}
    if safe_next_url(next_url):
        link_values["next"] = str(next_url)
    with force_locale(resident.language):
        _mail(
            resident.email,
            _("Confirm your email address for Madoguchi"),
            _("Open this link to confirm your email address:"),
            external_url("resident.verify_email", **link_values),
            _("The link works once, for %(hours)s hours.", hours=hours),
            _("If you did not create a Madoguchi account, ignore this email."),
        )


def resend_verification(resident: Resident) -> None:
    send_verification(resident)
    db.commit()


def verify_email(raw: str) -> Resident:
    """Confirm the address behind a verification link; raises `TokenError`."""
    token = use_token(raw, "verify")
    resident = db.session().get(Resident, token.resident_id) if token.resident_id else None
    if resident is None or resident.email != token.email:
        raise TokenError("invalid")
    if resident.email_verified_at is None:
        resident.email_verified_at = _now()
        audit.record(
            db.session(),
            actor=f"resident:{resident.id}",
            action="email_verified",
            subject=f"resident:{resident.id}",
        )
    db.commit()
    return resident


# --- logging in and out -----------------------------------------------------------


def _auth_fingerprint(resident: Resident) -> str:
    material = f"{resident.id}:{resident.password_hash or ''}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _start_session(resident: Resident) -> None:
    # A fresh session on every login: nothing a visitor had before (or a
    # planted cookie) carries over into the logged-in one.
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    session[RESIDENT_KEY] = resident.id
    session[AUTH_AT_KEY] = int(time.time())
    session[AUTH_FINGERPRINT_KEY] = _auth_fingerprint(resident)
    _cache_resident(resident)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _burn_password_check(password: str) -> None:
    """As slow as a real check, so that timing does not tell which addresses have accounts."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), _stable(password))


def log_in_with_password(email: str, password: str) -> Resident | None:
    """Log in, or None for a wrong address or password (which one is not told)."""
    resident = _resident_by_email(email)
    ok = False
    if resident is None or resident.password_hash is None:
        _burn_password_check(password)
    else:
        try:
            ok = _hasher.verify(resident.password_hash, _stable(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    if not ok or resident is None:
        audit.record(
            db.session(),
            actor="anonymous",
            action="login_failed",
            subject=f"resident:{resident.id}" if resident else None,
            data={
                "method": "password",
                # an address only: a password typed into the wrong box stays out of the log
                "email": email if email_error(email) is None else None,
                "ip": request.remote_addr,
            },
        )
        db.commit()
        return None
    if _hasher.check_needs_rehash(resident.password_hash or ""):
        resident.password_hash = _hash_password(password)
    _record_login(resident, "password")
    db.commit()
    _start_session(resident)
    return resident


def _record_login(resident: Resident, method: str) -> None:
    # Mail goes out in the language the resident last used.
    resident.language = current_language()
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}",
        action="login",
        subject=f"resident:{resident.id}",
        data={"method": method, "ip": request.remote_addr},
    )


def record_failed_card_login(reason: str) -> None:
    resident = current_resident()
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}" if resident else "anonymous",
        action="login_failed",
        subject=None,
        data={"method": "card_app", "reason": reason, "ip": request.remote_addr},
    )
    db.commit()


def log_out() -> None:
    resident = current_resident()
    if resident is not None:
        audit.record(
            db.session(),
            actor=f"resident:{resident.id}",
            action="logout",
            subject=f"resident:{resident.id}",
        )
        db.commit()
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    _cache_resident(None)


# --- forgotten passwords ----------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    resident = _resident_by_email(email)
    if resident is None:
        return
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    raw = issue_token(
        "reset", resident.email, datetime.timedelta(hours=hours), resident_id=resident.id
    )
    with force_locale(resident.language):
        _mail(
            resident.email,
            _("Set a new password for Madoguchi"),
            _("Open this link to set a new password:"),
            external_url("resident.reset_password", token=raw),
            _("The link works once, for %(hours)s hours.", hours=hours),
            _(
                "If you did not ask for a new password, ignore this email."
                " Your password has not changed."
            ),
        )
    db.commit()


def reset_password(raw: str, password: str) -> Resident:
    """Set the password from a reset link and log in; raises `TokenError`."""
    token = use_token(raw, "reset")
    resident = db.session().get(Resident, token.resident_id) if token.resident_id else None
    if resident is None or resident.email != token.email:
        raise TokenError("invalid")
    resident.password_hash = _hash_password(password)
    # The link reached the mailbox, which is all a verification link proves.
    if resident.email_verified_at is None:
        resident.email_verified_at = _now()
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}",
        action="password_reset",
        subject=f"resident:{resident.id}",
        data={"ip": request.remote_addr},
    )
    _record_login(resident, "password_reset")
    db.commit()
    _start_session(resident)
    return resident


# --- the My Number card app ----------------------------------------------------


def resident_by_card(card_serial: str) -> Resident | None:
    return db.session().scalars(select(Resident).where(Resident.card_serial == card_serial)).first()


def _store_identity(resident: Resident, identity: VerifiedIdentity) -> None:
    before = resident.identity or {}
    if (
        before
        and resident.id is not None
        and ((before.get("name"), before.get("address")) != (identity.name, identity.address))
    ):
        # JPKI revokes the signing certificate when the name or address changes.
        from madoguchi.signatures import revoke_resident

        revoke_resident(db.session(), resident.id)
    resident.identity = identity.as_dict()
    resident.card_serial = identity.card_serial
    resident.identity_verified_at = _now()
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}",
        action="identity_verified",
        subject=f"resident:{resident.id}",
        data={"method": "card_app"},
    )


class CardAlreadyLinkedError(Exception):
    """The card belongs to another account."""


def link_identity(resident: Resident, identity: VerifiedIdentity) -> None:
    """Attach a verified identity to the logged-in resident's account."""
    owner = resident_by_card(identity.card_serial)
    if owner is not None and owner.id != resident.id:
        raise CardAlreadyLinkedError
    _store_identity(resident, identity)
    db.commit()


def log_in_with_card(identity: VerifiedIdentity) -> Resident | None:
    """Log in the account of this card, refreshing what the card says; None if there is none."""
    resident = resident_by_card(identity.card_serial)
    if resident is None:
        return None
    # The card is the source of truth: the address changes when the resident moves.
    _store_identity(resident, identity)
    _record_login(resident, "card_app")
    db.commit()
    _start_session(resident)
    return resident


class EmailTakenError(Exception):
    """The address already has an account, which must be logged into first."""


def sign_up_with_card(identity: VerifiedIdentity, email: str, next_url: str | None) -> Resident:
    """An account for a card seen for the first time; logs in and mails the confirmation link."""
    if _resident_by_email(email) is not None:
        raise EmailTakenError
    resident = Resident(email=email, password_hash=None, language=current_language())
    db.session().add(resident)
    try:
        db.session().flush()
    except IntegrityError:
        db.rollback()
        raise EmailTakenError from None
    audit.record(
        db.session(),
        actor=f"resident:{resident.id}",
        action="signup",
        subject=f"resident:{resident.id}",
        data={"method": "card_app", "ip": request.remote_addr},
    )
    _store_identity(resident, identity)
    _record_login(resident, "card_app")
    send_verification(resident, next_url)
    db.commit()
    _start_session(resident)
    return resident


# --- guests ------------------------------------------------------------------------


def send_guest_link(procedure_id: str, title: str, email: str, next_url: str | None) -> None:
    hours = current_app.config["GUEST_LINK_HOURS"]
    raw = issue_token("guest", email, datetime.timedelta(hours=hours), procedure_id=procedure_id)
    values: dict[str, str] = {"token": raw}
    if safe_next_url(next_url):
        values["next"] = str(next_url)
    _mail(
        email,
        _("Your link to apply: %(title)s", title=title),
        _("Open this link to continue your application without an account:"),
        external_url("resident.guest_link", **values),
        _("The link works once, for %(hours)s hours.", hours=hours),
        _("If you did not ask for this link, ignore this email."),
    )
    db.commit()


@dataclass(frozen=True)
class GuestSession:
    procedure_id: str
    email: str


def start_guest_session(raw: str) -> GuestSession:
    """Use up a guest link and let this browser file its procedure; raises `TokenError`."""
    token = use_token(raw, "guest")
    if not token.procedure_id:
        raise TokenError("invalid")
    audit.record(
        db.session(),
        actor=f"guest:{token.email}",
        action="guest_session",
        subject=f"procedure:{token.procedure_id}",
        data={"email": token.email, "ip": request.remote_addr},
    )
    db.commit()
    guests = dict(session.get(GUESTS_KEY) or {})
    guests[token.procedure_id] = {"email": token.email, "at": int(time.time())}
    session[GUESTS_KEY] = guests
    return GuestSession(token.procedure_id, token.email)
