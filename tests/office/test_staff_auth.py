"""Staff login with a second factor, the office home page, and the `madoguchi staff` commands.

Everything goes through real HTTP requests of the test client (CSRF on, as
in production).  Tests that need to know which TOTP codes are valid freeze
the service's clock (`staff_accounts._clock`) and compute codes for chosen
time steps; the others use the real time, like a person with a phone.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from staff_helpers import (
    PASSWORD,
    TOTP_SECRET,
    audit_rows,
    create_staff,
    csrf_from,
    current_code,
    log_in_resident,
    log_in_staff,
    post_form,
    staff_by_email,
    totp_secret_of,
)
from werkzeug.test import TestResponse

from madoguchi import cli, db
from madoguchi.models import Staff
from madoguchi.services import staff_accounts
from madoguchi.services.staff import STAFF_KEY

EN = {"Accept-Language": "en"}
EMAIL = "clerk@kita.example.jp"


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], float]:
    """Freeze the service's clock at now (or now + offset); returns the setter."""
    start = float(int(time.time()))
    now = {"t": start}
    monkeypatch.setattr(staff_accounts, "_clock", lambda: now["t"])

    def move(offset: float = 0.0) -> float:
        now["t"] = start + offset
        return now["t"]

    return move


def code_at(moment: float, secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).at(moment)


def password_step(
    client: FlaskClient, email: str = EMAIL, password: str = PASSWORD, next_url: str | None = None
) -> TestResponse:
    url = "/office/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, url, {"email": email, "password": password}, headers=EN)


def code_step(client: FlaskClient, code: str, url: str = "/office/login/code") -> TestResponse:
    return post_form(client, url, {"code": code}, headers=EN)


def location(response: TestResponse) -> str:
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def session_of(client: FlaskClient) -> dict[str, object]:
    with client.session_transaction() as session:
        return dict(session)


def default_landing(app: Flask) -> str:
    with app.test_request_context():
        return staff_accounts.after_login_url(None)


def logged_in(client: FlaskClient) -> bool:
    response = client.get("/office/", headers=EN)
    return response.status_code == 200


@pytest.fixture
def clerk(app: Flask) -> int:
    return create_staff(app, EMAIL, [("kita", "clerk")], name="Hanako Yamada")


# --- the two steps -------------------------------------------------------------------------


def test_password_then_code_logs_in(app: Flask, client: FlaskClient, clerk: int) -> None:
    response = password_step(client)
    assert response.status_code == 302
    assert location(response) == "/office/login/code"
    page = client.get("/office/login/code", headers=EN)
    assert page.status_code == 200
    assert "Enter the code from your authenticator app" in page.text

    response = code_step(client, current_code())
    assert response.status_code == 302
    assert location(response) == default_landing(app)
    assert session_of(client)[STAFF_KEY] == clerk
    assert staff_accounts.PENDING_KEY not in session_of(client)

    home = client.get("/office/", headers=EN)
    assert home.status_code == 200
    assert "Hanako Yamada" in home.text
    assert "Kita Ward Office" in home.text
    assert "Clerk" in home.text
    assert 'action="/office/logout"' in home.text
    assert home.headers["Cache-Control"] == "no-store"
    found = staff_by_email(app, EMAIL)
    assert found is not None
    assert found.last_login_at is not None
    assert found.totp_last_step is not None


def test_the_password_step_alone_gives_no_access(client: FlaskClient, clerk: int) -> None:
    assert password_step(client).status_code == 302
    state = session_of(client)
    assert STAFF_KEY not in state
    marker = state[staff_accounts.PENDING_KEY]
    assert isinstance(marker, dict)
    assert marker["id"] == clerk
    response = client.get("/office/", headers=EN)
    assert response.status_code == 302
    assert location(response).startswith("/office/login?next=")


