"""Helpers of the office room's work tests: filing as a resident, staff clients, the DB.

Applications are filed through real HTTP with `filing_walker.Walk`, as a
resident; bigger queues copy a filed application row by row (new ids and
receipt numbers), which is what the queue reads.
"""

from __future__ import annotations

import datetime
import re
import secrets
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from staff_helpers import create_staff, csrf_from, log_in_resident, log_in_staff

from madoguchi import db
from madoguchi.models import Application, ApplicationEvent

__all__ = [
    "application_row",
    "clone_application",
    "file_as_resident",
    "post_with_csrf",
    "resident_client",
    "set_columns",
    "staff_client",
    "take",
]

_RECEIPT = re.compile(r"\d{5}-\d{4}-\d{6}")
_counter = iter(range(1, 1_000_000))


def file_as_resident(
    app: Flask,
    procedure_id: str = "child-allowance",
    *,
    email: str | None = None,
    answers: dict[str, Any] | None = None,
    client: FlaskClient | None = None,
) -> str:
    """File one application through the resident's pages; returns its public id.

    A new resident (on a client of their own) files, unless `client` is a
    logged-in resident's.
    """
    from filing_walker import Walk  # tests/app: on sys.path once staff_helpers is imported

    if client is None:
        client = resident_client(app, email or f"resident{next(_counter)}@example.jp")
    filed = Walk(client, app, procedure_id, answers=answers or {}).file()
    assert filed.status_code == 302, filed.text
    assert "/applications/" in filed.headers["Location"], "filed (not sent back to the review)"
    return filed.headers["Location"].rstrip("/").split("/")[-2]


def resident_client(app: Flask, email: str) -> FlaskClient:
    """A new resident, logged in on a client of their own, pages in English."""
    client = app.test_client()
    log_in_resident(client, email)
    client.get("/?lang=en")
    return client


def staff_client(
    app: Flask,
    email: str,
    roles: list[tuple[str, str]],
    *,
    name: str = "Test Staff",
) -> tuple[FlaskClient, int]:
    """A new staff member, logged in on a client of their own."""
    staff_id = create_staff(app, email, roles, name=name)
    client = app.test_client()
    log_in_staff(client, email)
    client.get("/office/?lang=en")  # pages in English from here on
    return client, staff_id


def application_row(app: Flask, public_id: str) -> Application:
    """The application as it is now, detached (events and documents loaded)."""
    with app.app_context():
        session = db.session()
        found = session.scalars(select(Application).where(Application.public_id == public_id)).one()
        _ = list(found.events), list(found.documents), list(found.files)
        session.expunge_all()
        return found


def set_columns(app: Flask, public_id: str, **values: Any) -> None:
    """Change columns straight in the database (due dates, states, assignees)."""
    with app.app_context():
        db.session().execute(
            update(Application)
            .where(Application.public_id == public_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session().commit()


def clone_application(app: Flask, public_id: str, count: int, **values: Any) -> list[str]:
    """`count` copies of a filed application (own ids, receipt numbers, filing event)."""
    made = []
    with app.app_context():
        session = db.session()
        source = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        columns = {
            c.key: getattr(source, c.key)
            for c in Application.__table__.columns
            if c.key not in ("id", "public_id", "receipt_number", "draft_public_id")
        }
        prefix, year, _number = source.receipt_number.split("-")
        for _ in range(count):
            copy = Application(
                **{**columns, **values},
                public_id=secrets.token_hex(16),
                receipt_number=f"{prefix}-{year}-{900000 + next(_counter):06d}",
            )
            copy.row_version = 1
            session.add(copy)
            session.flush()
            session.add(
                ApplicationEvent(
                    application_id=copy.id,
                    action="file",
                    from_state=None,
                    to_state=copy.state,
                    by_role="applicant",
                    actor="system",
                    fields={},
                    edit_pages=[],
                    at=copy.filed_at,
                )
            )
            made.append(copy.public_id)
        session.commit()
    return made


def post_with_csrf(
    client: FlaskClient, url: str, data: dict[str, Any], *, form_url: str, **kwargs: Any
) -> Any:
    """GET `form_url` for its CSRF token, then POST `data` to `url`."""
    page = client.get(form_url)
    assert page.status_code == 200, f"GET {form_url} -> {page.status_code}"
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)}, **kwargs)


def receipt_numbers(html: str) -> list[str]:
    return _RECEIPT.findall(html)


def today_jst() -> datetime.date:
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date()


_ROW_VERSION = re.compile(r'name="row_version" value="(\d+)"')


def take(
    client: FlaskClient,
    public_id: str,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    page_html: str | None = None,
) -> Any:
    """Post an action form of the application page (its CSRF token and row version).

    `page_html` is a page loaded earlier: its (possibly stale) row version is sent.
    """
    url = f"/office/applications/{public_id}"
    html = page_html if page_html is not None else client.get(url).text
    version = _ROW_VERSION.search(html)
    assert version, "the page has an action form"
    return client.post(
        f"{url}/actions/{action}",
        data={"csrf_token": csrf_from(html), "row_version": version.group(1), **(data or {})},
    )
