"""Who is filing: a logged-in resident, or a guest with a verified email."""

from __future__ import annotations

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response

from madoguchi.services.accounts import (
    GUESTS_KEY,
    current_guest_email,
    current_resident,
    login_url,
    resident_can_file,
)
from madoguchi.services.drafts import Owner
from workflow.model import Procedure


def current_owner() -> Owner:
    """The resident, or the guest email verified in this session (any procedure)."""
    resident = current_resident()
    if resident is not None:
        return Owner(resident=resident)
    guests = session.get(GUESTS_KEY) or {}
    for procedure_id in guests if isinstance(guests, dict) else ():
        email = current_guest_email(str(procedure_id))
        if email:
            return Owner(guest_email=email)
    return Owner()


def owner_for_procedure(procedure: Procedure) -> Owner | None:
    """Who may start this procedure now, or None (they must log in or verify an email)."""
    resident = current_resident()
    if resident is not None and resident_can_file(resident):
        return Owner(resident=resident)
    if procedure.applicant.login == "optional":
        guest = current_guest_email(procedure.id)
        if guest:
            return Owner(guest_email=guest)
    return None


def login_or_guest_redirect(procedure: Procedure) -> Response:
    resident = current_resident()
    if resident is not None:
        return redirect(url_for("resident.account"))
    if procedure.applicant.login == "optional":
        return redirect(url_for("resident.guest", procedure_id=procedure.id))
    return redirect(login_url(request.path))
