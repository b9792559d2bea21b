"""Resident accounts through real HTTP: sign-up, confirmation links, login, logout, limits."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import (
    PASSWORD,
    audit_rows,
    create_resident,
    csrf_from,
    link_in,
    log_in_resident,
    outbox,
    post_form,
    resident_by_email,
)
from sqlalchemy import select, update

from madoguchi import db
from madoguchi.models import EmailToken, Resident
from madoguchi.security import limiter
from madoguchi.services import accounts

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def fresh_limits(app: Flask) -> Iterator[None]:
    # The limiter's counters live as long as the process; each test starts at zero.
    limiter.reset()
    yield
    limiter.reset()


def sign_up(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        "/signup",
        {"email": email, "password": password, "password_confirm": password, **extra},
        headers=EN,
    )


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    url = f"/login?next={next_url}" if next_url else "/login"
    return post_form(client, url, {"email": email, "password": password}, headers=EN)


# --- signing up ----------------------------------------------------------------------


def test_sign_up_mails_a_link_that_confirms_the_address_then_login_works(
    app: Flask, client: FlaskClient
) -> None:
    response = sign_up(client, "  Hanako.Yamada@Example.JP ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-email"
    page = client.get("/check-email", headers=EN).text
    assert "Check your email" in page
    assert "hanako.yamada@example.jp" in page

    resident = resident_by_email(app, "hanako.yamada@example.jp")
    assert resident is not None, "the address is stored lower-cased and trimmed"
    assert resident.email_verified_at is None
    assert resident.password_hash
    assert resident.password_hash.startswith("$argon2")

    [mail] = outbox(app)
    assert mail.to == "hanako.yamada@example.jp"
    assert "Confirm your email address" in mail.subject
    confirmed = client.get(link_in(mail), headers=EN)
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == "/login"
    assert "Your email address is confirmed" in client.get("/login", headers=EN).text

    assert log_in(client, "HANAKO.YAMADA@example.jp").status_code == 302
    with client:
        assert "Confirmed" in client.get("/account", headers=EN).text
        me = accounts.current_resident()
        assert me is not None
        assert me.email == "hanako.yamada@example.jp"
        assert accounts.resident_can_file(me)


def test_only_the_hash_of_the_token_is_stored(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "hash@example.jp")
    token = link_in(outbox(app)[0]).split("/")[-1]
    with app.app_context():
        [row] = db.session().scalars(select(EmailToken)).all()
        assert row.purpose == "verify"
        assert token not in row.token_hash
        expires = row.expires_at.replace(tzinfo=row.expires_at.tzinfo or datetime.UTC)
        left = expires - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(hours=23) < left <= datetime.timedelta(hours=24)


def test_unconfirmed_resident_can_log_in_but_cannot_file_until_confirming(
    app: Flask, client: FlaskClient
) -> None:
    sign_up(client, "later@example.jp")
    response = log_in(client, "later@example.jp")
    assert response.status_code == 302
    with client:
        page = client.get("/account", headers=EN).text
        assert "Not confirmed yet" in page
        me = accounts.current_resident()
        assert me is not None
        assert not accounts.resident_can_file(me)

    # Lost the first mail: ask again from the account page.
    resent = post_form(client, "/account/verification-email", {}, form_url="/account", headers=EN)
    assert resent.status_code == 302
    assert len(outbox(app)) == 2
    client.get(link_in(outbox(app)[1]))
    resident = resident_by_email(app, "later@example.jp")
    assert resident is not None
    assert resident.email_verified_at is not None


def test_sign_up_with_a_taken_address_looks_the_same_and_tells_the_owner(
    app: Flask, client: FlaskClient
) -> None:
    create_resident(app, "taken@example.jp", language="en")
    response = sign_up(client, "Taken@example.jp", password="another good password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-email"
    with app.app_context():
        count = len(
            db.session().scalars(select(Resident).where(Resident.email == "taken@example.jp")).all()
        )
    assert count == 1
    [mail] = outbox(app)
    assert mail.to == "taken@example.jp"
    assert "already have" in mail.subject, "in the owner's language, whoever typed the address"
    assert "/login" in mail.body
    assert "/password/forgot" in mail.body
    # The existing password still works: nothing about the account changed.
    assert log_in(client, "taken@example.jp").status_code == 302


def test_sign_up_errors_are_summarised_and_shown_by_each_field(client: FlaskClient) -> None:
    response = post_form(
        client,
        "/signup",
        {"email": "not-an-address", "password": "short", "password_confirm": "short"},
        headers=EN,
    )
    assert response.status_code == 200
    page = response.text
    assert '<div class="error-summary" role="alert"' in page
    assert '<a href="#email">Enter an email address in the correct format' in page
    assert '<a href="#password">Your password must be at least 10 characters long' in page
    assert 'aria-describedby="email-hint email-error"' in page
    assert 'id="password-error"' in page
    assert 'value="not-an-address"' in page, "what the resident typed is kept"
    assert 'value="short"' not in page, "passwords are never sent back"
    assert "<title>Error: Create an account" in page


def test_sign_up_needs_the_same_password_twice(client: FlaskClient) -> None:
    response = post_form(
        client,
        "/signup",
        {"email": "twice@example.jp", "password": PASSWORD, "password_confirm": PASSWORD + "x"},
        headers=EN,
    )
    assert '<a href="#password_confirm">The passwords do not match' in response.text


def test_full_width_address_from_a_japanese_keyboard_is_accepted(
    app: Flask, client: FlaskClient
) -> None:
    assert sign_up(client, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ").status_code == 302
    assert resident_by_email(app, "taro@example.jp") is not None


def test_a_password_typed_full_width_by_an_ime_still_matches(
    app: Flask, client: FlaskClient
) -> None:
    sign_up(client, "ime@example.jp", password="ｍｉｄｏｓｕｊｉ　ｇｉｎｋｏ　２０２６")
    assert log_in(client, "ime@example.jp", password="midosuji ginko 2026").status_code == 302


# --- confirmation links -------------------------------------------------------------------


def test_a_used_confirmation_link_is_refused(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "twice-used@example.jp")
    link = link_in(outbox(app)[0])
    assert client.get(link).status_code == 302
    again = client.get(link, headers=EN)
    assert again.status_code == 410
    assert "already been used" in again.text


def test_an_expired_confirmation_link_is_refused(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "slow@example.jp")
    with app.app_context():
        db.session().execute(
            update(EmailToken).values(
                expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
            )
        )
        db.session().commit()
    response = client.get(link_in(outbox(app)[0]), headers=EN)
    assert response.status_code == 410
    assert "This link has expired" in response.text
    resident = resident_by_email(app, "slow@example.jp")
    assert resident is not None
    assert resident.email_verified_at is None


def test_a_made_up_link_is_refused(client: FlaskClient) -> None:
    response = client.get("/verify-email/made-up-token", headers=EN)
    assert response.status_code == 404
    assert "This link is not valid" in response.text


# --- logging in and out ---------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_message(
    app: Flask, client: FlaskClient
) -> None:
    create_resident(app, "known@example.jp")
    wrong = log_in(client, "known@example.jp", password="wrong password entirely")
    unknown = log_in(client, "nobody@example.jp", password="wrong password entirely")
    message = "The email address or password is not right"
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert f'<a href="#email">{message}</a>' in response.text
    assert 'value="known@example.jp"' in wrong.text
    with client:
        client.get("/")
        assert accounts.current_resident() is None


def test_empty_login_form_says_what_is_missing(client: FlaskClient) -> None:
    page = post_form(client, "/login", {"email": "", "password": ""}, headers=EN).text
    assert '<a href="#email">Enter your email address</a>' in page
    assert '<a href="#password">Enter your password</a>' in page


def test_every_login_is_audited_without_the_password(app: Flask, client: FlaskClient) -> None:
    resident_id = create_resident(app, "audited@example.jp")
    log_in(client, "audited@example.jp", password="not the password at all")
    log_in(client, "stranger@example.jp", password="not the password at all")
    log_in(client, "audited@example.jp")

    [success] = audit_rows(app, "login")
    assert success.actor == f"resident:{resident_id}"
    assert success.subject == f"resident:{resident_id}"
    assert success.data["method"] == "password"
    failures = audit_rows(app, "login_failed")
    assert [f.actor for f in failures] == ["anonymous", "anonymous"]
    assert failures[0].subject == f"resident:{resident_id}"
    assert failures[1].data["email"] == "stranger@example.jp"
    for row in [success, *failures]:
        text = json.dumps(row.data)
        assert PASSWORD not in text
        assert "not the password at all" not in text


def test_login_starts_a_fresh_session_but_keeps_the_language(
    app: Flask, client: FlaskClient
) -> None:
    create_resident(app, "fresh@example.jp")
    client.get("/?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    log_in(client, "fresh@example.jp")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert isinstance(session[accounts.RESIDENT_KEY], int)


def test_log_out_forgets_the_resident(app: Flask, client: FlaskClient) -> None:
    log_in_resident(client, "leaving@example.jp")
    page = client.get("/", headers=EN).text
    assert "My applications" in page
    assert "Log out" in page
    response = post_form(client, "/logout", {}, form_url="/", headers=EN)
    assert response.status_code == 302
    page = client.get("/", headers=EN).text
    assert "You have logged out." in page
    assert ">Log in</a>" in page
    assert client.get("/account").status_code == 302
    assert audit_rows(app, "logout")


def test_a_login_expires_after_the_configured_hours(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in_resident(client, "sleepy@example.jp")
    assert client.get("/account").status_code == 200
    monkeypatch.setitem(app.config, "RESIDENT_SESSION_HOURS", 0)
    assert client.get("/account").status_code == 302


# --- resident_required and `next` -----------------------------------------------------------


def test_resident_required_sends_to_login_and_back(app: Flask, client: FlaskClient) -> None:
    response = client.get("/account?tab=identity")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/account?tab=identity"]

    create_resident(app, "back@example.jp")
    back = log_in(client, "back@example.jp", next_url="/account%3Ftab%3Didentity")
    assert back.status_code == 302
    assert back.headers["Location"] == "/account?tab=identity"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_login_never_redirects_to_another_site(
    app: Flask, client: FlaskClient, target: str
) -> None:
    create_resident(app, "careful@example.jp")
    page = client.get("/login", query_string={"next": target}, headers=EN)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": "careful@example.jp",
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/applications"
    with app.test_request_context():
        assert accounts.login_url(target) == "/login"


# --- forgotten passwords ---------------------------------------------------------------------


def test_forgotten_password_link_sets_a_new_one_and_logs_out_other_browsers(
    app: Flask, client: FlaskClient
) -> None:
    other_browser = app.test_client()
    log_in_resident(other_browser, "forgetful@example.jp")
    assert other_browser.get("/account").status_code == 200

    response = post_form(client, "/password/forgot", {"email": "forgetful@example.jp"}, headers=EN)
    assert response.headers["Location"] == "/check-email"
    [mail] = outbox(app)
    link = link_in(mail)
    assert client.get(link).status_code == 200, "opening the link uses nothing up"
    new_password = "a brand new passphrase"
    done = post_form(
        client, link, {"password": new_password, "password_confirm": new_password}, headers=EN
    )
    assert done.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_browser.get("/account").status_code == 302, "the old session is outdated"
    assert client.get(link, headers=EN).status_code == 410

    post_form(client, "/logout", {}, form_url="/")
    assert log_in(client, "forgetful@example.jp").status_code == 200
    assert log_in(client, "forgetful@example.jp", password=new_password).status_code == 302


def test_forgotten_password_for_an_unknown_address_says_the_same(
    app: Flask, client: FlaskClient
) -> None:
    response = post_form(client, "/password/forgot", {"email": "ghost@example.jp"}, headers=EN)
    assert response.headers["Location"] == "/check-email"
    assert outbox(app) == []


# --- CSRF and rate limits ---------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    create_resident(app, "csrf@example.jp")
    response = client.post(
        "/login", data={"email": "csrf@example.jp", "password": PASSWORD}, headers=EN
    )
    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert audit_rows(app, "login") == []


def test_too_many_logins_get_a_friendly_429_page(app: Flask, client: FlaskClient) -> None:
    for _ in range(10):
        response = log_in(client, "guess@example.jp", password="guessing the password")
        assert response.status_code == 200
    response = log_in(client, "guess@example.jp", password="guessing the password")
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert '<html lang="en">' in response.text
    assert "Too many attempts" in response.text
    assert "Retry-After" in response.headers
    assert client.get("/login").status_code == 200, "only posting is limited"


def test_too_many_sign_ups_get_a_friendly_429_page(client: FlaskClient) -> None:
    for number in range(5):
        assert sign_up(client, f"bulk{number}@example.jp").status_code == 302
    response = sign_up(client, "bulk5@example.jp")
    assert response.status_code == 429
    assert "Too many attempts" in response.text


@pytest.mark.parametrize("url", ["/signup", "/login", "/password/forgot"])
def test_every_input_has_a_label_and_every_form_a_csrf_token(client: FlaskClient, url: str) -> None:
    page = client.get(url, headers=EN).text
    inputs = re.findall(r'<input id="([^"]+)" name="[^"]+" type="(?!hidden)', page)
    assert inputs
    for input_id in inputs:
        assert f'<label for="{input_id}">' in page
    assert page.count("<form") == page.count('name="csrf_token"')
    assert "style=" not in page
    assert "<script" not in page


def test_the_header_login_link_comes_back_to_the_page(client: FlaskClient) -> None:
    page = client.get("/?lang=en").text
    assert '<a href="/login?next=/?lang%3Den">Log in</a>' in page
    login_page = client.get("/login").text
    assert '<a href="/login">' in login_page
