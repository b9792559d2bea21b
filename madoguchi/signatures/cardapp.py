"""The card app's signing page, a stand-in for JPKI signing, mounted at /card-app/sign.

The resident holds their card to the phone and enters the 6–16 character
PIN of the signing certificate (署名用電子証明書); the demo cards' PIN is
"abc12345".  Five wrong PINs in a row lock the signing certificate.  The
app shows what is being signed (the procedure and a digest of the
canonical bytes), signs them with a certificate issued to the resident's
verified name and address, and returns to Madoguchi.

State (wrong-PIN counters) lives in this process, as the login stand-in's does.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from madoguchi import db, signatures
from madoguchi.i18n import current_language
from madoguchi.identity.cardapp import DEMO_CARDS, _back_to_caller, _safe_return_url, demo_card
from madoguchi.models import Draft
from madoguchi.services import drafts
from madoguchi.services.accounts import current_resident

EXTENSION = "madoguchi.card_app_sign"
DEMO_SIGNING_PIN = "abc12345"
#: the signing certificate locks itself after this many wrong PINs in a row
MAX_SIGNING_ATTEMPTS = 5


class SigningPinStore:
    """Wrong signing-PIN counters per card, shared by every request of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}

    def remaining_attempts(self, serial: str) -> int:
        with self._lock:
            return max(0, MAX_SIGNING_ATTEMPTS - self._failures.get(serial, 0))

    def is_locked(self, serial: str) -> bool:
        return self.remaining_attempts(serial) == 0

    def wrong_pin(self, serial: str) -> int:
        with self._lock:
            self._failures[serial] = self._failures.get(serial, 0) + 1
            return max(0, MAX_SIGNING_ATTEMPTS - self._failures[serial])

    def right_pin(self, serial: str) -> None:
        with self._lock:
            self._failures.pop(serial, None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


def store() -> SigningPinStore:
    found: SigningPinStore = current_app.extensions[EXTENSION]
    return found


bp = Blueprint("card_app_sign", __name__, url_prefix="/card-app", template_folder="templates")


def _valid_pin_shape(pin: str) -> bool:
    return 6 <= len(pin) <= 16 and pin.isascii() and pin.isalnum()


def sign() -> ResponseReturnValue:
    values = request.form if request.method == "POST" else request.args
    return_url = _safe_return_url(values.get("return_url"))
    resident = current_resident()
    session = db.session()
    draft = session.query(Draft).filter_by(public_id=values.get("draft", "")).first()
    if return_url is None or resident is None or draft is None or draft.resident_id != resident.id:
        return render_template("card_app/bad_request.html"), 400
    procedure = drafts.procedure_of(session, draft)
    digest = hashlib.sha256(signatures.draft_bytes(session, draft)).hexdigest()
    # The card the account was verified with; an account without one holds any demo card.
    identity: dict[str, Any] | None = resident.identity if resident.card_serial else None
    serial = resident.card_serial or ""
    card = None if identity else demo_card(values.get("card", ""))
    if card is not None:
        identity, serial = card.identity().as_dict(), card.serial
    page = {
        "identity": identity,
        "cards": DEMO_CARDS if resident.card_serial is None else (),
        "chosen": serial,
        "title": procedure.title.get(current_language()),
        "digest": digest,
        "draft_id": draft.public_id,
        "return_url": return_url,
        "cancel_url": _back_to_caller(return_url, error="cancelled"),
    }
    if identity is None:
        if request.method == "GET":
            return render_template("card_app_sign/sign.html", remaining=None, **page)
        return render_template(
            "card_app_sign/sign.html",
            error=_("Choose the card to sign with."),
            remaining=None,
            **page,
        ), 422
    if store().is_locked(serial):
        return render_template("card_app_sign/locked.html", **page)
    if request.method == "GET":
        return render_template(
            "card_app_sign/sign.html", remaining=store().remaining_attempts(serial), **page
        )
    entered = (request.form.get("pin") or "").strip()
    if not _valid_pin_shape(entered):
        return render_template(
            "card_app_sign/sign.html",
            error=_("Enter the signing PIN: 6 to 16 letters and numbers."),
            remaining=store().remaining_attempts(serial),
            **page,
        ), 422
    if not hmac.compare_digest(entered.upper(), DEMO_SIGNING_PIN.upper()):
        remaining = store().wrong_pin(serial)
        if remaining == 0:
            return render_template("card_app_sign/locked.html", **page), 403
        message = ngettext(
            "The signing PIN is wrong. %(num)s attempt left before the certificate locks.",
            "The signing PIN is wrong. %(num)s attempts left before the certificate locks.",
            remaining,
        )
        return render_template(
            "card_app_sign/sign.html", error=message, remaining=remaining, **page
        ), 422
    store().right_pin(serial)
    signatures.sign_draft(session, draft, resident, identity=identity)
    db.commit()
    flash(_("You signed the application with your My Number Card. You can file it now."), "success")
    return redirect(return_url)


bp.add_url_rule("/sign", view_func=sign, endpoint="sign", methods=["GET", "POST"])


def sign_url(draft_public_id: str) -> str:
    return url_for(
        "card_app_sign.sign",
        draft=draft_public_id,
        return_url=url_for("resident.review", draft_id=draft_public_id),
    )


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = SigningPinStore()
    app.register_blueprint(bp)