def test_a_wrong_code_is_refused(
    client: FlaskClient, clerk: int, frozen: Callable[[float], float]
) -> None:
    now = frozen(0)
    valid = {code_at(now + 30 * k) for k in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "123456", "999999", "314159") if c not in valid)
    password_step(client)
    response = code_step(client, wrong)
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "The code is not right" in response.text
    assert 'aria-invalid="true"' in response.text
    assert STAFF_KEY not in session_of(client)
    # The marker survives a typo: the right code still works.
    response = code_step(client, code_at(now))
    assert response.status_code == 302
    assert session_of(client)[STAFF_KEY] == clerk


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", ""])
def test_a_malformed_code_is_explained(client: FlaskClient, clerk: int, typed: str) -> None:
    password_step(client)
    response = code_step(client, typed)
    assert response.status_code == 200
    assert "6 digits" in response.text
    assert STAFF_KEY not in session_of(client)


def test_full_width_digits_and_spaces_are_accepted(
    client: FlaskClient, clerk: int, frozen: Callable[[float], float]
) -> None:
    code = code_at(frozen(0))
    typed = " ".join([code[:3], code[3:]]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    password_step(client)
    assert code_step(client, typed).status_code == 302
    assert session_of(client)[STAFF_KEY] == clerk


def test_a_replayed_code_is_refused(
    client: FlaskClient, clerk: int, frozen: Callable[[float], float]
) -> None:
    code = code_at(frozen(0))
    password_step(client)
    assert code_step(client, code).status_code == 302
    client.post("/office/logout", data={"csrf_token": csrf_from(client.get("/office/").text)})
    assert STAFF_KEY not in session_of(client)

    later = frozen(10)  # the same 30-second window
    password_step(client)
    response = code_step(client, code)
    assert response.status_code == 200
    assert "This code has already been used" in response.text
    assert STAFF_KEY not in session_of(client)
    # An older step (still within the drift window) is no better than the same one.
    response = code_step(client, code_at(later - 30))
    assert "This code has already been used" in response.text
    assert STAFF_KEY not in session_of(client)
    # The next step's code is fine.
    assert code_step(client, code_at(frozen(40))).status_code == 302
    assert session_of(client)[STAFF_KEY] == clerk


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_of_clock_drift_is_accepted(
    client: FlaskClient, clerk: int, frozen: Callable[[float], float], steps: int
) -> None:
    now = frozen(0)
    password_step(client)
    assert code_step(client, code_at(now + 30 * steps)).status_code == 302
    assert session_of(client)[STAFF_KEY] == clerk


@pytest.mark.parametrize("steps", [-2, 2, -10])
def test_a_code_two_or_more_steps_away_is_refused(
    client: FlaskClient, clerk: int, frozen: Callable[[float], float], steps: int
) -> None:
    now = frozen(0)
    valid = {code_at(now + 30 * k) for k in (-1, 0, 1)}
    old = code_at(now + 30 * steps)
    # The clock is frozen and the secret fixed, so this holds every run.
    assert old not in valid, "the far code differs from the accepted ones"
    password_step(client)
    response = code_step(client, old)
    assert response.status_code == 200
    assert "The code is not right" in response.text
    assert STAFF_KEY not in session_of(client)


def test_the_marker_expires(
    app: Flask, client: FlaskClient, clerk: int, frozen: Callable[[float], float]
) -> None:
    frozen(0)
    password_step(client)
    page = client.get("/office/login/code", headers=EN)
    token = csrf_from(page.text)
    minutes = app.config["STAFF_LOGIN_STEP_MINUTES"]
    later = frozen(minutes * 60 + 1)

    response = client.post(
        "/office/login/code", data={"code": code_at(later), "csrf_token": token}, headers=EN
    )
    assert response.status_code == 302
    assert location(response) == "/office/login"
    assert STAFF_KEY not in session_of(client)
    assert staff_accounts.PENDING_KEY not in session_of(client)
    page = client.get("/office/login", headers=EN)
    assert "Your login has timed out" in page.text


def test_the_marker_dies_when_the_password_changes(
    app: Flask, client: FlaskClient, clerk: int
) -> None:
    password_step(client)
    with app.app_context():
        staff = db.session().get(Staff, clerk)
        assert staff is not None
        staff.password_hash = staff_accounts.hash_password("another password 123")
        db.session().commit()
    response = client.get("/office/login/code", headers=EN)
    assert response.status_code == 302
    assert location(response) == "/office/login"


def test_code_pages_without_a_password_step_go_to_the_login(client: FlaskClient) -> None:
    for url in ("/office/login/code", "/office/login/enrol"):
        response = client.get(url, headers=EN)
        assert response.status_code == 302
        assert location(response) == "/office/login"


def test_the_session_is_new_after_login(client: FlaskClient, clerk: int) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    password_step(client)
    assert "planted" not in session_of(client)
    code_step(client, current_code())
    state = session_of(client)
    assert "planted" not in state
    assert state["lang"] == "en"
    assert state[STAFF_KEY] == clerk


def test_unknown_address_and_wrong_password_read_the_same(client: FlaskClient, clerk: int) -> None:
    unknown = password_step(client, email="nobody@kita.example.jp")
    wrong = password_step(client, password="not the password at all")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert "The email address or password is not right" in response.text
        assert staff_accounts.PENDING_KEY not in session_of(client)
    assert unknown.text.replace("nobody@kita.example.jp", EMAIL) == wrong.text.replace(
        csrf_from(wrong.text), csrf_from(unknown.text)
    )


def test_empty_fields_are_explained(client: FlaskClient) -> None:
    response = post_form(client, "/office/login", {"email": "", "password": ""}, headers=EN)
    assert response.status_code == 200
    assert 'href="#email"' in response.text
    assert 'href="#password"' in response.text
    assert "Enter your email address" in response.text


def test_a_disabled_staff_member_cannot_log_in(app: Flask, client: FlaskClient) -> None:
    create_staff(app, "gone@kita.example.jp", [("kita", "clerk")], disabled=True)
    response = password_step(client, email="gone@kita.example.jp")
    assert response.status_code == 200
    assert "This account is disabled" in response.text
    assert staff_accounts.PENDING_KEY not in session_of(client)
    # A wrong password does not learn that the account is disabled.
    response = password_step(client, email="gone@kita.example.jp", password="wrong password!")
    assert "The email address or password is not right" in response.text


def test_disabling_ends_a_running_session(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, clerk: int
) -> None:
    log_in_staff(client, EMAIL)
    assert logged_in(client)
    result = runner.invoke(args=["staff", "disable", EMAIL])
    assert result.exit_code == 0, result.output
    response = client.get("/office/", headers=EN)
    assert response.status_code == 302
    assert location(response).startswith("/office/login")


def test_a_resident_session_gives_no_access_to_the_office(client: FlaskClient) -> None:
    log_in_resident(client, "resident@example.jp")
    for url in ("/office/", "/office/login/code", "/office/login/enrol"):
        response = client.get(url, headers=EN)
        assert response.status_code == 302
        assert location(response).startswith("/office/login")


# --- first login: setting up the authenticator ---------------------------------------------


def test_first_login_enrols_the_authenticator(
    app: Flask, client: FlaskClient, frozen: Callable[[float], float]
) -> None:
    email = "new@city-hall.example.jp"
    staff_id = create_staff(app, email, [("city-hall", "road_engineer")], enrolled=False)
    response = password_step(client, email=email)
    assert location(response) == "/office/login/enrol"
    # The code page is not for someone without a second factor yet.
    assert location(client.get("/office/login/code")) == "/office/login/enrol"

    page = client.get("/office/login/enrol", headers=EN)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    secret = totp_secret_of(app, email)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in page.text
    uri = re.search(r'otpauth://totp/[^<"\s]+', page.text)
    assert uri is not None
    parsed = urlsplit(uri.group(0).replace("&amp;", "&"))
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Madoguchi"]
    assert 'autocomplete="one-time-code"' in page.text
    assert 'inputmode="numeric"' in page.text
    assert 'name="csrf_token"' in page.text
    before = staff_by_email(app, email)
    assert before is not None
    assert before.totp_confirmed_at is None
    assert not logged_in(client)

    response = code_step(client, code_at(frozen(0), secret), url="/office/login/enrol")
    assert response.status_code == 302
    assert session_of(client)[STAFF_KEY] == staff_id
    after = staff_by_email(app, email)
    assert after is not None
    assert after.totp_confirmed_at is not None
    assert after.totp_secret == secret
    enrolled = audit_rows(app, "staff.totp_enrolled")
    assert [row.subject for row in enrolled] == [f"staff:{staff_id}"]
    assert secret not in json.dumps([row.data for row in audit_rows(app, "staff.login")])

    # From now on the code page, not the enrolment page.
    client.post("/office/logout", data={"csrf_token": csrf_from(client.get("/office/").text)})
    response = password_step(client, email=email)
    assert location(response) == "/office/login/code"
    assert totp_secret_of(app, email) == secret


def test_a_wrong_enrolment_code_keeps_the_page(app: Flask, client: FlaskClient) -> None:
    email = "new@kita.example.jp"
    create_staff(app, email, [("kita", "clerk")], enrolled=False)
    password_step(client, email=email)
    secret = totp_secret_of(app, email)
    valid = {code_at(time.time() + 30 * k, secret) for k in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    response = code_step(client, wrong, url="/office/login/enrol")
    assert response.status_code == 200
    assert "The code is not right" in response.text
    staff = staff_by_email(app, email)
    assert staff is not None
    assert staff.totp_confirmed_at is None


def test_each_enrolment_gets_a_new_secret(app: Flask, client: FlaskClient) -> None:
    """A secret seen by someone who typed the password earlier is useless afterwards."""
    email = "new@kita.example.jp"
    create_staff(app, email, [("kita", "clerk")], enrolled=False)
    password_step(client, email=email)
    first = totp_secret_of(app, email)
    other = app.test_client()
    password_step(other, email=email)
    second = totp_secret_of(app, email)
    assert first != second
    # The first browser's marker was for the old secret: it must start again.
    assert location(client.get("/office/login/enrol")) == "/office/login"


def test_log_in_staff_helper_handles_enrolment(app: Flask, client: FlaskClient) -> None:
    create_staff(app, "fresh@kita.example.jp", [("kita", "clerk")], enrolled=False)
    log_in_staff(client, "fresh@kita.example.jp")
    assert logged_in(client)
    log_in_staff(client, "fresh@kita.example.jp")  # twice within one time step
    assert logged_in(client)


# --- logging out, where to go after logging in ------------------------------------------------


def test_logout(app: Flask, client: FlaskClient, clerk: int) -> None:
    log_in_staff(client, EMAIL)
    assert client.get("/office/logout").status_code == 405
    home = client.get("/office/", headers=EN)
    response = client.post("/office/logout", data={"csrf_token": csrf_from(home.text)}, headers=EN)
    assert response.status_code == 302
    assert location(response) == "/office/login"
    assert STAFF_KEY not in session_of(client)
    assert "You have logged out." in client.get("/office/login", headers=EN).text
    assert not logged_in(client)
    rows = audit_rows(app, "staff.logout")
    assert [(row.actor, row.subject) for row in rows] == [(f"staff:{clerk}", f"staff:{clerk}")]


def test_logout_needs_the_csrf_token(client: FlaskClient, clerk: int) -> None:
    log_in_staff(client, EMAIL)
    response = client.post("/office/logout", headers=EN)
    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert logged_in(client)


def test_staff_required_pages_come_back_after_login(client: FlaskClient, clerk: int) -> None:
    response = client.get("/office/?tab=1", headers=EN)
    assert location(response) == "/office/login?next=/office/?tab%3D1"
    target = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    assert target == "/office/?tab=1"
    password_step(client, next_url="/office/%3Ftab%3D1")
    response = code_step(client, current_code())
    assert location(response) == "/office/?tab=1"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/office/applications/K-2025-000001", True),
        ("/office/?status=new", True),
        ("https://evil.example/office/", False),
        ("//evil.example/office/", False),
        ("/\\evil.example", False),
        ("/account", False),
        ("/officer", False),
        ("/office/../account", False),
        ("/office/%2e%2e/account", False),
        ("/office/login", False),
        ("/office/logout", False),
        ("javascript:alert(1)", False),
    ],
)
def test_next_is_only_followed_within_the_office_room(app: Flask, target: str, kept: bool) -> None:
    with app.test_request_context():
        assert (staff_accounts.office_next_url(target) == target) is kept
        landing = staff_accounts.after_login_url(target)
    assert landing == (target if kept else default_landing(app))


