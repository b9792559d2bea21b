"""Account pages of the resident's room: sign-up, login, the card app round trip, guests.

Forms are plain HTML read from `request.form` (CSRF comes from the app's
CSRFProtect): each view collects `errors` keyed by the input's id, which
the templates turn into the error summary and the message by the field.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from madoguchi import db, identity, services
from madoguchi.i18n import current_language
from madoguchi.identity.port import IdentityError, VerifiedIdentity
from madoguchi.models import Resident
from madoguchi.security import limiter
from madoguchi.services import accounts
from madoguchi.services.accounts import (
    TokenError,
    current_resident,
    login_url,
    resident_required,
    safe_next_url,
)

#: where "My applications" leads once the filing room provides the list
MY_APPLICATIONS_ENDPOINT = "resident.my_applications"
#: how long the card app round trip, and the step after it, may take
CARD_ROUND_TRIP_SECONDS = 15 * 60
#: pages that must not become a `next` target of the header's "Log in" link
_NO_RETURN_ENDPOINTS = {
    "resident.login",
    "resident.signup",
    "resident.check_email",
    "resident.forgot_password",
    "resident.reset_password",
    "resident.verify_email",
    "resident.card_login",
    "resident.card_callback",
    "resident.card_signup",
    "resident.guest_link",
}

Errors = dict[str, str]


def _limit(setting: str) -> Any:
    """A POST-only rate limit read from the config at request time."""
    return limiter.limit(lambda: str(current_app.config[setting]), methods=["POST"])


def _next_url() -> str | None:
    return safe_next_url(request.values.get("next"))


def _after_login_url() -> str:
    return my_applications_url()


def my_applications_url() -> str:
    if MY_APPLICATIONS_ENDPOINT in current_app.view_functions:
        return url_for(MY_APPLICATIONS_ENDPOINT)
    return url_for("resident.account")


def header_login_url() -> str:
    if (
        request.method != "GET"
        or request.endpoint is None
        or request.endpoint in _NO_RETURN_ENDPOINTS
    ):
        return url_for("resident.login")
    return login_url(accounts.current_path())


def _mail_sent(kind: str, email: str, **extra: str) -> ResponseReturnValue:
    # Post/redirect/get: reloading the "check your email" page sends nothing again.
    session["mail_sent"] = {"kind": kind, "email": email, **extra}
    return redirect(url_for("resident.check_email"))


# --- signing up ---------------------------------------------------------------


@_limit("SIGNUP_RATE_LIMIT")
def signup() -> ResponseReturnValue:
    next_url = _next_url()
    if current_resident() is not None:
        return redirect(next_url or _after_login_url())
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = accounts.normalise_email(values["email"])
        password = request.form.get("password", "")
        confirm = request.form.get("password_confirm", "")
        if problem := accounts.email_error(email):
            errors["email"] = problem
        if problem := accounts.new_password_error(password, email):
            errors["password"] = problem
        elif confirm != password:
            errors["password_confirm"] = _("The passwords do not match")
        if not errors:
            accounts.sign_up(email, password, next_url)
            return _mail_sent("signup", email)
    return render_template(
        "resident/auth/signup.html",
        values=values,
        errors=errors,
        next_url=next_url,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
    )


def check_email() -> ResponseReturnValue:
    sent = session.get("mail_sent")
    if not isinstance(sent, dict):
        return redirect(url_for("resident.catalogue"))
    hours = {
        "signup": current_app.config["EMAIL_VERIFY_HOURS"],
        "reset": current_app.config["PASSWORD_RESET_HOURS"],
        "guest": current_app.config["GUEST_LINK_HOURS"],
    }.get(sent.get("kind", ""), 1)
    return render_template("resident/auth/check_email.html", sent=sent, hours=hours)


def verify_email(token: str) -> ResponseReturnValue:
    next_url = _next_url()
    try:
        resident = accounts.verify_email(token)
    except TokenError as problem:
        return _link_problem(problem, "verify")
    me = current_resident()
    if me is not None and me.id == resident.id:
        flash(_("Your email address is confirmed."), "success")
        return redirect(next_url or _after_login_url())
    flash(_("Your email address is confirmed. Log in to continue."), "success")
    return redirect(login_url(next_url) if next_url else url_for("resident.login"))


@resident_required
@_limit("MAIL_LINK_RATE_LIMIT")
def resend_verification() -> ResponseReturnValue:
    resident = current_resident()
    assert resident is not None
    if resident.email_verified_at is not None:
        flash(_("Your email address is already confirmed."), "info")
    else:
        accounts.resend_verification(resident)
        flash(_("We have sent a new link to %(email)s.", email=resident.email), "success")
    return redirect(url_for("resident.account"))


def _link_problem(problem: TokenError, kind: str) -> ResponseReturnValue:
    token = problem.token
    already_verified = False
    if kind == "verify" and problem.code == "used" and token and token.resident_id:
        owner = db.session().get(Resident, token.resident_id)
        already_verified = bool(owner and owner.email_verified_at)
    status = 404 if problem.code == "invalid" else 410
    return (
        render_template(
            "resident/auth/link_problem.html",
            code=problem.code,
            kind=kind,
            procedure_id=token.procedure_id if token else None,
            already_verified=already_verified,
        ),
        status,
    )


# --- logging in and out ---------------------------------------------------------


@_limit("LOGIN_RATE_LIMIT")
def login() -> ResponseReturnValue:
    next_url = _next_url()
    if request.method == "GET" and current_resident() is not None:
        return redirect(next_url or _after_login_url())
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = accounts.normalise_email(values["email"])
        password = request.form.get("password", "")
        if not email:
            errors["email"] = _("Enter your email address")
        if not password:
            errors["password"] = _("Enter your password")
        if not errors:
            resident = accounts.log_in_with_password(email, password)
            if resident is not None:
                if not accounts.resident_can_file(resident):
                    flash(
                        _(
                            "Confirm your email address before you file: open the link we"
                            " sent to %(email)s.",
                            email=resident.email,
                        ),
                        "info",
                    )
                return redirect(next_url or _after_login_url())
            # One message for both: which of the two was wrong is nobody's business.
            errors["email"] = _("The email address or password is not right")
    return render_template(
        "resident/auth/login.html",
        values=values,
        errors=errors,
        next_url=next_url,
        card_login=identity.provider() is not None,
    )


def logout() -> ResponseReturnValue:
    accounts.log_out()
    flash(_("You have logged out."), "success")
    return redirect(url_for("resident.catalogue"))


@resident_required
def account() -> ResponseReturnValue:
    resident = current_resident()
    assert resident is not None
    return render_template(
        "resident/auth/account.html",
        resident=resident,
        verified_identity=accounts.current_identity(),
        can_file=accounts.resident_can_file(resident),
        card_login=identity.provider() is not None,
    )


# --- forgotten passwords -----------------------------------------------------------


@_limit("MAIL_LINK_RATE_LIMIT")
def forgot_password() -> ResponseReturnValue:
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = accounts.normalise_email(values["email"])
        if problem := accounts.email_error(email):
            errors["email"] = problem
        else:
            accounts.request_password_reset(email)
            return _mail_sent("reset", email)
    return render_template("resident/auth/forgot_password.html", values=values, errors=errors)


def reset_password(token: str) -> ResponseReturnValue:
    # Opening the link uses nothing up (mail scanners open links too); the form does.
    try:
        email = accounts.check_token(token, "reset").email
    except TokenError as problem:
        return _link_problem(problem, "reset")
    errors: Errors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        confirm = request.form.get("password_confirm", "")
        if problem := accounts.new_password_error(password, email):
            errors["password"] = problem
        elif confirm != password:
            errors["password_confirm"] = _("The passwords do not match")
        if not errors:
            try:
                accounts.reset_password(token, password)
            except TokenError as problem:
                return _link_problem(problem, "reset")
            flash(_("Your new password is set and you are logged in."), "success")
            return redirect(_after_login_url())
    return render_template(
        "resident/auth/reset_password.html",
        errors=errors,
        token=token,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
    )


# --- the My Number card app ---------------------------------------------------------


def _provider() -> identity.IdentityProvider:
    found = identity.provider()
    if found is None:
        abort(404)
    return found


def card_login() -> ResponseReturnValue:
    provider = _provider()
    me = current_resident()
    state = secrets.token_urlsafe(32)
    session["card_login"] = {
        "state": state,
        "next": _next_url(),
        "link": me.id if me else None,
        "at": int(time.time()),
    }
    return redirect(provider.authorize_url(state, accounts.external_url("resident.card_callback")))


def card_callback() -> ResponseReturnValue:
    provider = _provider()
    pending = session.pop("card_login", None)
    state = request.args.get("state", "")
    if (
        not isinstance(pending, dict)
        or not state
        or not hmac.compare_digest(str(pending.get("state", "")), state)
        or time.time() - float(pending.get("at", 0)) > CARD_ROUND_TRIP_SECONDS
    ):
        # Not the round trip this browser started: a forged or replayed return.
        accounts.record_failed_card_login("state_mismatch")
        return render_template("resident/auth/card_failed.html", reason="state"), 400
    next_url = safe_next_url(pending.get("next"))
    me = current_resident()
    back = url_for("resident.account") if me else login_url(next_url or "")

    if error := request.args.get("error"):
        accounts.record_failed_card_login(error[:40])
        if error == "cancelled":
            flash(_("You cancelled the check with the My Number Card app."), "info")
        elif error == "card_locked":
            flash(
                _(
                    "Your My Number Card is locked after 3 wrong PINs. Reset the PIN at your"
                    " ward office, or log in with your email address."
                ),
                "error",
            )
        else:
            flash(_("The My Number Card app could not confirm your identity."), "error")
        return redirect(back)

    try:
        verified = provider.exchange(request.args.get("code", ""))
    except IdentityError as error:
        accounts.record_failed_card_login(error.code)
        return render_template("resident/auth/card_failed.html", reason="code"), 400

    if me is not None:
        if pending.get("link") != me.id:
            accounts.record_failed_card_login("state_mismatch")
            return render_template("resident/auth/card_failed.html", reason="state"), 400
        try:
            accounts.link_identity(me, verified)
        except accounts.CardAlreadyLinkedError:
            flash(_("This My Number Card is already linked to another account."), "error")
            return redirect(url_for("resident.account"))
        flash(_("Your identity is confirmed with your My Number Card."), "success")
        return redirect(next_url or url_for("resident.account"))

    if accounts.log_in_with_card(verified) is not None:
        return redirect(next_url or _after_login_url())
    session["card_signup"] = {
        "identity": verified.as_dict(),
        "next": next_url,
        "at": int(time.time()),
    }
    return redirect(url_for("resident.card_signup"))


def card_signup() -> ResponseReturnValue:
    """First visit with a card: the account needs an address for notices and receipts."""
    pending = session.get("card_signup")
    if (
        not isinstance(pending, dict)
        or time.time() - float(pending.get("at", 0)) > CARD_ROUND_TRIP_SECONDS
    ):
        session.pop("card_signup", None)
        flash(_("The check with your card has expired. Please start again."), "info")
        return redirect(url_for("resident.login"))
    verified = VerifiedIdentity(**pending["identity"])
    next_url = safe_next_url(pending.get("next"))
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = accounts.normalise_email(values["email"])
        if problem := accounts.email_error(email):
            errors["email"] = problem
        else:
            try:
                accounts.sign_up_with_card(verified, email, next_url)
            except accounts.EmailTakenError:
                # Saying so is safe here: only someone who has just proved who
                # they are with a card and its PIN gets this far.
                errors["email"] = _(
                    "This email address already has an account. Log in with it, then"
                    " confirm your identity with the card app from your account page."
                )
            else:
                flash(
                    _(
                        "Your account is created. We have sent a link to %(email)s:"
                        " open it to confirm your address before you file.",
                        email=email,
                    ),
                    "success",
                )
                return redirect(next_url or _after_login_url())
    return render_template(
        "resident/auth/card_signup.html", values=values, errors=errors, name=verified.name
    )


# --- guests ----------------------------------------------------------------------------


@_limit("MAIL_LINK_RATE_LIMIT")
def guest(procedure_id: str) -> ResponseReturnValue:
    entry = services.catalogue_entry(procedure_id, current_language())
    if entry is None:
        abort(404)
    next_url = _next_url()
    if entry.procedure.applicant.login != "optional":
        flash(_("You need to log in to apply for this procedure."), "info")
        return redirect(
            login_url(next_url or url_for("resident.procedure", procedure_id=procedure_id))
        )
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = accounts.normalise_email(values["email"])
        if problem := accounts.email_error(email):
            errors["email"] = problem
        else:
            accounts.send_guest_link(procedure_id, entry.title, email, next_url)
            return _mail_sent("guest", email, procedure_id=procedure_id)
    return render_template(
        "resident/auth/guest.html",
        entry=entry,
        values=values,
        errors=errors,
        next_url=next_url,
        guest_email=accounts.current_guest_email(procedure_id),
    )


def guest_link(token: str) -> ResponseReturnValue:
    # Opening the link uses nothing up (mail scanners open links too); the button does.
    try:
        found = accounts.check_token(token, "guest")
    except TokenError as problem:
        return _link_problem(problem, "guest")
    procedure_id = found.procedure_id or ""
    next_url = _next_url()
    if request.method == "POST":
        try:
            started = accounts.start_guest_session(token)
        except TokenError as problem:
            return _link_problem(problem, "guest")
        flash(
            _("Your email address is confirmed. You can apply as %(email)s.", email=started.email),
            "success",
        )
        return redirect(
            next_url or url_for("resident.procedure", procedure_id=started.procedure_id)
        )
    entry = services.catalogue_entry(procedure_id, current_language())
    return render_template(
        "resident/auth/guest_link.html",
        email=found.email,
        title=entry.title if entry else procedure_id,
        token=token,
        next_url=next_url,
    )


# --- error pages in the resident's language --------------------------------------------


def too_many_requests(_error: TooManyRequests) -> ResponseReturnValue:
    return render_template("resident/auth/too_many_requests.html"), 429


def form_expired(_error: CSRFError) -> ResponseReturnValue:
    return render_template("resident/auth/form_expired.html"), 400


def account_helpers() -> dict[str, Any]:
    """For the layout's header; callables, so pages that do not show them cost nothing."""
    return {
        "current_resident": current_resident,
        "my_applications_url": my_applications_url,
        "header_login_url": header_login_url,
    }


