"""Friendly error pages: a person sees what happened and what to do, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        messages = {
            400: _("The request could not be understood. Please go back and try again."),
            403: _("You do not have access to this page."),
            404: _(
                "We cannot find this page. Check the address, or start from the list of procedures."
            ),
            405: _("This page cannot be used this way. Please go back and try again."),
            413: _(
                "What you sent is too large. Files can be at most %(mb)s MB in all;"
                " please choose smaller files and try again.",
                mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            ),
        }
        message = messages.get(code, error.description or "")
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        message = _(
            "Something went wrong on our side. Nothing you entered was lost;"
            " please try again later."
        )
        return render_template("error.html", code=500, message=message), 500
