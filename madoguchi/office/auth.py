"""Staff login pages of the office room: password, then the authenticator app's code.

    /office/login          email and password (GET, POST)
    /office/login/code     the 6-digit code (GET, POST)
    /office/login/enrol    first login: set up the authenticator app (GET, POST)
    /office/logout         (POST)
    /office/               the staff member's offices and roles

Forms are plain HTML read from `request.form`, as on the resident side:
each view collects `errors` keyed by the input's id for the error summary.
The logic lives in `madoguchi.services.staff_accounts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from madoguchi.i18n import localize
from madoguchi.models import Staff
from madoguchi.security import limiter
from madoguchi.services import staff_accounts
from madoguchi.services.accounts import normalise_email
from madoguchi.services.staff import current_staff, staff_required
from madoguchi.services.staff_accounts import CodeCheck, PasswordStep

F = TypeVar("F", bound=Callable[..., Any])
Errors = dict[str, str]

#: the pages of this module: no shared cache or back button keeps them
_NO_STORE_ENDPOINTS = {"office.login", "office.login_code", "office.enrol", "office.home"}


def _limit(setting: str, key_func: Callable[[], str] | None = None) -> Callable[[F], F]:
    """A POST-only rate limit read from the config at request time."""
    decorator: Callable[[F], F] = limiter.limit(
        lambda: str(current_app.config[setting]), key_func=key_func, methods=["POST"]
    )
    return decorator


def _pending() -> tuple[staff_accounts.Pending | None, bool]:
    """The password step's marker if still good, and whether there was one at all."""
    had_marker = staff_accounts.has_marker()
    return staff_accounts.pending_login(), had_marker


def _restart(timed_out: bool) -> Response:
    """Back to the password step, saying why when a marker had expired."""
    if timed_out:
        flash(_("Your login has timed out. Enter your email address and password again."), "info")
    return redirect(url_for("office.login"))


def _code_error(outcome: CodeCheck) -> str:
    if outcome is CodeCheck.REPLAYED:
        return _("This code has already been used. Wait for the next code, then enter it.")
    return _("The code is not right. Enter the 6-digit code your authenticator app shows now.")


def _read_code(errors: Errors) -> str | None:
    code = staff_accounts.normalise_code(request.form.get("code", ""))
    if not code:
        errors["code"] = _("Enter the 6-digit code from your authenticator app")
        return None
    if not staff_accounts.code_is_well_formed(code):
        errors["code"] = _("The code must be 6 digits, like 123456")
        return None
    return code


# --- step one ---------------------------------------------------------------------------


@_limit("STAFF_LOGIN_RATE_LIMIT")
def login() -> ResponseReturnValue:
    next_url = staff_accounts.office_next_url(request.values.get("next"))
    if request.method == "GET" and current_staff() is not None:
        return redirect(staff_accounts.after_login_url(next_url))
    values = {"email": ""}
    errors: Errors = {}
    if request.method == "POST":
        values["email"] = request.form.get("email", "").strip()
        email = normalise_email(values["email"])
        password = request.form.get("password", "")
        if not email:
            errors["email"] = _("Enter your email address")
        if not password:
            errors["password"] = _("Enter your password")
        if not errors:
            step = staff_accounts.check_password(email, password, next_url)
            if step is PasswordStep.CODE:
                return redirect(url_for("office.login_code"))
            if step is PasswordStep.ENROL:
                return redirect(url_for("office.enrol"))
            if step is PasswordStep.DISABLED:
                # Only said after the right password: it tells an outsider nothing.
                errors["email"] = _(
                    "This account is disabled. Ask your supervisor or the system"
                    " administrator to enable it."
                )
            else:
                # One message for both: which of the two was wrong is nobody's business.
                errors["email"] = _("The email address or password is not right")
    return render_template(
        "office/auth/login.html", values=values, errors=errors, next_url=next_url
    )


# --- step two -----------------------------------------------------------------------------


