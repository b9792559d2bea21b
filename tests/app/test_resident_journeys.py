"""Resident journeys through real HTTP: repeating groups, conditional pages,
proxies, corrections, withdrawal, resuming drafts and bad input."""

from __future__ import annotations

import io
import re

from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from helpers import log_in_resident
from sqlalchemy import select

from forms.samples import SAMPLE_PDF, SAMPLE_PNG
from madoguchi import db
from madoguchi.models import Application, Draft
from madoguchi.services import transitions


def application_of(app: Flask, receipt_location: str) -> Application:
    public_id = receipt_location.rstrip("/").split("/")[-2]
    with app.app_context():
        found = (
            db.session()
            .scalars(select(Application).where(Application.public_id == public_id))
            .one()
        )
        db.session().expunge(found)
        return found


def clerk_acts(app: Flask, public_id: str, action: str, comment: str | None = None) -> None:
    """The office side of a journey, through the same service the back office uses."""
    with app.test_request_context():
        session = db.session()
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        transitions.take_action(
            session, application, action, roles={"clerk"}, actor="staff:1", comment=comment
        )
        db.commit()


def test_moving_out_with_two_family_members_files_the_repeating_group(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "moving-out", answers={"with_family": "y"}, items={"members": 2})
    filed = walk.file()
    assert filed.status_code == 302
    assert "members" in walk.visited, "the conditional members page is shown with family"
    application = application_of(app, filed.headers["Location"])
    assert len(application.answers["members"]) == 2
    assert application.office_id == "kita", "routed to the ward of 〒530-0001"
    assert application.receipt_number.startswith("27127-")


def test_moving_out_alone_skips_the_members_page(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "moving-out")
    filed = walk.file()
    assert filed.status_code == 302
    assert "members" not in walk.visited
    assert "members" not in application_of(app, filed.headers["Location"]).answers


def test_a_repeating_item_can_be_removed_before_filing(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "moving-out", answers={"with_family": "y"}, items={"members": 2})
    review = walk.to_review()
    draft_id = review.split("/")[-2]
    page = client.get(f"/drafts/{draft_id}/pages/members?lang=en")
    assert page.text.count("Item ") >= 2
    removed = client.post(
        f"/drafts/{draft_id}/pages/members/items/1/remove", data={"csrf_token": csrf_of(page.text)}
    )
    assert removed.status_code == 302
    after = client.get(f"/drafts/{draft_id}/pages/members?lang=en")
    assert "Item 2" not in after.text
    assert "Item 1" in after.text


