"""A local stand-in for the My Number card app, mounted at /card-app/.

It behaves like the real thing as far as Madoguchi can tell: its own
pages, a card to "hold to the phone", the 4-digit PIN of the user
certificate, the card locking itself after three wrong PINs, cancel, and a
one-time code sent back with the caller's `state`.  The demo cards are
fictional residents of Osaka wards; their PIN is 1234.

State lives in this process (`CardAppStore`): fine for a single-process
demo, which is why production switches the stand-in off.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError

from madoguchi.identity import EXTENSION as PROVIDER_EXTENSION
from madoguchi.identity.port import IdentityError, VerifiedIdentity

EXTENSION = "madoguchi.card_app"
DEMO_PIN = "1234"
#: the user certificate locks itself after this many wrong PINs in a row
MAX_PIN_ATTEMPTS = 3


@dataclass(frozen=True)
class DemoCard:
    serial: str
    name: str
    #: shown on the card app's list only; the card itself carries no reading
    name_kana: str
    address: str
    postal_code: str
    birth_date: datetime.date

    def identity(self) -> VerifiedIdentity:
        return VerifiedIdentity(
            name=self.name,
            address=self.address,
            postal_code=self.postal_code,
            birth_date=self.birth_date.isoformat(),
            card_serial=self.serial,
        )


# Fictional people at real postal codes (tests check the codes exist), so
# that prefilled forms route to the right ward office.
DEMO_CARDS: tuple[DemoCard, ...] = (
    DemoCard(
        serial="DEMO-27127-0001",
        name="山田 花子",
        name_kana="ヤマダ ハナコ",
        address="大阪府大阪市北区梅田二丁目4番9号 梅田ハイツ1203",
        postal_code="5300001",
        birth_date=datetime.date(1988, 6, 15),
    ),
    DemoCard(
        serial="DEMO-27128-0002",
        name="佐藤 健一",
        name_kana="サトウ ケンイチ",
        address="大阪府大阪市中央区難波四丁目7番22号",
        postal_code="5420076",
        birth_date=datetime.date(1952, 11, 3),
    ),
    DemoCard(
        serial="DEMO-27109-0003",
        name="鈴木 美咲",
        name_kana="スズキ ミサキ",
        address="大阪府大阪市天王寺区上本町六丁目5番18号",
        postal_code="5430001",
        birth_date=datetime.date(2012, 2, 29),
    ),
    DemoCard(
        serial="DEMO-27125-0004",
        name="GARCIA LOPEZ MARIA",
        name_kana="ガルシア ロペス マリア",
        address="大阪府大阪市住之江区南港北二丁目9番27号 南港ハイツ305",
        postal_code="5590034",
        birth_date=datetime.date(1990, 9, 1),
    ),
)


def demo_card(serial: str) -> DemoCard | None:
    return next((c for c in DEMO_CARDS if c.serial == serial), None)


@dataclass
class _Grant:
    serial: str
    expires_at: datetime.datetime


class CardAppStore:
    """Wrong-PIN counters and outstanding codes, shared by every request of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._grants: dict[str, _Grant] = {}

    def remaining_attempts(self, serial: str) -> int:
        with self._lock:
            return max(0, MAX_PIN_ATTEMPTS - self._failures.get(serial, 0))

    def is_locked(self, serial: str) -> bool:
        return self.remaining_attempts(serial) == 0

    def wrong_pin(self, serial: str) -> int:
        """Count a wrong PIN; the attempts left."""
        with self._lock:
            self._failures[serial] = self._failures.get(serial, 0) + 1
            return max(0, MAX_PIN_ATTEMPTS - self._failures[serial])

    def right_pin(self, serial: str) -> None:
        # As on the real card, a right PIN starts the count again.
        with self._lock:
            self._failures.pop(serial, None)

    def issue_code(self, serial: str, lifetime: datetime.timedelta) -> str:
        now = _now()
        code = secrets.token_urlsafe(32)
        with self._lock:
            for stale in [c for c, g in self._grants.items() if g.expires_at <= now]:
                del self._grants[stale]
            self._grants[code] = _Grant(serial, now + lifetime)
        return code

    def redeem(self, code: str) -> str:
        """The card serial behind `code`, which can never be used again."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None:
            raise IdentityError("invalid_code")
        if grant.expires_at <= _now():
            raise IdentityError("expired_code")
        return grant.serial

    def reset(self) -> None:
        """Unlock every card and forget every code (tests, or a demo restart)."""
        with self._lock:
            self._failures.clear()
            self._grants.clear()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def store() -> CardAppStore:
    found: CardAppStore = current_app.extensions[EXTENSION]
    return found


class CardAppProvider:
    """The `IdentityProvider` port over the stand-in."""

    def authorize_url(self, state: str, return_url: str) -> str:
        return url_for("card_app.authorize", state=state, return_url=return_url)

    def exchange(self, code: str) -> VerifiedIdentity:
        card = demo_card(store().redeem(code))
        if card is None:
            raise IdentityError("unknown_card")
        return card.identity()


# --- the card app's own pages ----------------------------------------------

bp = Blueprint(
    "card_app",
    __name__,
    url_prefix="/card-app",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def _safe_return_url(raw: str | None) -> str | None:
    """Only this site may receive the code, as a real app only returns to registered URLs."""
    if not raw or "\\" in raw or any(ord(ch) < 32 for ch in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("", "http", "https"):
        return None
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return raw


def _back_to_caller(return_url: str, **params: str) -> str:
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def _round_trip() -> tuple[str, str] | None:
    """The caller's state and return URL, from the query or the form."""
    values = request.form if request.method == "POST" else request.args
    state = (values.get("state") or "").strip()
    return_url = _safe_return_url(values.get("return_url"))
    if not state or len(state) > 200 or return_url is None:
        return None
    return state, return_url


