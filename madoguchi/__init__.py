"""Madoguchi: online filing of city administrative procedures declared in YAML."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from madoguchi.config import PROJECT_ROOT, Defaults


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Configuration comes, in order, from `Defaults`, the instance folder's
    `config.py`, variables named `MADOGUCHI_*` (and plain `DATABASE_URL`),
    and `test_config`.  Nothing heavy happens here: the catalogue is read
    and the database connected on first use.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object(Defaults)
    # A development key; production sets MADOGUCHI_SECRET_KEY (see README).
    app.config["SECRET_KEY"] = "dev"  # noqa: S105
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MADOGUCHI")
        if os.environ.get("DATABASE_URL") and not app.config.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = str(Path(app.instance_path) / "files")
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = "sqlite:///" + str(
            Path(app.instance_path) / "madoguchi.sqlite"
        )

    from madoguchi import (
        catalogue,
        cli,
        db,
        errors,
        i18n,
        identity,
        mail,
        security,
        signatures,
        storage,
    )
    from madoguchi.office import blueprint as office
    from madoguchi.resident import blueprint as resident

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind nginx the client address (rate limits, audit) comes from X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    db.init_app(app)
    catalogue.init_app(app)
    i18n.init_app(app)
    mail.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    storage.init_app(app)
    app.register_blueprint(resident.bp)
    app.register_blueprint(office.bp)
    from madoguchi.payments import views as payments

    payments.init_app(app)  # and the payment stand-in, unless PAYMENT_STUB_ENABLED is off
    identity.init_app(app)  # the card-app stand-in, unless CARD_APP_ENABLED is off
    signatures.init_app(app)  # its signing page, and the test CA
    return app
