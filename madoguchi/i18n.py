"""Languages: the UI through Flask-Babel catalogues, procedure texts from the YAML.

The browser's Accept-Language chooses the language; `?lang=` switches it on
any page and the choice is remembered in the session.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from workflow.model import LocalizedText

LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}


def current_language() -> str:
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    if not has_request_context():
        return str(current_app.config["DEFAULT_LANGUAGE"])
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["DEFAULT_LANGUAGE"]


def localize(text: LocalizedText | str | None) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(current_language())


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=current_language)

    @app.before_request
    def remember_language() -> None:
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            session["lang"] = chosen

    @app.context_processor
    def language_helpers() -> dict[str, object]:
        return {
            "lang": current_language(),
            "t": localize,
            "languages": app.config["LANGUAGES"],
            "language_names": LANGUAGE_NAMES,
        }

    @app.template_filter("merge_lang")
    def merge_lang(args: MultiDict[str, str], code: str) -> str:
        """The current query string with `lang` set to `code`."""
        kept = [(k, v) for k, v in args.items(multi=True) if k != "lang"]
        return urlencode([*kept, ("lang", code)])
