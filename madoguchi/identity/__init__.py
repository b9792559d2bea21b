"""Identity verification with the My Number card: the port and its local stand-in."""

from __future__ import annotations

from flask import Flask, current_app

from madoguchi.identity.port import IdentityError, IdentityProvider, VerifiedIdentity

__all__ = ["IdentityError", "IdentityProvider", "VerifiedIdentity", "init_app", "provider"]

EXTENSION = "madoguchi.identity"


def provider() -> IdentityProvider | None:
    """The configured provider, or None when card login is not offered."""
    found: IdentityProvider | None = current_app.extensions.get(EXTENSION)
    return found


def init_app(app: Flask) -> None:
    """Mount the stand-in card app unless it is switched off.

    A deployment with the real app sets CARD_APP_ENABLED off and puts its
    own provider in `app.extensions["madoguchi.identity"]` after create_app.
    """
    if not app.config.get("CARD_APP_ENABLED"):
        return
    from madoguchi.identity import cardapp

    cardapp.init_app(app)
