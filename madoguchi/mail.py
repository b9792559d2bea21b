"""Outgoing mail, sent only after the request's commit.

`MAIL_BACKEND` chooses how: `console` (the demo: mail is written to the
log), `smtp` (`MAIL_SERVER`, `MAIL_PORT`, `MAIL_USERNAME`, `MAIL_PASSWORD`,
`MAIL_USE_TLS`), or `memory` (tests read `outbox()`).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app

from madoguchi import db


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def send_after_commit(to: str, subject: str, body: str) -> None:
    message = Mail(to=to, subject=subject, body=body)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.after_commit(lambda: deliver(app, message))


def deliver(app: Flask, mail: Mail) -> None:
    backend = app.config["MAIL_BACKEND"]
    if backend == "memory":
        app.extensions["madoguchi.outbox"].append(mail)
    elif backend == "console":
        app.logger.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
    elif backend == "smtp":
        message = EmailMessage()
        message["From"] = app.config["MAIL_SENDER"]
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        server, port = app.config["MAIL_SERVER"], int(app.config["MAIL_PORT"])
        with smtplib.SMTP(server, port, timeout=30) as smtp:
            if app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if app.config.get("MAIL_USERNAME"):
                smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


def outbox() -> list[Mail]:
    found: list[Mail] = current_app.extensions["madoguchi.outbox"]
    return found


def init_app(app: Flask) -> None:
    app.extensions["madoguchi.outbox"] = []