def _bad_request() -> ResponseReturnValue:
    return render_template("card_app/bad_request.html"), 400


def authorize() -> ResponseReturnValue:
    trip = _round_trip()
    if trip is None:
        return _bad_request()
    state, return_url = trip
    return render_template(
        "card_app/cards.html",
        cards=DEMO_CARDS,
        state=state,
        return_url=return_url,
        cancel_url=_back_to_caller(return_url, error="cancelled", state=state),
        locked={c.serial for c in DEMO_CARDS if store().is_locked(c.serial)},
    )


def pin() -> ResponseReturnValue:
    trip = _round_trip()
    if trip is None:
        return _bad_request()
    state, return_url = trip
    values = request.form if request.method == "POST" else request.args
    card = demo_card(values.get("card", ""))
    if card is None:
        return redirect(url_for("card_app.authorize", state=state, return_url=return_url))
    page = {
        "card": card,
        "state": state,
        "return_url": return_url,
        "cancel_url": _back_to_caller(return_url, error="cancelled", state=state),
    }
    if store().is_locked(card.serial):
        return _locked(page, return_url, state)
    if request.method == "GET":
        return render_template(
            "card_app/pin.html", remaining=store().remaining_attempts(card.serial), **page
        )

    entered = (request.form.get("pin") or "").strip()
    if len(entered) != 4 or not entered.isascii() or not entered.isdigit():
        # The app checks the shape before touching the card: no attempt is used.
        return render_template(
            "card_app/pin.html",
            error=_("Enter the 4-digit PIN, in numbers."),
            remaining=store().remaining_attempts(card.serial),
            **page,
        )
    if not hmac.compare_digest(entered, DEMO_PIN):
        remaining = store().wrong_pin(card.serial)
        if remaining == 0:
            return _locked(page, return_url, state)
        message = ngettext(
            "The PIN is wrong. %(num)s attempt left before the card locks.",
            "The PIN is wrong. %(num)s attempts left before the card locks.",
            remaining,
        )
        return render_template("card_app/pin.html", error=message, remaining=remaining, **page)

    store().right_pin(card.serial)
    lifetime = datetime.timedelta(minutes=current_app.config["CARD_APP_CODE_MINUTES"])
    code = store().issue_code(card.serial, lifetime)
    return redirect(_back_to_caller(return_url, code=code, state=state))


def _locked(page: dict[str, object], return_url: str, state: str) -> ResponseReturnValue:
    return render_template(
        "card_app/locked.html",
        back_url=_back_to_caller(return_url, error="card_locked", state=state),
        **page,
    )


def _form_expired(_error: CSRFError) -> ResponseReturnValue:
    return render_template("card_app/expired.html"), 400


bp.add_url_rule("/authorize", view_func=authorize, endpoint="authorize")
bp.add_url_rule("/pin", view_func=pin, endpoint="pin", methods=["GET", "POST"])
bp.register_error_handler(CSRFError, _form_expired)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = CardAppStore()
    app.extensions[PROVIDER_EXTENSION] = CardAppProvider()
    app.register_blueprint(bp)
