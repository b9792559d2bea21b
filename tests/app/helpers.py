"""Going through the real forms in tests: CSRF tokens, logging in, reading mail.

CSRF protection is on in tests (as in production), so every POST first
fetches its form and sends the token back, as a browser would.
"""

from __future__ import annotations

import datetime
import html
import re
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from madoguchi import db
from madoguchi.mail import Mail
from madoguchi.models import AuditEvent, Resident
from madoguchi.security import limiter

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+")


def csrf_from(page: str) -> str:
    """The CSRF token of the (first) form in `page`."""
    found = _CSRF.search(page)
    assert found, "the page has a form with a CSRF token"
    return html.unescape(found.group(1))


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, Any],
    *,
    form_url: str | None = None,
    **kwargs: Any,
) -> TestResponse:
    """GET the form (at `form_url`, default `url`), then POST `data` with its CSRF token."""
    page = client.get(form_url or url, **kwargs)
    assert page.status_code == 200, f"GET {form_url or url} -> {page.status_code}"
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)}, **kwargs)


def create_resident(
    app: Flask,
    email: str,
    *,
    password: str | None = PASSWORD,
    verified: bool = True,
    identity: dict[str, str] | None = None,
    language: str = "ja",
) -> int:
    """A resident written straight to the database; returns the id."""
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context():
        resident = Resident(
            email=email,
            password_hash=PasswordHasher().hash(password) if password else None,
            email_verified_at=now if verified else None,
            identity=identity,
            card_serial=(identity or {}).get("card_serial"),
            identity_verified_at=now if identity else None,
            language=language,
        )
        db.session().add(resident)
        db.session().commit()
        return resident.id


def log_in_resident(
    client: FlaskClient,
    email: str,
    *,
    verified: bool = True,
    identity: dict[str, str] | None = None,
) -> int:
    """A new resident (verified unless told otherwise), logged in through the login form.

    Returns the resident's id.  The login rate limit is reset first, so that
    a module logging in many times within a minute is not refused with 429.
    """
    app = client.application
    resident_id = create_resident(app, email, verified=verified, identity=identity)
    with app.app_context():
        limiter.reset()
    response = post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return resident_id


def outbox(app: Flask) -> list[Mail]:
    sent: list[Mail] = app.extensions["madoguchi.outbox"]
    return sent


def link_in(mail: Mail) -> str:
    """The path and query of the first link in a mail, ready for the test client."""
    found = _LINK.search(mail.body)
    assert found, f"a link in {mail.body!r}"
    parts = urlsplit(found.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def resident_by_email(app: Flask, email: str) -> Resident | None:
    """The row as it is now, detached (its attributes loaded, its session closed)."""
    with app.app_context():
        found = db.session().scalars(select(Resident).where(Resident.email == email)).first()
        if found is not None:
            db.session().expunge(found)
        return found


def audit_rows(app: Flask, action: str) -> list[AuditEvent]:
    """The audit rows of one action, oldest first, detached."""
    with app.app_context():
        rows = list(
            db.session().scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        db.session().expunge_all()
        return rows
