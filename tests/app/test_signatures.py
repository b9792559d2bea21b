"""The applicant's e-signature: the card app's signing page, verification, revocation, the CLI."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest
from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from sqlalchemy import select, update

from madoguchi import db, signatures
from madoguchi.identity.cardapp import DEMO_CARDS
from madoguchi.identity.port import VerifiedIdentity
from madoguchi.models import Application, ApplicationSignature, Resident
from madoguchi.services import accounts
from madoguchi.signatures import cardapp as signing
from madoguchi.signatures.ca import TestCA

CARD = DEMO_CARDS[0]


@pytest.fixture(autouse=True)
def fresh_pins(app: Flask) -> Iterator[None]:
    app.extensions[signing.EXTENSION].reset()
    yield
    app.extensions[signing.EXTENSION].reset()


def card_resident(client: FlaskClient, email: str = "hanako@example.jp") -> int:
    return log_in_resident(client, email, identity=CARD.identity().as_dict())


def application_by_location(app: Flask, location: str) -> Application:
    public_id = location.rstrip("/").split("/")[-2]
    with app.app_context():
        found = (
            db.session()
            .scalars(select(Application).where(Application.public_id == public_id))
            .one()
        )
        db.session().expunge(found)
        return found


def verify(app: Flask, public_id: str) -> signatures.Verification | None:
    with app.test_request_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        return signatures.verify_application(session, application)


def file_signed(app: Flask, client: FlaskClient) -> Application:
    filed = Walk(client, app, "moving-out").file()
    assert filed.status_code == 302
    assert "/applications/" in filed.headers["Location"], filed.headers["Location"]
    return application_by_location(app, filed.headers["Location"])


def test_moving_out_cannot_be_filed_unsigned_and_can_after_signing(
    app: Flask, client: FlaskClient, published: None
) -> None:
    card_resident(client)
    walk = Walk(client, app, "moving-out", sign=False)
    review_url = walk.to_review()
    filed = walk.file_from_review(review_url)
    assert filed.status_code == 302
    assert "/card-app/sign" in filed.headers["Location"], "sent to the card app to sign"
    with app.app_context():
        assert db.session().scalars(select(Application)).first() is None, "not filed unsigned"

    page = client.get(filed.headers["Location"] + "&lang=en")
    assert "My Number Card app" in page.text, "visibly the card app"
    assert "Sign with your My Number Card" in page.text
    assert CARD.name in page.text
    signed = walk.sign_on_card_app(filed.headers["Location"])
    assert signed.status_code == 302
    assert signed.headers["Location"] == review_url

    filed = walk.file_from_review(review_url)
    assert "/applications/" in filed.headers["Location"]
    application = application_by_location(app, filed.headers["Location"])
    result = verify(app, application.public_id)
    assert result is not None
    assert result.status == "valid"
    assert result.signer_name == CARD.name
    with app.app_context():
        row = db.session().scalars(select(ApplicationSignature)).one()
        assert row.application_id == application.id
        assert row.draft_public_id == application.draft_public_id
        assert "BEGIN CERTIFICATE" in row.certificate_pem


def test_answers_changed_after_signing_must_be_signed_again(
    app: Flask, client: FlaskClient, published: None
) -> None:
    card_resident(client)
    walk = Walk(client, app, "moving-out", sign=False)
    review_url = walk.to_review()
    walk.sign_on_card_app(walk.file_from_review(review_url).headers["Location"])
    procedure = walk.procedure()
    page = next(p for p in procedure.pages if any(f.id == "new_address" for f in p.fields))
    draft_url = review_url.removesuffix("/review")
    walk.answers["new_address"] = "東京都千代田区千代田1-1 別の住所"
    changed = walk.post_page(f"{draft_url}/pages/{page.id}", page)
    assert changed.status_code == 302
    again = walk.file_from_review(review_url)
    assert "/card-app/sign" in again.headers["Location"], "must sign the new answers"
    walk.sign_on_card_app(again.headers["Location"])
    filed = walk.file_from_review(review_url)
    assert "/applications/" in filed.headers["Location"]


def test_a_changed_answer_after_filing_does_not_match(
    app: Flask, client: FlaskClient, published: None
) -> None:
    card_resident(client)
    application = file_signed(app, client)
    answers = dict(application.answers)
    answers["new_address"] = "書き換えられた住所"
    with app.app_context():
        db.session().execute(
            update(Application).where(Application.id == application.id).values(answers=answers)
        )
        db.commit()
    result = verify(app, application.public_id)
    assert result is not None
    assert result.status == "mismatch"


def test_a_name_change_revokes_the_certificate(
    app: Flask, client: FlaskClient, published: None
) -> None:
    resident_id = card_resident(client)
    application = file_signed(app, client)
    with app.test_request_context():
        resident = db.session().get(Resident, resident_id)
        assert resident is not None
        moved = VerifiedIdentity(
            name="山田 花子",
            address="大阪府大阪市中央区難波四丁目7番22号",
            postal_code="5420076",
            birth_date=CARD.birth_date.isoformat(),
            card_serial=CARD.serial,
        )
        accounts._store_identity(resident, moved)
        db.commit()
    result = verify(app, application.public_id)
    assert result is not None
    assert result.status == "revoked"


def test_an_unchanged_identity_does_not_revoke(
    app: Flask, client: FlaskClient, published: None
) -> None:
    resident_id = card_resident(client)
    application = file_signed(app, client)
    with app.test_request_context():
        resident = db.session().get(Resident, resident_id)
        assert resident is not None
        accounts._store_identity(resident, CARD.identity())
        db.commit()
    result = verify(app, application.public_id)
    assert result is not None
    assert result.status == "valid"


def test_an_expired_or_foreign_certificate_does_not_verify(app: Flask, tmp_path: object) -> None:
    content = signatures.canonical_bytes({"a": "b"}, ["0" * 64], "f" * 64)
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context():
        ca = signatures.local_ca()
        old = ca.issue_resident(
            CARD.name,
            CARD.address,
            not_before=now - datetime.timedelta(days=400),
            not_after=now - datetime.timedelta(days=30),
        )
        port = signatures.port()
        expired = port.verify(
            content, signatures.sign_bytes(content, old), old.certificate_pem, now
        )
        assert expired.status == "expired"

        fresh = ca.issue_resident(CARD.name, CARD.address)
        good = port.verify(
            content, signatures.sign_bytes(content, fresh), fresh.certificate_pem, now
        )
        assert good.status == "valid"
        other = content.replace(b'"b"', b'"c"')
        assert (
            port.verify(
                other, signatures.sign_bytes(content, fresh), fresh.certificate_pem, now
            ).status
            == "mismatch"
        )

        from pathlib import Path

        stranger = TestCA(Path(str(tmp_path)) / "other-ca").issue_resident(CARD.name, "x")
        foreign = port.verify(
            content, signatures.sign_bytes(content, stranger), stranger.certificate_pem, now
        )
        assert foreign.status == "untrusted"


def test_canonical_bytes_are_sorted_utf8_json() -> None:
    content = signatures.canonical_bytes({"b": 1, "a": "大阪"}, ["f2", "e1"], "fp")
    assert content == '{"answers":{"a":"大阪","b":1},"files":["e1","f2"],"procedure":"fp"}'.encode()


def test_five_wrong_signing_pins_lock_the_certificate(
    app: Flask, client: FlaskClient, published: None
) -> None:
    card_resident(client)
    walk = Walk(client, app, "moving-out", sign=False)
    review_url = walk.to_review()
    sign_url = walk.file_from_review(review_url).headers["Location"]
    short = walk.sign_on_card_app(sign_url, pin="abc")
    assert short.status_code == 422, "a PIN of the wrong shape uses no attempt"
    for attempt in range(1, 5):
        wrong = walk.sign_on_card_app(sign_url, pin="wrong1234")
        assert wrong.status_code == 422
        assert re.search(rf"{5 - attempt} attempts? left", wrong.text), wrong.text
    locked = walk.sign_on_card_app(sign_url, pin="wrong1234")
    assert locked.status_code == 403
    assert "The signing certificate is locked" in locked.text
    page = client.get(sign_url)
    assert "The signing certificate is locked" in page.text
    right = client.post(
        "/card-app/sign",
        data={
            "csrf_token": csrf_of(client.get(review_url).text),
            "pin": signing.DEMO_SIGNING_PIN,
            "draft": review_url.split("/drafts/")[1].split("/")[0],
            "return_url": review_url,
        },
    )
    assert "The signing certificate is locked" in right.text, "even the right PIN now"
    with app.app_context():
        assert db.session().scalars(select(ApplicationSignature)).first() is None


def test_another_residents_draft_cannot_be_signed(
    app: Flask, client: FlaskClient, published: None
) -> None:
    card_resident(client)
    walk = Walk(client, app, "moving-out", sign=False)
    sign_url = walk.file_from_review(walk.to_review()).headers["Location"]
    other = app.test_client()
    log_in_resident(other, "someone@example.jp")
    assert other.get(sign_url).status_code == 400


def test_the_verify_command(app: Flask, client: FlaskClient, published: None) -> None:
    card_resident(client)
    application = file_signed(app, client)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify", application.receipt_number])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output
    answers = dict(application.answers)
    answers["new_address"] = "書き換えられた住所"
    with app.app_context():
        db.session().execute(
            update(Application).where(Application.id == application.id).values(answers=answers)
        )
        db.commit()
    bad = runner.invoke(args=["verify", application.receipt_number])
    assert bad.exit_code == 1
    assert "mismatch" in bad.output
    missing = runner.invoke(args=["verify", "99999-2026-000001"])
    assert missing.exit_code == 1
