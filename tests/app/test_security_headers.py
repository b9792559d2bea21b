"""What every response promises a browser: CSP, no sniffing, no framing, safe cookies."""

from __future__ import annotations

from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient, published: None) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(client: FlaskClient, published: None) -> None:
    for url in ("/", "/procedures/child-allowance", "/login", "/signup"):
        html = client.get(url).text
        assert "<script>" not in html
        assert "<style" not in html
        assert " style=" not in html, url


def test_session_cookie_is_secure_httponly_and_samesite(app: Flask, client: FlaskClient) -> None:
    log_in_resident(client, "taro@example.jp")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_filing_is_rate_limited(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "taro@example.jp")
    review_url = Walk(client, app, "dog-registration").to_review()
    token = csrf_of(client.get(review_url).text)
    statuses = [
        client.post(review_url.replace("/review", "/file"), data={"csrf_token": token}).status_code
        for _ in range(25)
    ]
    assert 429 in statuses
    limited = client.post(review_url.replace("/review", "/file"), data={"csrf_token": token})
    assert limited.status_code == 429
    assert "<html" in limited.text


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one() -> None:
    from flask import request

    from madoguchi import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "TRUSTED_PROXIES": 1, "SECRET_KEY": "x"})

    @app.get("/_whoami")
    def whoami() -> str:
        return request.remote_addr or ""

    seen = app.test_client().get(
        "/_whoami",
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert seen.text == "203.0.113.7"
