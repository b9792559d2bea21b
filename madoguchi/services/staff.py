"""Who the staff member is, and what they may see: the office room's access rules.

A staff member is logged in only after both factors (password, then TOTP);
the session then holds their id.  They see applications of the offices
where they hold a role, and act with the roles they hold at the
application's office.  Anything else is a 404, never a 403: the ids of
other offices' applications are not confirmed to exist.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from madoguchi import db
from madoguchi.models import Application, Staff

#: session key of the staff member who passed both factors
STAFF_KEY = "staff_id"
#: session key of when they did (seconds since the epoch)
STAFF_AUTH_AT_KEY = "staff_auth_at"

P = ParamSpec("P")
R = TypeVar("R")


def current_staff() -> Staff | None:
    """The logged-in, enabled staff member of this request, or None."""
    if "current_staff" in g:
        found: Staff | None = g.current_staff
        return found
    staff_id = session.get(STAFF_KEY)
    logged_in_at = session.get(STAFF_AUTH_AT_KEY)
    max_age = current_app.config["STAFF_SESSION_HOURS"] * 3600
    fresh = isinstance(logged_in_at, int | float) and time.time() - logged_in_at < max_age
    staff = db.session().get(Staff, staff_id) if isinstance(staff_id, int) and fresh else None
    if staff is not None and not staff.active:
        staff = None
    g.current_staff = staff
    return staff


def staff_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Only for logged-in staff; others go to the staff login page."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_staff() is None:
            return redirect(url_for("office.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def roles_at(staff: Staff, office_id: str) -> set[str]:
    return staff.roles_at(office_id)


def application_for_staff(staff: Staff, public_id: str) -> Application:
    """An application of one of the staff member's offices, or 404."""
    from sqlalchemy import select

    found = (
        db.session()
        .scalars(
            select(Application).where(
                Application.public_id == public_id,
                Application.office_id.in_(staff.office_ids or {""}),
            )
        )
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def actor(staff: Staff) -> str:
    """How the staff member appears in history and audit rows."""
    return f"staff:{staff.id}"
