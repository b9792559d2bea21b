"""Views of the resident's room."""

from __future__ import annotations

from flask import abort, render_template, request

from madoguchi import services
from madoguchi.i18n import current_language


def catalogue() -> str:
    query = (request.args.get("q") or "").strip()
    category = (request.args.get("category") or "").strip()
    entries = services.catalogue_entries(current_language())
    categories = sorted({e.category for e in entries if e.category})
    shown = [e for e in entries if e.matches(query, category)]
    return render_template(
        "resident/catalogue.html",
        entries=shown,
        categories=categories,
        query=query,
        category=category,
        total=len(entries),
    )


def procedure(procedure_id: str) -> str:
    entry = services.catalogue_entry(procedure_id, current_language())
    if entry is None:
        abort(404)
    return render_template("resident/procedure.html", entry=entry)
