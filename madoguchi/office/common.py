"""Small helpers shared by the office room's work views."""

from __future__ import annotations

from collections.abc import Iterable

from flask import render_template
from flask_babel import gettext as _

from madoguchi import db
from madoguchi.models import Staff
from madoguchi.services.queues import staff_names
from madoguchi.services.staff import current_staff


def me() -> Staff:
    """The logged-in staff member (views are all behind `staff_required`)."""
    staff = current_staff()
    assert staff is not None
    return staff


def message_page(title: str, message: str, status: int, **links: str) -> tuple[str, int]:
    """A page saying what happened (a 409, a 403...), with links onward."""
    return render_template("office/message.html", title=title, message=message, links=links), status


def actor_names(actors: Iterable[str | None]) -> dict[str, str]:
    """How each history actor ("staff:3", "resident:5", "system") is shown to staff."""
    ids = {}
    for actor in actors:
        if actor and actor.startswith("staff:") and actor[6:].isdigit():
            ids[actor] = int(actor[6:])
    names = staff_names(db.session(), ids.values())
    shown: dict[str, str] = {}
    for actor in actors:
        if actor is None:
            continue
        if actor in ids:
            shown[actor] = names.get(ids[actor], actor)
        elif actor.startswith(("resident:", "guest:")):
            shown[actor] = _("Applicant")
        elif actor == "system":
            shown[actor] = _("System")
        else:
            shown[actor] = actor
    return shown