@_limit("STAFF_CODE_RATE_LIMIT")
@_limit("STAFF_CODE_ACCOUNT_RATE_LIMIT", key_func=staff_accounts.pending_staff_key)
def login_code() -> ResponseReturnValue:
    pending, had_marker = _pending()
    if pending is None:
        return _restart(had_marker)
    if pending.staff.totp_confirmed_at is None:
        return redirect(url_for("office.enrol"))
    errors: Errors = {}
    if request.method == "POST" and (code := _read_code(errors)) is not None:
        outcome = staff_accounts.complete_login(pending, code)
        if outcome is CodeCheck.ACCEPTED:
            return redirect(staff_accounts.after_login_url(pending.next_url))
        errors["code"] = _code_error(outcome)
    return render_template("office/auth/code.html", errors=errors, email=pending.staff.email)


@_limit("STAFF_CODE_RATE_LIMIT")
@_limit("STAFF_CODE_ACCOUNT_RATE_LIMIT", key_func=staff_accounts.pending_staff_key)
def enrol() -> ResponseReturnValue:
    pending, had_marker = _pending()
    if pending is None:
        return _restart(had_marker)
    staff = pending.staff
    if staff.totp_confirmed_at is not None:
        return redirect(url_for("office.login_code"))
    secret = staff.totp_secret
    if not secret:  # pragma: no cover - the password step always makes one
        return _restart(True)
    errors: Errors = {}
    if request.method == "POST" and (code := _read_code(errors)) is not None:
        outcome = staff_accounts.confirm_enrolment(pending, code)
        if outcome is CodeCheck.ACCEPTED:
            flash(
                _("Your authenticator app is set up. From now on, log in with its code."),
                "success",
            )
            return redirect(staff_accounts.after_login_url(pending.next_url))
        errors["code"] = _code_error(outcome)
    return render_template(
        "office/auth/enrol.html",
        errors=errors,
        email=staff.email,
        secret=secret,
        grouped_secret=staff_accounts.grouped_secret(secret),
        uri=staff_accounts.provisioning_uri(staff.email, secret),
        issuer=staff_accounts.TOTP_ISSUER,
        minutes=current_app.config["STAFF_LOGIN_STEP_MINUTES"],
    )


def logout() -> ResponseReturnValue:
    staff_accounts.log_out()
    flash(_("You have logged out."), "success")
    return redirect(url_for("office.login"))


# --- the office room's home page --------------------------------------------------------------


def office_name(office_id: str) -> str:
    """The office's name in the page's language, or its id if offices.yaml lost it."""
    office = staff_accounts.offices().get(office_id)
    return localize(office.name) if office else office_id


@staff_required
def home() -> ResponseReturnValue:
    staff = current_staff()
    assert staff is not None
    return render_template(
        "office/auth/home.html",
        staff=staff,
        held=[
            (office_id, office_name(office_id), roles)
            for office_id, roles in staff_accounts.roles_by_office(staff)
        ],
    )


# --- error pages of the office room ------------------------------------------------------------


def too_many_requests(_error: TooManyRequests) -> ResponseReturnValue:
    return render_template("office/auth/too_many_requests.html"), 429


def form_expired(_error: CSRFError) -> ResponseReturnValue:
    return render_template("office/auth/form_expired.html"), 400


def office_helpers() -> dict[str, Any]:
    """For office/layout.html and every office page: callables, evaluated when used."""

    def staff_offices(staff: Staff) -> list[str]:
        held = staff_accounts.roles_by_office(staff)
        return [office_name(office_id) for office_id, _roles in held]

    return {
        "current_staff": current_staff,
        "office_name": office_name,
        "staff_offices": staff_offices,
        "has_endpoint": staff_accounts.has_endpoint,
    }


def no_store(response: Response) -> Response:
    if request.endpoint in _NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def register(bp: Blueprint) -> None:
    """Add the login pages, the home page and the room's error pages to the office blueprint."""
    get_post = ["GET", "POST"]
    rules: list[tuple[str, str, Any, list[str]]] = [
        ("/login", "login", login, get_post),
        ("/login/code", "login_code", login_code, get_post),
        ("/login/enrol", "enrol", enrol, get_post),
        ("/logout", "logout", logout, ["POST"]),
        ("/", "home", home, ["GET"]),
    ]
    for rule, endpoint, view, methods in rules:
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=methods)
    bp.register_error_handler(TooManyRequests, too_many_requests)
    bp.register_error_handler(CSRFError, form_expired)
    bp.context_processor(office_helpers)
    bp.after_request(no_store)
