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
    #: Secure cookies: browsers accept them on http://127.0.0.1 and localhost too
    SESSION_COOKIE_SECURE = True
    #: console (log), smtp or memory (tests)
    MAIL_BACKEND = "console"
    MAIL_SENDER = "madoguchi@city.example.jp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    #: where uploaded files are kept; None means the instance folder's `files/`
    UPLOAD_DIR: str | None = None
    #: whole request cap; per-field limits come from the procedure (`max_size_mb`)
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    MAX_FORM_PARTS = 1000
    #: Flask-Limiter storage; production uses Redis (redis://127.0.0.1:6379)
    RATELIMIT_STORAGE_URI = "memory://"
    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
