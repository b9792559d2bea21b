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
    #: a staff login lasts a working day; then both factors again
    STAFF_SESSION_HOURS = 10
    #: reverse proxies in front of the app (X-Forwarded-For/-Proto hops to trust); 0 = none
    TRUSTED_PROXIES = 0
    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"

    # -- resident accounts (madoguchi/services/accounts.py)
    #: scheme and host of links in mail (https://madoguchi.city.osaka.example);
    #: None takes the request's Host header, which is only safe in development
    PUBLIC_BASE_URL: str | None = None
    #: shorter passwords fall to guessing even through argon2 and the rate limit
    PASSWORD_MIN_LENGTH = 10
    #: the verification link is mailed at sign-up; a day covers "I'll do it tonight"
    EMAIL_VERIFY_HOURS = 24
    #: a password-reset link is as good as the password: keep it short-lived
    PASSWORD_RESET_HOURS = 1
    #: a guest's one-time link to file one procedure without an account
    GUEST_LINK_HOURS = 1
    #: how long a guest may keep filing after opening the link
    GUEST_SESSION_HOURS = 12
    #: a login is forgotten after this long even if the browser stays open
    #: (the session cookie cannot be revoked server-side, so it must expire)
    RESIDENT_SESSION_HOURS = 12
    #: per client address, on POST only; brute force and mail bombing need many tries
    LOGIN_RATE_LIMIT = "10 per minute"
    SIGNUP_RATE_LIMIT = "5 per minute"
    #: forms that send mail to an address typed by anyone (guest link, reset, resend)
    MAIL_LINK_RATE_LIMIT = "5 per minute"
    #: the local stand-in for the My Number card app at /card-app/; production
    #: turns it off (MADOGUCHI_CARD_APP_ENABLED=false) and installs a real
    #: `madoguchi.identity.port.IdentityProvider` as app.extensions["madoguchi.identity"]
    CARD_APP_ENABLED = True
    #: a one-time code from the card app is exchanged at once; 5 minutes is generous
    CARD_APP_CODE_MINUTES = 5
    #: the local test CA of the signing stand-in; None means the instance folder's `ca/`
    SIGNATURE_CA_DIR: str | None = None

    # -- cashless payment (madoguchi/payments/)
    #: the local stand-in payment provider at /pay-stub/; production turns it
    #: off (MADOGUCHI_PAYMENT_STUB_ENABLED=false) and installs a real
    #: `madoguchi.payments.port.Provider` as app.extensions["madoguchi.payments"]
    PAYMENT_STUB_ENABLED = True
    #: shared secret of the provider's webhook signatures (HMAC-SHA256);
    #: production sets MADOGUCHI_PAYMENT_WEBHOOK_SECRET
    PAYMENT_WEBHOOK_SECRET = "stub-webhook-secret"  # noqa: S105
    #: a webhook whose timestamp is further off than this is refused
    PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300
    #: how the stand-in delivers its webhooks: "inprocess" (through the app
    #: itself, after the commit) or "http" (POST to PUBLIC_BASE_URL) or "none"
    #: (left pending for `madoguchi payments deliver`)
    PAYMENT_STUB_DELIVERY = "inprocess"
    #: tests: the stand-in sends every webhook twice, the second one re-signed
    PAYMENT_STUB_CHAOS = False

    # -- staff accounts (madoguchi/services/staff_accounts.py)
    #: how long the password step is good for while the authenticator code is typed
    STAFF_LOGIN_STEP_MINUTES = 5
    #: per client address, on POST only
    STAFF_LOGIN_RATE_LIMIT = "10 per minute"
    STAFF_CODE_RATE_LIMIT = "10 per minute"
    #: per account, whatever the address: with ±1 step, 3 of a million codes are
    #: right at any moment, so guessing must stay slow even from many addresses
    STAFF_CODE_ACCOUNT_RATE_LIMIT = "5 per minute;20 per hour"
