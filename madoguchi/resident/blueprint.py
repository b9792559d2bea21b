"""URL map of the resident's room."""

from __future__ import annotations

from flask import Blueprint

from madoguchi.resident import views

bp = Blueprint("resident", __name__, template_folder="templates")
bp.add_url_rule("/", view_func=views.catalogue, endpoint="catalogue")
bp.add_url_rule("/procedures/<procedure_id>", view_func=views.procedure, endpoint="procedure")
