"""Browser tests: the real app on a live server, driven by Debian's Chromium.

One live server and one Chromium for the whole session; every test gets a
fresh browser context (no cookies, no history) sized like a phone.

    def test_something(phone: Page, live_server: LiveServer) -> None:
        phone.goto("/")                      # relative to live_server.url
        phone.get_by_role("link", name="住民票の写しの交付請求").click()
        assert_accessible(phone)

`phone` runs JavaScript, `phone_nojs` does not, and `any_phone` runs the
test twice, once with each.  Browser tests never skip: when Chromium is
missing or does not start, they fail (in CI and on a workstation alike).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbutil import create_postgres_database, drop_postgres_database
from flask import Flask, got_request_exception
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from support import LiveServer, screenshot, watch_console
from werkzeug.serving import WSGIRequestHandler, make_server

from madoguchi import create_app

HERE = Path(__file__).resolve().parent

CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium")
#: the network flags stop Chromium's background connections, which this
#: machine's closed network refuses (and which slow every launch)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: an iPhone 13/14-sized phone, Japanese first
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}
#: Playwright waits at most this long (ms) for an element or a navigation
TIMEOUT_MS = 5_000

FAILED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium against a live server (tests/browser)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


# -- the live server ---------------------------------------------------------


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The live server's own database: never the one the rolled-back fixtures use."""
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgresql"):
        url, name = create_postgres_database(configured, prefix="madoguchi_browser")
        yield url
        drop_postgres_database(configured, name)
    elif configured:
        pytest.exit(f"unsupported DATABASE_URL for tests: {configured}", returncode=3)
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("live-db") / "madoguchi.sqlite")


class _QuietHandler(WSGIRequestHandler):
    """Log only failed requests; a journey makes hundreds of successful ones."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)


@pytest.fixture(scope="session")
def live_server(
    live_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app as production runs it (CSRF on, rate limits on), procedures published."""
    from madoguchi import db
    from madoguchi.catalogue import catalogue
    from madoguchi.migrations import upgrade

    folder = tmp_path_factory.mktemp("live")
    app: Flask = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": f"browser-{uuid.uuid4().hex}",
            "DATABASE_URL": live_database_url,
            "MAIL_BACKEND": "memory",
            "UPLOAD_DIR": str(folder / "files"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app.instance_path = str(folder / "instance")
    engine = app.extensions["madoguchi.db"].engine
    upgrade(engine)
    with app.app_context():
        report, _ = catalogue().publish(db.session(), by="test")
        assert report.error_count == 0, "\n".join(map(str, report.diagnostics))
        db.session().commit()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)

    def record(_sender: Flask, exception: BaseException, **_extra: Any) -> None:
        live.errors.append(exception)

    got_request_exception.connect(record, app)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server"
    )
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(record, app)
        engine.dispose()


@pytest.fixture(autouse=True)
def _live_server_state(live_server: LiveServer) -> Iterator[None]:
    """Each browser test starts with fresh rate limits and ends without server errors."""
    from madoguchi.security import limiter

    limiter.reset()
    live_server.errors.clear()
    yield
    errors, live_server.errors[:] = list(live_server.errors), []
    assert not errors, "the live server raised: " + "; ".join(map(repr, errors))


# -- the browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    """One Chromium for the session.

    It depends on `live_server` so that it closes first: its keep-alive
    connections end before the server shuts down.
    """
    in_ci = bool(os.environ.get("CI"))
    where = "in CI" if in_ci else "outside CI"
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"browser tests need Chromium at {CHROMIUM} ({where}; they never skip): "
            "apt-get install -y chromium, or set MADOGUCHI_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except PlaywrightError as exc:
            pytest.fail(
                f"Chromium at {CHROMIUM} did not start ({where}; browser tests never skip): {exc}",
                pytrace=False,
            )
        try:
            yield chromium
        finally:
            chromium.close()


def _phone(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, *, javascript: bool
) -> Iterator[Page]:
    context = browser.new_context(**PHONE, base_url=live_server.url, java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch_console(page)
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False) and not page.is_closed():
            try:
                path = screenshot(page, f"failed-{request.node.name}", full_page=True)
                print(f"screenshot of the failed test: {path}")
            except PlaywrightError as exc:  # the test's own failure matters more
                print(f"no screenshot of the failed test: {exc}")
        context.close()


@pytest.fixture
def phone(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh page on a 390×844 touch phone (Japanese locale), JavaScript on."""
    yield from _phone(browser, live_server, request, javascript=True)


@pytest.fixture
def phone_nojs(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The same phone with JavaScript disabled: every journey must work without it."""
    yield from _phone(browser, live_server, request, javascript=False)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def any_phone(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The phone twice: the test runs once with JavaScript and once without."""
    yield from _phone(browser, live_server, request, javascript=request.param)