def test_correction_round_trip_changes_only_the_opened_pages(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    filed = Walk(client, app, "moving-out").file()
    application = application_of(app, filed.headers["Location"])
    clerk_acts(
        app,
        application.public_id,
        "request_correction",
        "転出先の住所に部屋番号を追記してください。",
    )
    assert any(
        "補正" in m.subject or "Update" in m.subject for m in app.extensions["madoguchi.outbox"]
    )

    detail = client.get(f"/applications/{application.public_id}?lang=en")
    assert "The office asks you to correct your application" in detail.text
    assert "部屋番号を追記" in detail.text
    opened = client.post(
        f"/applications/{application.public_id}/correction",
        data={"csrf_token": csrf_of(detail.text)},
    )
    review_url = opened.headers["Location"]
    draft_id = review_url.split("/")[-2]
    # The office did not open the first page: it cannot be changed.
    assert client.get(f"/drafts/{draft_id}/pages/current").status_code == 404
    move = client.get(f"/drafts/{draft_id}/pages/move?lang=en")
    assert move.status_code == 200
    walk = Walk(
        client, app, "moving-out", answers={"new_address": "大阪府堺市堺区南瓦町3-1 101号室"}
    )
    procedure = walk.procedure()
    changed = walk.post_page(f"/drafts/{draft_id}/pages/move", procedure.page("move"))
    assert changed.status_code == 302
    review = client.get(review_url + "?lang=en")
    assert "Check your corrections" in review.text
    sent = client.post(
        review_url.replace("/review", "/file"), data={"csrf_token": csrf_of(review.text)}
    )
    assert sent.status_code == 302
    with app.app_context():
        stored = db.session().get(Application, application.id)
        assert stored is not None
        assert stored.state == "received"
        assert stored.answers["new_address"] == "大阪府堺市堺区南瓦町3-1 101号室"
        assert [e.action for e in stored.events] == ["file", "request_correction", "resubmit"]
        assert db.session().scalars(select(Draft)).all() == []


def test_withdrawal_closes_the_application(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    filed = Walk(client, app, "child-allowance").file()
    application = application_of(app, filed.headers["Location"])
    detail = client.get(f"/applications/{application.public_id}?lang=en")
    assert ">Withdraw the claim</button>" in detail.text
    withdrawn = client.post(
        f"/applications/{application.public_id}/actions/withdraw",
        data={"csrf_token": csrf_of(detail.text), "row_version": str(application.row_version)},
    )
    assert withdrawn.status_code == 302
    after = client.get(f"/applications/{application.public_id}?lang=en")
    assert "Withdrawn" in after.text
    assert ">Withdraw the claim</button>" not in after.text
    again = client.post(
        f"/applications/{application.public_id}/actions/withdraw",
        data={"csrf_token": csrf_of(after.text)},
    )
    assert again.status_code == 302
    assert "closed" in client.get(again.headers["Location"] + "?lang=en").text


def test_proxy_filing_records_the_represented_person_and_power_of_attorney(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(
        client,
        app,
        "road-occupancy",
        answers={
            "filer": "proxy",
            "represented_name": "株式会社なにわ建設 代表取締役 浪速 一郎",
            "represented_address": "大阪市中央区本町1-1",
            "represented_birth_date": "1970-04-01",
            "relationship": "行政書士",
        },
    )
    filed = walk.file()
    assert filed.status_code == 302, filed.text
    assert walk.visited[0] == "filing-for"
    application = application_of(app, filed.headers["Location"])
    assert application.proxy is not None
    assert application.proxy["represented_name"].startswith("株式会社なにわ建設")
    assert application.proxy["power_of_attorney"][0]["name"].endswith(".pdf")
    assert application.office_id == "city-hall"
    with app.app_context():
        names = [f.field_id for f in db.session().get(Application, application.id).files]
    assert "power_of_attorney" in names


def test_proxy_without_power_of_attorney_is_refused_on_the_page(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "road-occupancy")
    url = walk.start()
    page_url = client.get(url).headers["Location"]
    form = client.get(page_url + "?lang=en")
    response = client.post(
        page_url,
        data={"csrf_token": csrf_of(form.text), "filer": "proxy", "represented_name": "浪速 一郎"},
    )
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'href="#power_of_attorney"' in response.text
    assert 'value="浪速 一郎"' in response.text, "what was typed is kept"


def test_a_wrong_answer_says_what_is_wrong_and_keeps_the_rest(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "moving-out")
    page_url = client.get(walk.start()).headers["Location"]
    form = client.get(page_url + "?lang=en")
    response = client.post(
        page_url + "?lang=en",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "大阪 太郎",
            "name_kana": "おおさか たろう",
            "birth_date": "R99.1.1",
            "current_postal_code": "999-9999",
            "current_address": "大阪市北区梅田1-1",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'href="#current_postal_code"' in html
    assert 'href="#birth_date"' in html
    assert 'value="大阪 太郎"' in html
    assert 'value="大阪市北区梅田1-1"' in html
    assert 'aria-invalid="true"' in html
    japanese = client.post(
        page_url + "?lang=ja",
        data={"csrf_token": csrf_of(form.text), "current_postal_code": "999-9999"},
    )
    assert "郵便番号" in japanese.text


def test_an_upload_of_the_wrong_type_is_refused_with_a_message(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "road-occupancy", answers={"filer": "proxy"})
    page_url = client.get(walk.start()).headers["Location"]
    form = client.get(page_url + "?lang=en")
    response = client.post(
        page_url + "?lang=en",
        data={
            "csrf_token": csrf_of(form.text),
            "filer": "proxy",
            "represented_name": "浪速 一郎",
            "represented_address": "大阪市中央区本町1-1",
            "represented_birth_date": "1970-04-01",
            "relationship": "代理人",
            "power_of_attorney": (io.BytesIO(b"MZ\x90\x00 not a document"), "委任状.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'href="#power_of_attorney"' in response.text


def test_an_oversized_upload_is_refused_with_a_message_not_a_413(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "road-occupancy")
    page_url = client.get(walk.start()).headers["Location"]
    form = client.get(page_url + "?lang=en")
    big = SAMPLE_PDF + b"0" * (11 * 1024 * 1024)
    response = client.post(
        page_url + "?lang=en",
        data={
            "csrf_token": csrf_of(form.text),
            "filer": "proxy",
            "represented_name": "浪速 一郎",
            "power_of_attorney": (io.BytesIO(big), "委任状.pdf"),
        },
        content_type="multipart/form-data",
    )
    # The test client spools a big body to a temporary file and leaves it open.
    response.request.input_stream.close()
    assert response.status_code == 422
    assert 'href="#power_of_attorney"' in response.text
    assert "10" in re.sub(r"<[^>]+>", " ", response.text)


def test_a_request_over_the_whole_size_cap_gets_a_friendly_page(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "road-occupancy")
    page_url = client.get(walk.start()).headers["Location"]
    form = client.get(page_url + "?lang=en")
    # The browser announces the size first; the server refuses before reading it.
    response = client.post(
        page_url + "?lang=en",
        data={
            "csrf_token": csrf_of(form.text),
            "power_of_attorney": (io.BytesIO(SAMPLE_PNG), "a.png"),
        },
        content_type="multipart/form-data",
        environ_overrides={"CONTENT_LENGTH": str(app.config["MAX_CONTENT_LENGTH"] + 1)},
    )
    assert response.status_code == 413
    assert "too large" in response.text
    assert "<html" in response.text
    assert "Traceback" not in response.text


def test_a_draft_resumes_on_another_device(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "child-allowance")
    first_page = client.get(walk.start()).headers["Location"]
    procedure = walk.procedure()
    saved = walk.post_page(first_page, procedure.page("claimant"))
    assert saved.status_code == 302
    phone = app.test_client()
    log_in_again = phone.get("/login?lang=en")
    phone.post(
        "/login",
        data={
            "csrf_token": csrf_of(log_in_again.text),
            "email": "taro@example.jp",
            "password": "correct horse battery staple",
        },
    )
    listing = phone.get("/drafts?lang=en")
    assert "Claim for child allowance" in listing.text
    draft_link = re.search(r'href="(/drafts/[0-9a-f]+)"', listing.text)
    assert draft_link
    resumed = phone.get(draft_link.group(1))
    assert resumed.status_code == 302
    assert not resumed.headers["Location"].endswith("/claimant"), "the saved page is done"


def test_another_residents_draft_is_404(app: Flask, client: FlaskClient, published: None) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "child-allowance")
    draft_url = walk.start()
    other = app.test_client()
    log_in_resident(other, "hanako@example.jp")
    for url in (
        draft_url,
        draft_url + "/review",
        draft_url + "/pages/claimant",
        draft_url + "/pages/children/items/0",
    ):
        assert other.get(url).status_code == 404, url
    token = (
        csrf_of(other.get("/drafts?lang=en").text)
        if "csrf_token" in other.get("/drafts").text
        else ""
    )
    assert other.post(draft_url + "/delete", data={"csrf_token": token}).status_code in (400, 404)


def test_a_post_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    response = client.post("/procedures/child-allowance/start")
    assert response.status_code == 400


def test_fee_before_filing_is_not_filed_without_payment(
    app: Flask, client: FlaskClient, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "dog-registration")
    review_url = walk.to_review()
    review = client.get(review_url + "?lang=en")
    assert "Total" in review.text, "the itemised fee is shown before filing"
    assert "How do you pay the fee?" in review.text
    filed = client.post(
        review_url.replace("/review", "/file"),
        data={"csrf_token": csrf_of(review.text), "declaration": "yes", "method": "card"},
    )
    assert "/pay-stub/intents/" in filed.headers["Location"], "off to pay, not filed"
    with app.app_context():
        assert db.session().scalars(select(Application)).all() == []
