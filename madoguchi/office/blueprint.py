"""URL map of the office room (under /office).

Each module adds its own routes with `register(bp)`: `auth` (staff login
with a second factor) and `views` (queues, applications, actions).
"""

from __future__ import annotations

import importlib

from flask import Blueprint

bp = Blueprint("office", __name__, url_prefix="/office", template_folder="templates")

for _module in ("auth", "views"):
    try:
        importlib.import_module(f"madoguchi.office.{_module}").register(bp)
    except ModuleNotFoundError as missing:  # pragma: no cover - while the room is being built
        if missing.name != f"madoguchi.office.{_module}":
            raise
