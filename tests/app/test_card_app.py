"""Logging in with the My Number card app: the stand-in app and our side of the round trip."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import (
    audit_rows,
    create_resident,
    csrf_from,
    log_in_resident,
    outbox,
    post_form,
    resident_by_email,
)
from werkzeug.test import TestResponse

from forms.normalise import lookup_postal_code
from madoguchi import create_app
from madoguchi.identity import cardapp
from madoguchi.identity.cardapp import DEMO_CARDS
from madoguchi.security import limiter
from madoguchi.services import accounts

EN = {"Accept-Language": "en"}
HANAKO = DEMO_CARDS[0]
KENICHI = DEMO_CARDS[1]


@pytest.fixture(autouse=True)
def fresh_cards(app: Flask) -> Iterator[None]:
    # Card locks outlive requests on purpose; each test starts with every card unlocked.
    app.extensions[cardapp.EXTENSION].reset()
    limiter.reset()
    yield
    app.extensions[cardapp.EXTENSION].reset()


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def open_card_app(client: FlaskClient, next_url: str | None = None) -> str:
    """Press "Log in with the My Number Card app"; the card app's URL we are sent to."""
    response = client.get("/login/card", query_string={"next": next_url} if next_url else {})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/card-app/authorize"
    return location


def enter_pin(client: FlaskClient, app_url: str, card: cardapp.DemoCard, pin: str) -> TestResponse:
    trip = query_of(app_url)
    pin_url = "/card-app/pin?" + urlencode({"card": card.serial, **trip})
    page = client.get(pin_url, headers=EN)
    assert page.status_code == 200
    return client.post(
        "/card-app/pin",
        data={**trip, "card": card.serial, "pin": pin, "csrf_token": csrf_from(page.text)},
        headers=EN,
    )


def card_round_trip(
    client: FlaskClient, card: cardapp.DemoCard, next_url: str | None = None
) -> str:
    """Log in with `card` and PIN 1234; the callback URL the card app sends back."""
    back = enter_pin(client, open_card_app(client, next_url), card, "1234")
    assert back.status_code == 302
    assert urlsplit(back.headers["Location"]).path == "/login/card/callback"
    return local(back.headers["Location"])


def new_card_account(client: FlaskClient, card: cardapp.DemoCard, email: str) -> TestResponse:
    callback = client.get(card_round_trip(client, card))
    assert callback.headers["Location"] == "/login/card/new-account"
    return post_form(client, "/login/card/new-account", {"email": email}, headers=EN)


# --- the stand-in app --------------------------------------------------------------------


def test_the_card_app_is_visibly_another_app_listing_the_demo_cards(client: FlaskClient) -> None:
    page = client.get(open_card_app(client), headers=EN)
    assert page.status_code == 200
    html = page.text
    assert "My Number Card app" in html
    assert "cardapp.css" in html
    assert "site-header" not in html, "not Madoguchi's own layout"
    for card in DEMO_CARDS:
        assert card.name in html
        assert card.address in html
    assert "〒530-0001" in html
    assert "Cancel and return to Madoguchi" in html


def test_demo_cards_live_at_real_osaka_city_postal_codes() -> None:
    for card in DEMO_CARDS:
        place = lookup_postal_code(card.postal_code)
        assert place.city.startswith("大阪市"), card
        assert card.address.startswith(place.address), card
        assert re.fullmatch(r"[0-9]{7}", card.postal_code)


def test_the_card_app_returns_only_to_this_site(client: FlaskClient) -> None:
    for return_url in ("https://evil.example/callback", "//evil.example/x", "javascript:x"):
        query = {"state": "s", "return_url": return_url}
        response = client.get("/card-app/authorize", query_string=query, headers=EN)
        assert response.status_code == 400
        assert "Cannot continue" in response.text
    missing_state = client.get("/card-app/authorize", query_string={"return_url": "/x"})
    assert missing_state.status_code == 400


# --- logging in -----------------------------------------------------------------------------


def test_first_login_with_the_card_creates_an_account_with_the_verified_identity(
    app: Flask, client: FlaskClient
) -> None:
    response = new_card_account(client, HANAKO, "hanako@example.jp")
    assert response.status_code == 302
    with client:
        client.get("/account", headers=EN)
        identity = accounts.current_identity()
        assert identity == {
            "name": "山田 花子",
            "address": HANAKO.address,
            "postal_code": "5300001",
            "birth_date": "1988-06-15",
        }
        me = accounts.current_resident()
        assert me is not None
        assert me.password_hash is None
        assert me.identity_verified_at is not None
        assert not accounts.resident_can_file(me), "the address is not confirmed yet"

    [mail] = outbox(app)
    assert mail.to == "hanako@example.jp"
    client.get(local(re.search(r"https?://\S+", mail.body).group(0)))  # type: ignore[union-attr]
    resident = resident_by_email(app, "hanako@example.jp")
    assert resident is not None
    assert resident.email_verified_at is not None

    [login] = audit_rows(app, "login")
    assert login.data["method"] == "card_app"


