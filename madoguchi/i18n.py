"""The resident's language: chosen by the browser, switchable on every page."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session
from werkzeug.datastructures import MultiDict

from workflow.model import LocalizedText


def current_language() -> str:
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
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
    @app.before_request
    def remember_language() -> None:
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            session["lang"] = chosen

    @app.context_processor
    def language_helpers() -> dict[str, object]:
        return {"lang": current_language(), "t": localize, "languages": app.config["LANGUAGES"]}

    @app.template_filter("merge_lang")
    def merge_lang(args: MultiDict[str, str], code: str) -> str:
        """The current query string with `lang` set to `code`."""
        kept = [(k, v) for k, v in args.items(multi=True) if k != "lang"]
        return urlencode([*kept, ("lang", code)])