def test_an_outside_next_is_not_followed(app: Flask, client: FlaskClient, clerk: int) -> None:
    url = "/office/login?next=https://evil.example/office/"
    page = client.get(url, headers=EN)
    assert 'name="next"' not in page.text
    client.post(
        url, data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    response = code_step(client, current_code())
    assert location(response) == default_landing(app)


def test_the_login_page_of_a_logged_in_staff_member_moves_on(
    app: Flask, client: FlaskClient, clerk: int
) -> None:
    log_in_staff(client, EMAIL)
    response = client.get("/office/login", headers=EN)
    assert response.status_code == 302
    assert location(response) == default_landing(app)


# --- rate limits -----------------------------------------------------------------------------


def test_the_password_form_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    page = client.get("/office/login", headers=EN)
    token = csrf_from(page.text)
    allowed = int(app.config["STAFF_LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(allowed):
        response = client.post(
            "/office/login",
            data={"email": EMAIL, "password": "guess", "csrf_token": token},
            headers=EN,
        )
        assert response.status_code == 200
    response = client.post(
        "/office/login",
        data={"email": EMAIL, "password": "guess", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "Back to the staff login" in response.text
    # Looking at the form is not limited.
    assert client.get("/office/login", headers=EN).status_code == 200


def test_the_code_form_is_rate_limited_per_account(app: Flask, clerk: int) -> None:
    """Guesses from many addresses still count against the one account."""
    per_minute = int(app.config["STAFF_CODE_ACCOUNT_RATE_LIMIT"].split()[0])
    statuses = []
    for attempt in range(per_minute + 1):
        browser = app.test_client()
        address = {"REMOTE_ADDR": f"198.51.100.{attempt + 1}"}
        page = browser.get("/office/login", headers=EN, environ_base=address)
        browser.post(
            "/office/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
            environ_base=address,
        )
        page = browser.get("/office/login/code", headers=EN, environ_base=address)
        response = browser.post(
            "/office/login/code",
            data={"code": "abcdef", "csrf_token": csrf_from(page.text)},
            headers=EN,
            environ_base=address,
        )
        statuses.append(response.status_code)
    assert statuses == [200] * per_minute + [429]


# --- audit ---------------------------------------------------------------------------------------


def test_audit_rows_are_written_without_secrets(
    app: Flask, client: FlaskClient, clerk: int, frozen: Callable[[float], float]
) -> None:
    now = frozen(0)
    password_step(client, password="a wrong password 42")
    password_step(client, email="stranger@example.jp", password="another guess 43")
    password_step(client)
    valid = {code_at(now + 30 * k) for k in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "123456", "999999") if c not in valid)
    code_step(client, wrong)
    code_step(client, code_at(now))

    failed = audit_rows(app, "staff.login_failed")
    assert [(row.subject, row.data["stage"], row.data["reason"]) for row in failed] == [
        (f"staff:{clerk}", "password", "password"),
        (None, "password", "unknown_email"),
        (f"staff:{clerk}", "code", "wrong_code"),
    ]
    assert all(row.actor == "anonymous" for row in failed)
    logins = audit_rows(app, "staff.login")
    assert [(row.actor, row.subject) for row in logins] == [(f"staff:{clerk}", f"staff:{clerk}")]
    written = json.dumps([row.data for row in failed + logins])
    for secret in ("a wrong password 42", "another guess 43", PASSWORD, wrong, TOTP_SECRET):
        assert secret not in written
    assert code_at(now) not in written


# --- pages ---------------------------------------------------------------------------------


def test_login_pages_are_accessible_and_have_no_inline_code(
    client: FlaskClient, clerk: int
) -> None:
    login = client.get("/office/login", headers=EN)
    assert login.status_code == 200
    assert '<label for="email">' in login.text
    assert '<label for="password">' in login.text
    assert 'autocomplete="current-password"' in login.text
    assert 'name="csrf_token"' in login.text
    assert '<meta name="viewport"' in login.text
    password_step(client)
    code = client.get("/office/login/code", headers=EN)
    assert '<label for="code">' in code.text
    assert 'autocomplete="one-time-code"' in code.text
    assert 'inputmode="numeric"' in code.text
    for page in (login, code):
        assert "<script" not in page.text
        assert "style=" not in page.text
        assert "<style" not in page.text
        assert page.headers["Cache-Control"] == "no-store"


def test_the_pages_speak_japanese_by_default(client: FlaskClient) -> None:
    page = client.get("/office/login")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text


def test_the_layout_shows_the_staff_member_and_their_offices(
    app: Flask, client: FlaskClient
) -> None:
    create_staff(
        app,
        "both@example.jp",
        [("kita", "clerk"), ("city-hall", "road_engineer"), ("kita", "supervisor")],
        name="Taro Suzuki",
    )
    log_in_staff(client, "both@example.jp")
    page = client.get("/office/", headers=EN)
    assert "Taro Suzuki" in page.text
    assert "Kita Ward Office" in page.text
    assert "road_engineer" in page.text
    assert "Supervisor" in page.text
    assert ("/office/queue" in page.text) is ("office.queue" in app.view_functions)


def test_staff_without_roles_are_told_so(app: Flask, client: FlaskClient) -> None:
    create_staff(app, "idle@example.jp", [])
    log_in_staff(client, "idle@example.jp")
    page = client.get("/office/", headers=EN)
    assert "You do not hold a role at any office yet" in page.text


# --- the `madoguchi staff` commands -------------------------------------------------------------


def test_cli_add_roles_disable_list(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "staff",
            "add",
            "Road@City-Hall.example.jp",
            "--name",
            "Jiro Tanaka",
            "--role",
            "city-hall:clerk",
            "--role",
            "city-hall:road_engineer",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created staff road@city-hall.example.jp" in result.output
    assert "otpauth://" not in result.output
    staff = staff_by_email(app, "road@city-hall.example.jp")
    assert staff is not None
    assert staff.name == "Jiro Tanaka"
    assert staff.totp_secret is None
    assert {(r.office_id, r.role) for r in staff.roles} == {
        ("city-hall", "clerk"),
        ("city-hall", "road_engineer"),
    }
    assert [row.subject for row in audit_rows(app, "staff.created")] == [f"staff:{staff.id}"]

    result = runner.invoke(
        args=[
            "staff",
            "roles",
            "road@city-hall.example.jp",
            "--add",
            "kita:supervisor",
            "--remove",
            "city-hall:clerk",
            "--remove",
            "kita:admin",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "added kita:supervisor" in result.output
    assert "removed city-hall:clerk" in result.output
    assert "does not hold kita:admin" in result.output
    staff = staff_by_email(app, "road@city-hall.example.jp")
    assert staff is not None
    assert {(r.office_id, r.role) for r in staff.roles} == {
        ("city-hall", "road_engineer"),
        ("kita", "supervisor"),
    }

    result = runner.invoke(args=["staff", "list"])
    assert result.exit_code == 0, result.output
    assert (
        "road@city-hall.example.jp\tJiro Tanaka\tactive\tno-totp\t"
        "city-hall:road_engineer, kita:supervisor"
    ) in result.output

    result = runner.invoke(args=["staff", "disable", "road@city-hall.example.jp"])
    assert result.exit_code == 0, result.output
    assert "disabled road@city-hall.example.jp" in result.output
    assert "\tdisabled\t" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "disable", "road@city-hall.example.jp"]).output == (
        "already disabled\n"
    )
    assert len(audit_rows(app, "staff.disabled")) == 1


def test_cli_add_refuses_an_unknown_office(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["staff", "add", "x@example.jp", "--name", "X", "--role", "nowhere:clerk"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 2
    assert "there is no office 'nowhere' in offices.yaml" in result.output
    assert staff_by_email(app, "x@example.jp") is None
    result = runner.invoke(args=["staff", "roles", "x@example.jp", "--add", "kita:clerk"])
    assert result.exit_code == 1
    assert "no staff member has the address 'x@example.jp'" in result.output


@pytest.mark.parametrize(
    ("role", "message"),
    [("kita", "OFFICE:ROLE"), ("kita:Clerk!", "lower-case"), (":clerk", "OFFICE:ROLE")],
)
def test_cli_add_refuses_a_malformed_role(runner: FlaskCliRunner, role: str, message: str) -> None:
    result = runner.invoke(
        args=["staff", "add", "x@example.jp", "--name", "X", "--role", role, "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 2
    assert message in result.output


def test_cli_add_checks_the_password_and_duplicates(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["staff", "add", "x@example.jp", "--name", "X", "--role", "kita:clerk"]
    result = runner.invoke(args=[*args, "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    # Without --password-stdin the password is asked twice, hidden.
    result = runner.invoke(args=args, input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=[*args, "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_cli_add_with_totp_prints_the_uri_and_the_account_can_log_in(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(
        args=[
            "staff",
            "add",
            "sup@kita.example.jp",
            "--name",
            "Sup",
            "--role",
            "kita:supervisor",
            "--totp",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    uri = re.search(r"otpauth://totp/\S+", result.output)
    assert uri is not None
    secret = parse_qs(urlsplit(uri.group(0)).query)["secret"][0]
    assert secret == totp_secret_of(app, "sup@kita.example.jp")
    response = password_step(client, email="sup@kita.example.jp", password="a long enough password")
    assert location(response) == "/office/login/code"
    assert code_step(client, current_code(secret)).status_code == 302
    assert logged_in(client)


def test_cli_reset_totp_makes_the_next_login_enrol(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, clerk: int
) -> None:
    result = runner.invoke(args=["staff", "reset-totp", EMAIL])
    assert result.exit_code == 0, result.output
    assert location(password_step(client)) == "/office/login/enrol"


def test_cli_roles_without_options_shows_the_roles(runner: FlaskCliRunner, clerk: int) -> None:
    result = runner.invoke(args=["staff", "roles", EMAIL])
    assert result.exit_code == 0, result.output
    assert f"{EMAIL} holds: kita:clerk" in result.output


def test_cli_list_without_staff(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["staff", "list"])
    assert result.exit_code == 0
    assert "no staff accounts" in result.output


# --- demo accounts -------------------------------------------------------------------------


def test_demo_staff_are_created_once_and_can_log_in(
    app: Flask, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.app_context():
        cli._demo_staff()
        again = staff_accounts.ensure_demo_staff()
    assert again == []
    out = capsys.readouterr().out
    assert "DEMO-ONLY" in out
    assert staff_accounts.DEMO_PASSWORD in out
    assert staff_accounts.grouped_secret(staff_accounts.DEMO_TOTP_SECRET) in out
    for email, _name, roles in staff_accounts.DEMO_STAFF:
        assert f"{email}" in out
        staff = staff_by_email(app, email)
        assert staff is not None
        assert {(r.office_id, r.role) for r in staff.roles} == set(roles)
    clerk = staff_by_email(app, "clerk@city-hall.example.jp")
    assert clerk is not None
    assert clerk.roles_at("city-hall") == {"clerk", "road_engineer"}
    log_in_staff(client, "supervisor@kita.example.jp", password=staff_accounts.DEMO_PASSWORD)
    assert logged_in(client)


def test_a_staff_login_expires_after_the_configured_hours(app: Flask, client: FlaskClient) -> None:
    create_staff(app, "late@kita.example.jp", [("kita", "clerk")])
    log_in_staff(client, "late@kita.example.jp")
    assert client.get("/office/").status_code == 200
    with client.session_transaction() as session:
        session["staff_auth_at"] -= app.config["STAFF_SESSION_HOURS"] * 3600 + 1
    response = client.get("/office/")
    assert response.status_code == 302
    assert "/office/login" in response.headers["Location"]