def test_the_same_card_logs_straight_in_next_time(app: Flask, client: FlaskClient) -> None:
    new_card_account(client, HANAKO, "again@example.jp")
    post_form(client, "/logout", {}, form_url="/")
    later = client.get(card_round_trip(client, HANAKO, next_url="/account"))
    assert later.status_code == 302
    assert later.headers["Location"] == "/account"
    with client:
        client.get("/account")
        me = accounts.current_resident()
        assert me is not None
        assert me.email == "again@example.jp"
    assert len(audit_rows(app, "login")) == 2


def test_a_logged_in_resident_links_the_card_to_their_account(
    app: Flask, client: FlaskClient
) -> None:
    resident_id = log_in_resident(client, "linker@example.jp")
    assert client.get("/account", headers=EN).text.count("Confirm with the My Number Card app")
    response = client.get(card_round_trip(client, KENICHI, next_url="/account"), headers=EN)
    assert response.headers["Location"] == "/account"
    page = client.get("/account", headers=EN).text
    assert "Your identity is confirmed with your My Number Card." in page
    assert "佐藤 健一" in page
    with client:
        client.get("/")
        me = accounts.current_resident()
        assert me is not None
        assert me.id == resident_id
        assert accounts.current_identity() is not None
        assert accounts.current_identity()["postal_code"] == "5420076"  # type: ignore[index]


def test_a_card_linked_to_one_account_cannot_be_linked_to_another(
    app: Flask, client: FlaskClient
) -> None:
    create_resident(app, "owner@example.jp", identity=HANAKO.identity().as_dict())
    log_in_resident(client, "someone-else@example.jp")
    client.get(card_round_trip(client, HANAKO), headers=EN)
    page = client.get("/account", headers=EN).text
    assert "already linked to another account" in page
    with client:
        client.get("/")
        assert accounts.current_identity() is None


def test_first_card_login_with_an_address_that_has_an_account_asks_to_log_in(
    app: Flask, client: FlaskClient
) -> None:
    create_resident(app, "has-password@example.jp")
    response = new_card_account(client, HANAKO, "has-password@example.jp")
    assert response.status_code == 200
    assert '<a href="#email">This email address already has an account.' in response.text
    resident = resident_by_email(app, "has-password@example.jp")
    assert resident is not None
    assert resident.identity is None


# --- PINs, cancelling, and a round trip that does not add up ---------------------------


def test_three_wrong_pins_lock_the_card_for_good(app: Flask, client: FlaskClient) -> None:
    app_url = open_card_app(client)
    first = enter_pin(client, app_url, HANAKO, "0000")
    assert "2 attempts left" in first.text
    assert '<a href="#pin">' in first.text
    second = enter_pin(client, app_url, HANAKO, "1111")
    assert "1 attempt left" in second.text
    third = enter_pin(client, app_url, HANAKO, "2222")
    assert "This card is locked" in third.text

    # The right PIN no longer helps, even from a PIN form still open in another tab...
    stale_form = {**query_of(app_url), "card": HANAKO.serial, "pin": "1234"}
    stale_form["csrf_token"] = csrf_from(second.text)
    stale = client.post("/card-app/pin", data=stale_form, headers=EN)
    assert "This card is locked" in stale.text
    pin_url = "/card-app/pin?" + urlencode({"card": HANAKO.serial, **query_of(app_url)})
    assert "This card is locked" in client.get(pin_url, headers=EN).text
    # ...or in another browser: the lock is the card's, not the session's.
    other = app.test_client()
    listing = other.get(open_card_app(other), headers=EN).text
    assert listing.count("This card is locked.") == 1
    assert "This card is locked" not in enter_pin(other, open_card_app(other), KENICHI, "0000").text

    # Going back tells Madoguchi why.
    back = re.search(r'href="([^"]*error=card_locked[^"]*)"', third.text)
    assert back is not None
    returned = client.get(local(back.group(1).replace("&amp;", "&")), headers=EN)
    assert returned.status_code == 302
    page = client.get(returned.headers["Location"], headers=EN).text
    assert "locked after 3 wrong PINs" in page


def test_a_right_pin_starts_the_count_again(client: FlaskClient) -> None:
    app_url = open_card_app(client)
    enter_pin(client, app_url, HANAKO, "0000")
    enter_pin(client, app_url, HANAKO, "0000")
    assert enter_pin(client, app_url, HANAKO, "1234").status_code == 302
    again = open_card_app(client)
    assert "2 attempts left" in enter_pin(client, again, HANAKO, "0000").text


