"""Default configuration; the instance folder and MADOGUCHI_* variables override it."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    #: where administrators keep procedure files
    PROCEDURES_DIR = str(PROJECT_ROOT / "procedures")
    #: the offices applications are routed to
    OFFICES_FILE = str(PROJECT_ROOT / "offices.yaml")
    #: built-in document templates, looked up after the procedure's own folder
    DOCUMENT_TEMPLATES_DIR = str(PROJECT_ROOT / "templates" / "documents")
    #: SQLAlchemy URL; None means SQLite in the instance folder
    DATABASE_URL: str | None = None
    LANGUAGES = ("ja", "en")
    DEFAULT_LANGUAGE = "ja"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
