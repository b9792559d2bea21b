"""URL map of the office room (under /office).

Each module adds its own routes with `register(bp)`: `auth` (staff login
with a second factor) and `views` (queues, applications, counter filing).
"""

from __future__ import annotations

from flask import Blueprint

from madoguchi.office import auth, views

bp = Blueprint("office", __name__, url_prefix="/office", template_folder="templates")
auth.register(bp)
views.register(bp)
