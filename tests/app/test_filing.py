"""A resident files procedures end to end through real HTTP."""

from __future__ import annotations

import re

from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from sqlalchemy import select

from madoguchi import db, mail
from madoguchi.models import Application, ApplicationEvent, AuditEvent, Draft, StoredFile

RECEIPT = re.compile(r"\b\d{5}-\d{4}-\d{6}\b")


def test_child_allowance_is_filed_with_a_receipt_number(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "child-allowance")
    response = walk.file()
    assert response.status_code == 302, response.text
    receipt_page = client.get(response.headers["Location"] + "?lang=en")
    assert receipt_page.status_code == 200
    number = RECEIPT.search(receipt_page.text)
    assert number, "the receipt page shows the receipt number"
    with app.app_context():
        application = (
            db.session()
            .scalars(select(Application).where(Application.receipt_number == number.group(0)))
            .one()
        )
        assert application.state == "received" or application.state
        assert application.procedure_fingerprint
        events = (
            db.session()
            .scalars(
                select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
            )
            .all()
        )
        assert [e.action for e in events] == ["file"]
        audit = (
            db.session()
            .scalars(
                select(AuditEvent).where(AuditEvent.subject == f"application:{number.group(0)}")
            )
            .all()
        )
        assert [a.action for a in audit] == ["application.filed", "document.issued"]
        assert audit[1].data["kind"] == "receipt", "the receipt PDF follows the filing"
        files = (
            db.session()
            .scalars(select(StoredFile).where(StoredFile.application_id == application.id))
            .all()
        )
        assert files, "the uploaded attachments belong to the application"
        assert db.session().scalars(select(Draft)).all() == []
        sent = mail.outbox()
        assert any(number.group(0) in m.subject for m in sent)


def test_filing_twice_files_once(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "child-allowance")
    review_url = walk.to_review()
    token = csrf_of(client.get(review_url).text)
    file_url = review_url.replace("/review", "/file")
    first = client.post(file_url, data={"csrf_token": token, "declaration": "yes"})
    second = client.post(file_url, data={"csrf_token": token, "declaration": "yes"})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert len(db.session().scalars(select(Application)).all()) == 1


def test_receipt_pdf_can_be_downloaded(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "taro@example.jp")
    receipt_url = Walk(client, app, "child-allowance").file().headers["Location"]
    with client.get(receipt_url.replace("/receipt", "/receipt.pdf")) as pdf:
        assert pdf.status_code == 200
        assert pdf.data.startswith(b"%PDF")


def test_another_resident_gets_404_for_my_application(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    receipt_url = Walk(client, app, "child-allowance").file().headers["Location"]
    other = app.test_client()
    log_in_resident(other, "hanako@example.jp")
    detail = receipt_url.replace("/receipt", "")
    for url in (detail, receipt_url, receipt_url.replace("/receipt", "/receipt.pdf")):
        with other.get(url) as response:
            assert response.status_code == 404
