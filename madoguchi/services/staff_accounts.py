"""Staff accounts: logging in with a password and a TOTP code, and managing accounts.

Logging in takes two steps.  The password step leaves a short-lived marker
in the (signed) session cookie: the staff member's id, an expiry, and a
fingerprint of what the account's login depends on (password hash, TOTP
secret, last accepted time step), so that the marker dies when any of
these changes, and with it once a code has been accepted.  The marker is
not a login: `current_staff()` only looks at `STAFF_KEY`, which is set
after the second step, in a fresh session.

Codes are RFC 6238 TOTP (30 s steps, 6 digits, SHA-1: what every
authenticator app speaks).  A code of the previous or next step is
accepted for clock drift, and a code whose step is not newer than the last
one accepted is refused, so an overheard code cannot be used again.

Account management (`create_staff`, `change_roles`, `disable_staff`,
`reset_totp`, `list_staff`) is what the `madoguchi staff` commands call; it
raises `StaffAccountError` with a message for the person at the console.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import functools
import hashlib
import hmac
import posixpath
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, has_request_context, request, session, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from madoguchi import db
from madoguchi.catalogue import catalogue
from madoguchi.models import Staff, StaffRole
from madoguchi.services import audit
from madoguchi.services.accounts import email_error, normalise_email, safe_next_url
from madoguchi.services.staff import STAFF_AUTH_AT_KEY, STAFF_KEY, actor, current_staff
from workflow.model import Office

#: session key of the marker left by the password step
PENDING_KEY = "staff_pending"
#: session key of when the staff member passed both factors (seconds since the epoch)
AUTH_AT_KEY = STAFF_AUTH_AT_KEY
#: everything else in the session is dropped on login and logout
KEPT_ACROSS_LOGIN = ("lang",)

TOTP_ISSUER = "Madoguchi"
TOTP_DIGITS = 6
TOTP_INTERVAL = 30
#: steps accepted either side of the server's, for a phone whose clock is a little off
TOTP_DRIFT_STEPS = 1

MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 100
#: office ids come from offices.yaml; role ids are free, but plain: `clerk`, `road_engineer`
_ROLE_ID = re.compile(r"[a-z][a-z0-9_-]{0,63}")

#: the endpoint of the staff's work list, once the office room provides it
QUEUE_ENDPOINT = "office.queue"
HOME_ENDPOINT = "office.home"

# --- demo accounts (`madoguchi demo`): never for a real deployment ---------------------

DEMO_PASSWORD = "madoguchi-demo"  # noqa: S105 - printed on the console by `madoguchi demo`
#: one fixed TOTP secret for every demo account, so one authenticator entry works
DEMO_TOTP_SECRET = "MADOGUCHIDEMOONLYSECRETKEY234567"  # noqa: S105
DEMO_STAFF: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("clerk@kita.example.jp", "Kita Clerk (demo)", (("kita", "clerk"),)),
    ("supervisor@kita.example.jp", "Kita Supervisor (demo)", (("kita", "supervisor"),)),
    (
        "clerk@city-hall.example.jp",
        "City Hall Clerk (demo)",
        (("city-hall", "clerk"), ("city-hall", "road_engineer")),
    ),
    (
        "supervisor@city-hall.example.jp",
        "City Hall Supervisor (demo)",
        (("city-hall", "supervisor"),),
    ),
)

_hasher = PasswordHasher()


def _clock() -> float:
    """Seconds since the epoch; tests move it to expire markers and codes."""
    return time.time()


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(_clock(), datetime.UTC)


def _stable(password: str) -> str:
    # NFKC as on the resident side: an IME may type the same password full-width.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_stable(password))


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _check_password(staff: Staff | None, password: str) -> bool:
    """Whether `password` is the staff member's; as slow for an unknown address."""
    if staff is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), _stable(password))
        return False
    try:
        return _hasher.verify(staff.password_hash, _stable(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def staff_by_email(email: str) -> Staff | None:
    return db.session().scalars(select(Staff).where(Staff.email == normalise_email(email))).first()


def _remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


# --- where to go after logging in -------------------------------------------------------


def office_next_url(target: str | None) -> str | None:
    """`target` if it is a local path in the office room (not its login pages), else None."""
    safe = safe_next_url(target)
    if safe is None:
        return None
    # Browsers resolve `..` (and `%2e%2e`) before asking; judge the path they will ask for.
    path = posixpath.normpath(unquote(urlsplit(safe).path))
    if path != "/office" and not path.startswith("/office/"):
        return None
    if path.startswith(("/office/login", "/office/logout")):
        return None
    return safe


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def after_login_url(next_url: str | None = None) -> str:
    """`next_url` when it is a safe office path, else the queue, else the office home page."""
    safe = office_next_url(next_url)
    if safe:
        return safe
    if has_endpoint(QUEUE_ENDPOINT):
        return url_for(QUEUE_ENDPOINT)
    return url_for(HOME_ENDPOINT)


# --- TOTP ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(email: str, secret: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app imports (issuer "Madoguchi")."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=email, issuer_name=TOTP_ISSUER
    )


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type from the screen."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(raw: str) -> str:
    """Full-width digits made ASCII; spaces and hyphens some apps show are dropped."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"[\s\-]", "", text)


def code_is_well_formed(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, at: float) -> int | None:
    """The newest time step within the drift window whose code is `code`, or None."""
    if not code_is_well_formed(code):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    current = totp.timecode(at)
    found = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        # Compare every candidate: the time taken tells nothing about which matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    #: right code, but its time step was already used (or an older one was)
    REPLAYED = "replayed"


def _use_code(staff: Staff, secret: str, raw_code: str) -> CodeCheck:
    """Check a code and, when right, record its step so that it is never accepted again."""
    step = matching_step(secret, normalise_code(raw_code), _clock())
    if step is None:
        return CodeCheck.WRONG
    if staff.totp_last_step is not None and step <= staff.totp_last_step:
        return CodeCheck.REPLAYED
    # Conditional update: of two requests racing with the same code, one wins.
    result = db.session().execute(
        update(Staff)
        .where(
            Staff.id == staff.id,
            or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return CodeCheck.REPLAYED
    staff.totp_last_step = step
    return CodeCheck.ACCEPTED


# --- the marker between the two steps ------------------------------------------------------


def _fingerprint(staff: Staff) -> str:
    material = f"{staff.id}:{staff.password_hash}:{staff.totp_secret or ''}:{staff.totp_last_step}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _fresh_session() -> None:
    # Nothing a visitor had before (or a planted cookie) carries over.
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    g.current_staff = None


def _set_marker(staff: Staff, next_url: str | None) -> None:
    minutes = current_app.config["STAFF_LOGIN_STEP_MINUTES"]
    _fresh_session()
    session[PENDING_KEY] = {
        "id": staff.id,
        "exp": int(_clock() + minutes * 60),
        "fp": _fingerprint(staff),
        "next": office_next_url(next_url),
    }


@dataclass(frozen=True)
class Pending:
    """A staff member who passed the password step in this browser, and where they were going."""

    staff: Staff
    next_url: str | None


def pending_login() -> Pending | None:
    """The password step's marker, if it is still good; a stale one is removed."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict):
        return None
    staff_id, expires, fingerprint = marker.get("id"), marker.get("exp"), marker.get("fp")
    staff = db.session().get(Staff, staff_id) if isinstance(staff_id, int) else None
    minutes = current_app.config["STAFF_LOGIN_STEP_MINUTES"]
    now = _clock()
    if (
        staff is None
        or not staff.active
        or not isinstance(expires, int | float)
        or not now < expires <= now + minutes * 60 + 1
        or not isinstance(fingerprint, str)
        or not hmac.compare_digest(fingerprint, _fingerprint(staff))
    ):
        session.pop(PENDING_KEY, None)
        return None
    return Pending(staff, office_next_url(marker.get("next")))


def has_marker() -> bool:
    return isinstance(session.get(PENDING_KEY), dict)


def pending_staff_key() -> str:
    """Rate-limit key of the code forms: the account being logged into, else the address."""
    marker = session.get(PENDING_KEY)
    staff_id = marker.get("id") if isinstance(marker, dict) else None
    if isinstance(staff_id, int):
        return f"staff:{staff_id}"
    return f"addr:{request.remote_addr}"


# --- step one: the password ------------------------------------------------------------------


class PasswordStep(enum.Enum):
    #: go on to the code of the authenticator app
    CODE = "code"
    #: no second factor yet: go on to set one up
    ENROL = "enrol"
    #: unknown address or wrong password (which of the two is not told)
    REFUSED = "refused"
    #: right password, but the account is disabled
    DISABLED = "disabled"


def _login_failed(staff: Staff | None, email: str, stage: str, reason: str) -> None:
    audit.record(
        db.session(),
        actor="anonymous",
        action="staff.login_failed",
        subject=f"staff:{staff.id}" if staff else None,
        data={
            "stage": stage,
            "reason": reason,
            # an address only: a password typed into the wrong box stays out of the log
            "email": email if email_error(email) is None else None,
            "ip": _remote_addr(),
        },
    )
    db.commit()


def check_password(email: str, password: str, next_url: str | None = None) -> PasswordStep:
    """The first step.  On success the session holds the marker (and nothing else)."""
    email = normalise_email(email)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = ""
    staff = staff_by_email(email)
    if not _check_password(staff, password) or staff is None:
        _login_failed(staff, email, "password", "unknown_email" if staff is None else "password")
        return PasswordStep.REFUSED
    if not staff.active:
        _login_failed(staff, email, "password", "disabled")
        return PasswordStep.DISABLED
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    enrolling = staff.totp_confirmed_at is None or not staff.totp_secret
    if enrolling:
        # A new secret each time: one seen by whoever typed the password
        # before is useless once the real owner has enrolled.
        staff.totp_secret = new_totp_secret()
        staff.totp_confirmed_at = None
        staff.totp_last_step = None
    db.commit()
    _set_marker(staff, next_url)
    return PasswordStep.ENROL if enrolling else PasswordStep.CODE


# --- step two: the code --------------------------------------------------------------------------


def _start_session(staff: Staff) -> None:
    _fresh_session()
    session[STAFF_KEY] = staff.id
    session[AUTH_AT_KEY] = int(_clock())
    g.current_staff = staff


def _record_login(staff: Staff, method: str) -> None:
    staff.last_login_at = _now()
    audit.record(
        db.session(),
        actor=actor(staff),
        action="staff.login",
        subject=f"staff:{staff.id}",
        data={"method": method, "ip": _remote_addr()},
    )


def _code_failed(staff: Staff, outcome: CodeCheck, stage: str) -> None:
    _login_failed(staff, staff.email, stage, f"{outcome.value}_code")


def complete_login(pending: Pending, code: str) -> CodeCheck:
    """The second step for an enrolled staff member; logs in when the code is accepted."""
    staff = pending.staff
    assert staff.totp_secret is not None
    assert staff.totp_confirmed_at is not None
    outcome = _use_code(staff, staff.totp_secret, code)
    if outcome is not CodeCheck.ACCEPTED:
        _code_failed(staff, outcome, "code")
        return outcome
    _record_login(staff, "password+totp")
    db.commit()
    _start_session(staff)
    return outcome


def confirm_enrolment(pending: Pending, code: str) -> CodeCheck:
    """First login: the code proves the app holds the secret; confirms it and logs in."""
    staff = pending.staff
    assert staff.totp_secret is not None
    outcome = _use_code(staff, staff.totp_secret, code)
    if outcome is not CodeCheck.ACCEPTED:
        _code_failed(staff, outcome, "enrolment")
        return outcome
    staff.totp_confirmed_at = _now()
    audit.record(
        db.session(),
        actor=actor(staff),
        action="staff.totp_enrolled",
        subject=f"staff:{staff.id}",
        data={"ip": _remote_addr()},
    )
    _record_login(staff, "password+totp_enrolment")
    db.commit()
    _start_session(staff)
    return outcome


def log_out() -> None:
    staff = current_staff()
    if staff is not None:
        audit.record(
            db.session(),
            actor=actor(staff),
            action="staff.logout",
            subject=f"staff:{staff.id}",
            data={"ip": _remote_addr()},
        )
        db.commit()
    _fresh_session()


# --- what a staff member holds ------------------------------------------------------------------


def offices() -> dict[str, Office]:
    """Office id -> its `Office` (name and so on) from offices.yaml."""
    return catalogue().offices()


def roles_by_office(staff: Staff) -> list[tuple[str, list[str]]]:
    """[(office id, [roles...])...] in the order the roles were given."""
    grouped: dict[str, list[str]] = {}
    for role in staff.roles:
        grouped.setdefault(role.office_id, []).append(role.role)
    return list(grouped.items())


# --- managing accounts (the `madoguchi staff` commands) -------------------------------------------


class StaffAccountError(Exception):
    """Something the person at the console must fix; the message says what."""


def parse_role(text: str) -> tuple[str, str]:
    """`OFFICE:ROLE` -> (office, role), checked against offices.yaml."""
    office_id, sep, role = text.strip().partition(":")
    office_id, role = office_id.strip(), role.strip()
    if not sep or not office_id or not role:
        raise StaffAccountError(f"{text!r}: write a role as OFFICE:ROLE, like kita:clerk")
    offices = catalogue().offices()
    if office_id not in offices:
        known = ", ".join(sorted(offices))
        raise StaffAccountError(
            f"{text!r}: there is no office {office_id!r} in offices.yaml (offices: {known})"
        )
    if not _ROLE_ID.fullmatch(role):
        raise StaffAccountError(
            f"{text!r}: a role is lower-case letters, digits, _ or -, like clerk or road_engineer"
        )
    return office_id, role


def check_new_password(password: str, email: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(_stable(password)) < minimum:
        raise StaffAccountError(f"the password must be at least {minimum} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffAccountError(f"the password must be {MAX_PASSWORD_LENGTH} characters or fewer")
    if normalise_email(password) == email:
        raise StaffAccountError("the password must not be the email address")


def _required(email: str) -> Staff:
    staff = staff_by_email(email)
    if staff is None:
        raise StaffAccountError(f"no staff member has the address {normalise_email(email)!r}")
    return staff


@dataclass(frozen=True)
class NewStaff:
    staff: Staff
    #: the provisioning URI when the second factor was set up at once (`--totp`)
    totp_uri: str | None


def create_staff(
    email: str,
    name: str,
    password: str,
    roles: list[tuple[str, str]],
    *,
    with_totp: bool = False,
    by: str = "cli",
    totp_secret: str | None = None,
) -> NewStaff:
    """A new staff account.

    Without `with_totp` the second factor is set up at the first login.
    With it, a secret is made (or `totp_secret` used) and counted as
    confirmed: whoever runs the command hands the URI to the staff member.
    """
    email = normalise_email(email)
    if email_error(email) is not None:
        raise StaffAccountError(f"{email!r} is not an email address")
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise StaffAccountError(f"give a name of 1 to {MAX_NAME_LENGTH} characters")
    check_new_password(password, email)
    if staff_by_email(email) is not None:
        raise StaffAccountError(f"a staff member with the address {email!r} already exists")
    secret = (totp_secret or new_totp_secret()) if with_totp else None
    staff = Staff(
        email=email,
        name=name,
        password_hash=hash_password(password),
        totp_secret=secret,
        totp_confirmed_at=_now() if secret else None,
    )
    for office_id, role in dict.fromkeys(roles):
        staff.roles.append(StaffRole(office_id=office_id, role=role))
    db.session().add(staff)
    try:
        db.session().flush()
    except IntegrityError:
        db.rollback()
        raise StaffAccountError(
            f"a staff member with the address {email!r} already exists"
        ) from None
    audit.record(
        db.session(),
        actor=by,
        action="staff.created",
        subject=f"staff:{staff.id}",
        data={
            "email": email,
            "roles": [f"{o}:{r}" for o, r in dict.fromkeys(roles)],
            "totp": bool(secret),
        },
    )
    db.commit()
    return NewStaff(staff, provisioning_uri(email, secret) if secret else None)


@dataclass(frozen=True)
class RoleChange:
    staff: Staff
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    #: asked to remove but not held
    not_held: list[tuple[str, str]]


def change_roles(
    email: str,
    add: list[tuple[str, str]],
    remove: list[tuple[str, str]],
    *,
    by: str = "cli",
) -> RoleChange:
    staff = _required(email)
    held = {(r.office_id, r.role): r for r in staff.roles}
    added, removed, not_held = [], [], []
    for key in dict.fromkeys(remove):
        if key in held:
            staff.roles.remove(held.pop(key))
            removed.append(key)
        else:
            not_held.append(key)
    db.session().flush()  # deletes before inserts, or the unique constraint could trip
    for key in dict.fromkeys(add):
        if key not in held:
            staff.roles.append(StaffRole(office_id=key[0], role=key[1]))
            held[key] = staff.roles[-1]
            added.append(key)
    if added or removed:
        audit.record(
            db.session(),
            actor=by,
            action="staff.roles_changed",
            subject=f"staff:{staff.id}",
            data={
                "added": [f"{o}:{r}" for o, r in added],
                "removed": [f"{o}:{r}" for o, r in removed],
            },
        )
    db.commit()
    return RoleChange(staff, added, removed, not_held)


def disable_staff(email: str, *, by: str = "cli") -> bool:
    """Disable the account (its session stops working at once); False if it already was."""
    staff = _required(email)
    if staff.disabled_at is not None:
        return False
    staff.disabled_at = _now()
    audit.record(db.session(), actor=by, action="staff.disabled", subject=f"staff:{staff.id}")
    db.commit()
    return True


def reset_totp(email: str, *, by: str = "cli") -> None:
    """Forget the second factor (a lost phone): the next login sets up a new one."""
    staff = _required(email)
    staff.totp_secret = None
    staff.totp_confirmed_at = None
    staff.totp_last_step = None
    audit.record(db.session(), actor=by, action="staff.totp_reset", subject=f"staff:{staff.id}")
    db.commit()


def list_staff() -> list[Staff]:
    return list(db.session().scalars(select(Staff).order_by(Staff.email)))


def ensure_demo_staff() -> list[str]:
    """Create the demo accounts that are missing; returns the addresses created."""
    created = []
    for email, name, roles in DEMO_STAFF:
        if staff_by_email(email) is None:
            create_staff(
                email,
                name,
                DEMO_PASSWORD,
                list(roles),
                with_totp=True,
                by="demo",
                totp_secret=DEMO_TOTP_SECRET,
            )
            created.append(email)
    return created