def test_a_pin_that_is_not_four_digits_uses_no_attempt(client: FlaskClient) -> None:
    app_url = open_card_app(client)
    for typed in ("", "12", "abcd", "12345", "１２３４"):
        response = enter_pin(client, app_url, HANAKO, typed)
        assert "Enter the 4-digit PIN, in numbers." in response.text
    assert "2 attempts left" in enter_pin(client, app_url, HANAKO, "9999").text


def test_cancelling_in_the_card_app_comes_back_with_a_message(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get(open_card_app(client, next_url="/account"), headers=EN).text
    cancel = re.search(r'href="([^"]*error=cancelled[^"]*)"', page)
    assert cancel is not None
    response = client.get(local(cancel.group(1).replace("&amp;", "&")), headers=EN)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert query_of(response.headers["Location"])["next"] == "/account"
    assert "You cancelled the check" in client.get(response.headers["Location"], headers=EN).text
    [failed] = audit_rows(app, "login_failed")
    assert failed.data["reason"] == "cancelled"


def test_a_code_works_only_once(app: Flask, client: FlaskClient) -> None:
    callback = card_round_trip(client, HANAKO)
    used_code = query_of(callback)["code"]
    assert client.get(callback).status_code == 302

    # Replayed with a fresh, valid state: the code itself is spent.
    state = query_of(open_card_app(client))["state"]
    replay = client.get(
        "/login/card/callback", query_string={"code": used_code, "state": state}, headers=EN
    )
    assert replay.status_code == 400
    assert "expired or was already used" in replay.text
    assert audit_rows(app, "login_failed")[-1].data["reason"] == "invalid_code"


def test_an_expired_code_is_refused(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CARD_APP_CODE_MINUTES", 0)
    response = client.get(card_round_trip(client, HANAKO), headers=EN)
    assert response.status_code == 400
    assert audit_rows(app, "login_failed")[-1].data["reason"] == "expired_code"


@pytest.mark.parametrize("state", ["", "not-the-state-we-sent"])
def test_a_wrong_or_missing_state_is_refused(app: Flask, client: FlaskClient, state: str) -> None:
    code = query_of(card_round_trip(client, HANAKO))["code"]
    response = client.get(
        "/login/card/callback", query_string={"code": code, "state": state}, headers=EN
    )
    assert response.status_code == 400
    assert "does not belong to a check started in this browser" in response.text
    with client:
        client.get("/")
        assert accounts.current_resident() is None
    assert audit_rows(app, "login_failed")[-1].data["reason"] == "state_mismatch"


def test_a_callback_from_another_browser_is_refused(app: Flask, client: FlaskClient) -> None:
    callback = card_round_trip(client, HANAKO)
    attacker = app.test_client()
    assert attacker.get(callback).status_code == 400


# --- switched off ---------------------------------------------------------------------------


def test_production_can_switch_the_stand_in_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "CARD_APP_ENABLED": False,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'off.sqlite'}",
        }
    )
    client = app.test_client()
    assert client.get("/card-app/authorize?state=s&return_url=/x").status_code == 404
    assert client.get("/login/card").status_code == 404
    assert "My Number Card app" not in client.get("/login", headers=EN).text
    app.extensions["madoguchi.db"].engine.dispose()


def test_codes_expire_in_five_minutes_by_default(app: Flask) -> None:
    assert app.config["CARD_APP_CODE_MINUTES"] == 5
    store = cardapp.CardAppStore()
    code = store.issue_code("DEMO", datetime.timedelta(minutes=5))
    assert store.redeem(code) == "DEMO"


def test_card_identity_prefills_the_fields_that_ask_for_it(
    app: Flask, client: FlaskClient, published: None
) -> None:
    new_card_account(client, HANAKO, "hanako@example.jp")
    [mail] = outbox(app)
    client.get(local(re.search(r"https?://\S+", mail.body).group(0)))  # type: ignore[union-attr]
    start_page = client.get("/procedures/moving-out", headers=EN)
    started = client.post(
        "/procedures/moving-out/start", data={"csrf_token": csrf_from(start_page.text)}
    )
    if urlsplit(started.headers["Location"]).path == "/login":
        # Confirming the address logged nobody in: log in with the card again.
        client.get(card_round_trip(client, HANAKO))
        started = client.post(
            "/procedures/moving-out/start", data={"csrf_token": csrf_from(start_page.text)}
        )
    first = client.get(client.get(local(started.headers["Location"])).headers["Location"])
    html = first.text
    assert 'value="山田 花子"' in html, "name from the card"
    assert 'value="530-0001"' in html, "postal code from the card"
    assert 'value="1988-06-15"' in html, "birth date from the card"
