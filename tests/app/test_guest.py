"""Applying without an account: a one-time link proves the guest's email address."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import audit_rows, csrf_from, link_in, outbox, post_form
from sqlalchemy import select, update

from madoguchi import db
from madoguchi.models import EmailToken
from madoguchi.security import limiter
from madoguchi.services import accounts

EN = {"Accept-Language": "en"}
GUEST_OK = "oversized-garbage"
LOGIN_REQUIRED = "juminhyo-copy"


@pytest.fixture(autouse=True)
def fresh_limits(app: Flask) -> Iterator[None]:
    limiter.reset()
    yield
    limiter.reset()


def ask_for_link(client: FlaskClient, email: str, procedure_id: str = GUEST_OK):  # type: ignore[no-untyped-def]
    return post_form(client, f"/procedures/{procedure_id}/guest", {"email": email}, headers=EN)


def test_guest_link_lets_this_browser_apply_for_that_procedure(
    app: Flask, client: FlaskClient, published: None
) -> None:
    page = client.get(f"/procedures/{GUEST_OK}/guest", headers=EN)
    assert page.status_code == 200
    assert "Apply without an account" in page.text
    assert '<label for="email">' in page.text

    response = ask_for_link(client, " Guest@Example.JP ")
    assert response.headers["Location"] == "/check-email"
    assert "guest@example.jp" in client.get("/check-email", headers=EN).text
    [mail] = outbox(app)
    assert mail.to == "guest@example.jp"
    assert "oversized garbage" in mail.subject.lower()

    with app.app_context():
        [token] = db.session().scalars(select(EmailToken)).all()
        assert token.purpose == "guest"
        assert token.procedure_id == GUEST_OK
        expires = token.expires_at.replace(tzinfo=token.expires_at.tzinfo or datetime.UTC)
        left = expires - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(minutes=59) < left <= datetime.timedelta(hours=1)

    link = link_in(mail)
    confirm = client.get(link, headers=EN)
    assert confirm.status_code == 200
    assert "guest@example.jp" in confirm.text
    started = client.post(link, data={"csrf_token": csrf_from(confirm.text)})
    assert started.status_code == 302
    assert started.headers["Location"] == f"/procedures/{GUEST_OK}"

    with client:
        client.get("/")
        assert accounts.current_guest_email(GUEST_OK) == "guest@example.jp"
        assert accounts.current_guest_email(LOGIN_REQUIRED) is None
        assert accounts.current_resident() is None
    [row] = audit_rows(app, "guest_session")
    assert row.subject == f"procedure:{GUEST_OK}"


def test_guest_link_goes_on_to_the_page_the_guest_came_from(
    app: Flask, client: FlaskClient, published: None
) -> None:
    post_form(
        client,
        f"/procedures/{GUEST_OK}/guest?next=/procedures/{GUEST_OK}/start",
        {"email": "next@example.jp"},
    )
    link = link_in(outbox(app)[0])
    assert f"next=/procedures/{GUEST_OK}/start" in link.replace("%2F", "/")
    page = client.get(link)
    started = client.post(link, data={"csrf_token": csrf_from(page.text)})
    assert started.headers["Location"] == f"/procedures/{GUEST_OK}/start"


def test_opening_the_link_uses_nothing_up_until_the_guest_continues(
    app: Flask, client: FlaskClient, published: None
) -> None:
    ask_for_link(client, "scanned@example.jp")
    link = link_in(outbox(app)[0])
    mail_scanner = app.test_client()
    assert mail_scanner.get(link).status_code == 200
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_from(page.text)}).status_code == 302


def test_a_guest_link_works_once(app: Flask, client: FlaskClient, published: None) -> None:
    ask_for_link(client, "once@example.jp")
    link = link_in(outbox(app)[0])
    page = client.get(link)
    client.post(link, data={"csrf_token": csrf_from(page.text)})

    other = app.test_client()
    again = other.get(link, headers=EN)
    assert again.status_code == 410
    assert "already been used" in again.text
    with other:
        other.get("/")
        assert accounts.current_guest_email(GUEST_OK) is None


def test_an_expired_guest_link_offers_a_new_one(
    app: Flask, client: FlaskClient, published: None
) -> None:
    ask_for_link(client, "late@example.jp")
    with app.app_context():
        db.session().execute(
            update(EmailToken).values(
                expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
            )
        )
        db.session().commit()
    response = client.get(link_in(outbox(app)[0]), headers=EN)
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert f'href="/procedures/{GUEST_OK}/guest"' in response.text


def test_a_guest_session_ends_after_the_configured_hours(
    app: Flask, client: FlaskClient, published: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask_for_link(client, "brief@example.jp")
    link = link_in(outbox(app)[0])
    client.post(link, data={"csrf_token": csrf_from(client.get(link).text)})
    monkeypatch.setitem(app.config, "GUEST_SESSION_HOURS", 0)
    with client:
        client.get("/")
        assert accounts.current_guest_email(GUEST_OK) is None


def test_a_wrong_address_is_explained_by_the_field(
    app: Flask, client: FlaskClient, published: None
) -> None:
    response = ask_for_link(client, "guest-at-example.jp")
    assert response.status_code == 200
    assert '<a href="#email">Enter an email address in the correct format' in response.text
    assert 'value="guest-at-example.jp"' in response.text
    assert outbox(app) == []


def test_a_procedure_that_needs_an_account_sends_guests_to_log_in(
    client: FlaskClient, published: None
) -> None:
    response = client.get(f"/procedures/{LOGIN_REQUIRED}/guest")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_an_unknown_procedure_has_no_guest_page(client: FlaskClient, published: None) -> None:
    assert client.get("/procedures/no-such-thing/guest").status_code == 404


def test_asking_for_many_links_is_limited(client: FlaskClient, published: None) -> None:
    for number in range(5):
        assert ask_for_link(client, f"spam{number}@example.jp").status_code == 302
    response = ask_for_link(client, "spam5@example.jp")
    assert response.status_code == 429
    assert "Too many attempts" in response.text
