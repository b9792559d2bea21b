"""Every kind of resident page on a phone, in Japanese and English, with JavaScript
and without: axe (WCAG 2.2 A/AA), no sideways scroll, 44 px tap targets.

The pages are a list: a new kind of page is one `Destination(...)` line.  The
data behind them (a resident with drafts at every kind of filing page, a
filed application the office has asked to correct, links from mails) is made
once per module over plain HTTP with the app's test client, and the browser
borrows the resident's session cookie.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect
from sqlalchemy import select
from support import (
    TAP_TARGET_PX,
    LiveServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    small_tap_targets,
)
from test_browser_filing import logged_in_client, unique_email

from madoguchi import db
from madoguchi.models import Application
from madoguchi.services import transitions

_APP_TESTS = str(Path(__file__).resolve().parent.parent / "app")
if _APP_TESTS not in sys.path:
    sys.path.append(_APP_TESTS)

from filing_walker import Walk  # noqa: E402
from helpers import PASSWORD, create_resident, link_in, post_form  # noqa: E402

#: WCAG 2.5.8 (AA): radios and checkboxes themselves; their labels are the 44 px target
CONTROL_MIN_PX = 24


@dataclass
class World:
    """What the pages show: made once, over HTTP, in the live server's database."""

    resident_cookie: str = ""
    urls: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.urls[name]


def _draft_page(review_url: str, page_id: str, suffix: str = "") -> str:
    return review_url.replace("/review", f"/pages/{page_id}{suffix}")


def _application_id(filed_location: str) -> str:
    return filed_location.rstrip("/").split("/")[-2]


def _mail_link(live_server: LiveServer, to: str) -> str:
    return link_in(next(m for m in reversed(live_server.outbox) if m.to == to))


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    app = live_server.app
    email = unique_email("a11y")
    create_resident(app, email)
    client = logged_in_client(live_server, email)
    urls: dict[str, str] = {}

    # Drafts stopped at the review page: every one of their pages can be opened.
    moving = Walk(client, app, "moving-out", answers={"with_family": "y"}, items={"members": 2})
    review = moving.to_review()
    urls["review"] = review
    urls["page"] = _draft_page(review, "current")
    urls["page-radios"] = _draft_page(review, "move")
    urls["repeat-summary"] = _draft_page(review, "members")
    urls["repeat-item"] = _draft_page(review, "members", "/items/1")
    allowance = Walk(client, app, "child-allowance").to_review()
    urls["page-checkboxes-files"] = _draft_page(allowance, "attachments")
    road = Walk(client, app, "road-occupancy").to_review()
    urls["page-proxy"] = _draft_page(road, "filing-for")
    urls["review-fee"] = road

    # A filed application, then a correction asked by the office.
    filed = Walk(client, app, "moving-out").file()
    assert filed.status_code == 302
    public_id = _application_id(filed.headers["Location"])
    urls["receipt"] = f"/applications/{public_id}/receipt"
    urls["application"] = f"/applications/{public_id}"
    with live_server.db() as session:
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(
            session,
            application,
            "request_correction",
            roles={"clerk"},
            actor="staff:1",
            comment="転出先の住所に部屋番号を追記してください。\nAdd the room number, please.",
        )
        db.commit()

    # One-time links from mails: opening them uses nothing up.
    anonymous = app.test_client()
    guest_email = unique_email("guest")
    post_form(anonymous, "/procedures/oversized-garbage/guest", {"email": guest_email})
    urls["guest-link"] = _mail_link(live_server, guest_email)
    post_form(anonymous, "/password/forgot", {"email": email})
    urls["reset-password"] = _mail_link(live_server, email)

    cookie = client.get_cookie("session")
    assert cookie is not None
    return World(resident_cookie=cookie.value, urls=urls)


# -- how to reach a page ------------------------------------------------------


def submit(page: Page, _world: World) -> None:
    """Send the page's form as it is (empty, for the account pages)."""
    page.locator("main form").last.locator("button[type=submit]").click()


def mistype_and_submit(page: Page, world: World) -> None:
    """A filing page with a required field emptied and a postal code that does not exist."""
    page.locator("#name").fill("")
    page.locator("#current_postal_code").fill("999-9999")
    submit(page, world)


def ask_for_a_reset_link(page: Page, _world: World) -> None:
    page.locator("#email").fill(f"nobody-{uuid.uuid4().hex[:6]}@example.jp")
    page.locator("main form button[type=submit]").click()


def submit_with_an_expired_token(page: Page, world: World) -> None:
    """A form kept open past its CSRF token's life (or the session's renewal)."""
    page.locator("main input[name=csrf_token]").evaluate("e => { e.value = 'expired'; }")
    page.locator("#email").fill("taro@example.jp")
    page.locator("#password").fill(PASSWORD)
    submit(page, world)


def open_the_correction(page: Page, _world: World) -> None:
    page.locator(".callout button[type=submit]").click()


