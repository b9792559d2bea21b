"""Staff accounts in tests: create one, and log in through the real two-step form.

Other office tests import these names (pytest puts this folder on sys.path):

    create_staff(app, email, [("kita", "clerk")], name=..., password=PASSWORD, enrolled=True)
    log_in_staff(client, email)
    csrf_from(html), post_form(...), PASSWORD, TOTP_SECRET, current_code(secret)
    log_in_resident(client, email), audit_rows(app, action)   (from tests/app/helpers.py)
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from madoguchi import db
from madoguchi.models import Staff, StaffRole
from madoguchi.security import limiter

# The resident side's helpers (CSRF, forms, audit rows, residents) live in
# tests/app/helpers.py, imported as `helpers` there; the same module here.
_APP_TESTS = str(Path(__file__).resolve().parent.parent / "app")
if _APP_TESTS not in sys.path:
    sys.path.append(_APP_TESTS)

from helpers import PASSWORD, audit_rows, csrf_from, log_in_resident, post_form  # noqa: E402

__all__ = [
    "PASSWORD",
    "TOTP_SECRET",
    "audit_rows",
    "create_staff",
    "csrf_from",
    "current_code",
    "log_in_resident",
    "log_in_staff",
    "post_form",
    "staff_by_email",
    "totp_secret_of",
]

#: the TOTP secret of every staff member created enrolled by `create_staff`
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def create_staff(
    app: Flask,
    email: str,
    roles: list[tuple[str, str]],
    *,
    name: str = "Test Staff",
    password: str = PASSWORD,
    enrolled: bool = True,
    disabled: bool = False,
) -> int:
    """A staff member written straight to the database; returns the id.

    Enrolled staff have the TOTP secret `TOTP_SECRET`; others set up their
    authenticator at the first login.
    """
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context():
        staff = Staff(
            email=email.lower(),
            name=name,
            password_hash=PasswordHasher().hash(password),
            totp_secret=TOTP_SECRET if enrolled else None,
            totp_confirmed_at=now if enrolled else None,
            disabled_at=now if disabled else None,
        )
        staff.roles = [StaffRole(office_id=office, role=role) for office, role in roles]
        db.session().add(staff)
        db.session().commit()
        return staff.id


def staff_by_email(app: Flask, email: str) -> Staff | None:
    """The row as it is now, detached (attributes and roles loaded)."""
    with app.app_context():
        found = db.session().scalars(select(Staff).where(Staff.email == email.lower())).first()
        if found is not None:
            _ = list(found.roles)
            db.session().expunge_all()
        return found


def totp_secret_of(app: Flask, email: str) -> str:
    staff = staff_by_email(app, email)
    assert staff is not None, f"no staff member {email}"
    assert staff.totp_secret, f"{email} has no TOTP secret"
    return staff.totp_secret


def current_code(secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def _forget_last_step(app: Flask, email: str) -> None:
    """Let this step's code be used again: tests log in many times within 30 seconds."""
    with app.app_context():
        db.session().execute(
            update(Staff).where(Staff.email == email.lower()).values(totp_last_step=None)
        )
        db.session().commit()


def log_in_staff(client: FlaskClient, email: str, *, password: str = PASSWORD) -> None:
    """Log in through /office/login and the code (or first-login enrolment) form.

    Resets the rate limits and the replay guard first, so a module may log
    in many times within a minute, and starts from an empty session, so it
    also switches a client from one staff member (or resident) to another.
    Sends Accept-Language: en.
    """
    app = client.application
    headers = {"Accept-Language": "en"}
    with client.session_transaction() as session:
        session.clear()
    with app.app_context():
        limiter.reset()
    _forget_last_step(app, email)
    response = post_form(
        client, "/office/login", {"email": email, "password": password}, headers=headers
    )
    assert response.status_code == 302, response.text
    step = urlsplit(response.headers["Location"]).path
    assert step in ("/office/login/code", "/office/login/enrol"), step
    secret = totp_secret_of(app, email)
    response = post_form(client, step, {"code": current_code(secret)}, headers=headers)
    assert response.status_code == 302, response.text