def register(bp: Blueprint) -> None:
    """Add the account pages to the resident's blueprint."""
    get_post = ["GET", "POST"]
    rules: list[tuple[str, str, Any, list[str]]] = [
        ("/signup", "signup", signup, get_post),
        ("/check-email", "check_email", check_email, ["GET"]),
        ("/verify-email/<token>", "verify_email", verify_email, ["GET"]),
        ("/login", "login", login, get_post),
        ("/logout", "logout", logout, ["POST"]),
        ("/account", "account", account, ["GET"]),
        ("/account/verification-email", "resend_verification", resend_verification, ["POST"]),
        ("/password/forgot", "forgot_password", forgot_password, get_post),
        ("/password/reset/<token>", "reset_password", reset_password, get_post),
        ("/login/card", "card_login", card_login, ["GET"]),
        ("/login/card/callback", "card_callback", card_callback, ["GET"]),
        ("/login/card/new-account", "card_signup", card_signup, get_post),
        ("/procedures/<procedure_id>/guest", "guest", guest, get_post),
        ("/guest/<token>", "guest_link", guest_link, get_post),
    ]
    for rule, endpoint, view, methods in rules:
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=methods)
    bp.register_error_handler(TooManyRequests, too_many_requests)
    bp.register_error_handler(CSRFError, form_expired)
    bp.app_context_processor(account_helpers)