@dataclass(frozen=True)
class Destination:
    """A kind of page: where to go (a path, or a name in `World.urls`), as whom, and
    what to do there before checking (fill and send a form, ...)."""

    name: str
    path: str
    who: Literal["anyone", "resident"] = "anyone"
    then: Callable[[Page, World], None] | None = None
    status: int = 200
    #: a selector that proves the page is the one meant (an error summary, ...)
    shows: str | None = None

    def url(self, world: World, lang: str) -> str:
        path = world[self.path] if not self.path.startswith("/") else self.path
        return f"{path}{'&' if '?' in path else '?'}lang={lang}"


ERRORS = ".error-summary a[href^='#']"
MAIL_SENT = "main a[href$='/password/forgot']"

PAGES = [
    Destination("catalogue", "/"),
    Destination("procedure", "/procedures/moving-out"),
    Destination("signup", "/signup"),
    Destination("signup-errors", "/signup", then=submit, shows=ERRORS),
    Destination("login", "/login"),
    Destination("login-errors", "/login", then=submit, shows=ERRORS),
    Destination("forgot-password", "/password/forgot"),
    Destination("check-email", "/password/forgot", then=ask_for_a_reset_link, shows=MAIL_SENT),
    Destination("reset-password", "reset-password"),
    Destination("guest", "/procedures/oversized-garbage/guest"),
    Destination("guest-link", "guest-link"),
    Destination("account", "/account", who="resident"),
    Destination("page", "page", who="resident"),
    Destination("page-radios-checkbox-notes", "page-radios", who="resident"),
    Destination("page-checkboxes-files", "page-checkboxes-files", who="resident"),
    Destination("page-proxy-radios-file", "page-proxy", who="resident"),
    Destination("repeat-summary", "repeat-summary", who="resident"),
    Destination("repeat-item", "repeat-item", who="resident"),
    Destination(
        "page-errors", "page", who="resident", then=mistype_and_submit, status=422, shows=ERRORS
    ),
    Destination("review", "review", who="resident"),
    Destination("review-fee", "review-fee", who="resident"),
    Destination("receipt", "receipt", who="resident"),
    Destination("drafts", "/drafts", who="resident"),
    Destination("applications", "/applications", who="resident"),
    Destination("application-correction", "application", who="resident", shows=".callout"),
    Destination(
        "correction-review",
        "application",
        who="resident",
        then=open_the_correction,
        shows="form[action$='/file'] > button",
    ),
    Destination("not-found", "/no-such-page", status=404),
    Destination("link-not-valid", "/verify-email/not-a-token", status=404),
    Destination("form-expired", "/login", then=submit_with_an_expired_token, status=400),
]


# -- the checks ---------------------------------------------------------------

_MARK_TAP_TARGETS = """() => {
    // What a thumb presses: controls, the header's links, and links that stand
    // alone (a paragraph, list item or heading of their own).  Links inside a
    // sentence are exempt (WCAG 2.5.5/2.5.8 "inline"); so are radios and
    // checkboxes, whose label is their target.
    const marked = [];
    const mark = (e) => { e.setAttribute('data-tap-target', ''); marked.push(e); };
    const alone = (a) => {
        const block = a.closest('p, li, h1, h2, h3, dd, td, div, nav, header');
        return !block || block.textContent.trim() === a.textContent.trim();
    };
    document.querySelectorAll('button, select, textarea, input').forEach((e) => {
        if (!['hidden', 'radio', 'checkbox'].includes(e.type)) mark(e);
    });
    document.querySelectorAll('a[href]').forEach((a) => {
        if (a.closest('.site-header') || alone(a)) mark(a);
    });
    document.querySelectorAll('label[for]').forEach((label) => {
        const control = document.getElementById(label.htmlFor);
        if (control && ['radio', 'checkbox'].includes(control.type)) mark(label);
    });
    return marked.length;
}"""


def tap_target_problems(page: Page) -> list[str]:
    page.evaluate(_MARK_TAP_TARGETS)
    small = small_tap_targets(page, "[data-tap-target]", TAP_TARGET_PX)
    controls = small_tap_targets(page, "input[type=radio], input[type=checkbox]", CONTROL_MIN_PX)
    return small + controls


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("where", PAGES, ids=[d.name for d in PAGES])
def test_page_is_accessible_on_a_phone(
    any_phone: Page, world: World, live_server: LiveServer, where: Destination, lang: str
) -> None:
    page = any_phone
    if where.who == "resident":
        page.context.add_cookies(
            [{"name": "session", "value": world.resident_cookie, "url": live_server.url}]
        )
    documents: list[Response] = []
    page.on(
        "response",
        lambda r: (
            documents.append(r)
            if r.request.resource_type == "document" and r.frame == page.main_frame
            else None
        ),
    )
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        failed_load = f"status of {where.status} " in message.text
        if message.type == "error" and not (where.status >= 400 and failed_load):
            console.append(message.text)

    page.on("console", on_console)

    page.goto(where.url(world, lang))
    if where.then is not None:
        where.then(page, world)
        page.wait_for_load_state()

    assert documents, "the page was loaded"
    assert documents[-1].status == where.status, f"{documents[-1].url} -> {documents[-1].status}"
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_be_visible()
    if where.shows:
        expect(page.locator(where.shows).first).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    assert tap_target_problems(page) == []
    assert not console, f"console errors: {console}"
