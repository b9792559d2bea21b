"""Counter filing (代行入力): a clerk files for a resident with the residents' pages and checks."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from staff_helpers import csrf_from
from work_helpers import application_row, staff_client

from forms.samples import sample_raw
from forms.types.base import Upload
from madoguchi import db
from madoguchi.services import drafts, proxy
from workflow.model import Page, Procedure, today_in_japan


def procedure_of(app: Flask, procedure_id: str) -> Procedure:
    with app.app_context():
        version = drafts.published_version(db.session(), procedure_id)
        assert version is not None
        return drafts.catalogue().procedure_of(version)


def start(client: FlaskClient, procedure_id: str) -> str:
    choose = client.get("/office/counter")
    assert choose.status_code == 200
    assert f'value="{procedure_id}"' in choose.text
    started = client.post(
        "/office/counter/start",
        data={"csrf_token": csrf_from(choose.text), "procedure": procedure_id},
    )
    assert started.status_code == 302
    return started.headers["Location"]


def post_page(client: FlaskClient, url: str, page: Page, answers: dict[str, Any]) -> Any:
    form = client.get(url)
    assert form.status_code == 200, form.text
    data: dict[str, Any] = {"csrf_token": csrf_from(form.text)}
    for f in page.fields:
        if f.type == "note" or f'name="{f.id}"' not in form.text:
            continue
        value = answers.get(f.id, sample_raw(f, today_in_japan()))
        if isinstance(value, Upload):
            data[f.id] = (io.BytesIO(value.data), value.name)
        elif value not in (None, ""):
            data[f.id] = value
    return client.post(url, data=data, content_type="multipart/form-data")


def walk_to_review(
    app: Flask, client: FlaskClient, procedure_id: str, answers: dict[str, Any] | None = None
) -> str:
    """Fill every page of a counter draft like `filing_walker.Walk`; the review page's URL."""
    procedure = procedure_of(app, procedure_id)
    url = start(client, procedure_id)
    for _ in range(60):
        response = client.get(url)
        if response.status_code == 302:
            url = response.headers["Location"]
            continue
        if url.endswith("/review"):
            return url
        page_id = url.split("/pages/")[1].split("?")[0]
        page = proxy.PAGE if page_id == proxy.PAGE.id else procedure.page(page_id)
        if page.repeat is not None:
            added = post_page(client, f"{url}/items/0", page, answers or {})
            assert added.status_code == 302, added.text
            summary = client.get(url)
            done = client.post(url, data={"csrf_token": csrf_from(summary.text)})
        else:
            done = post_page(client, url, page, answers or {})
        assert done.status_code == 302, done.text[:2000]
        url = done.headers["Location"]
    raise AssertionError("the counter walk did not reach the review page")


def file(client: FlaskClient, review_url: str, **data: str) -> Any:
    review = client.get(review_url)
    assert review.status_code == 200
    return client.post(
        review_url.replace("/review", "/file"), data={"csrf_token": csrf_from(review.text), **data}
    )


def public_id_of(filed: Any) -> str:
    assert filed.status_code == 302, filed.text
    location = filed.headers["Location"]
    assert "/office/counter/filed/" in location
    return location.rsplit("/", 1)[-1]


def test_counter_filing_end_to_end(app: Flask, published: None) -> None:
    clerk, clerk_id = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    review_url = walk_to_review(app, clerk, "child-allowance")
    assert "/office/counter/drafts/" in review_url
    filed = file(clerk, review_url, email="Taro@Example.jp", declaration="yes")
    public_id = public_id_of(filed)
    row = application_row(app, public_id)
    assert row.channel == "counter"
    assert row.counter_staff_id == clerk_id
    assert row.office_id == "kita"
    assert row.applicant_email == "taro@example.jp"
    assert row.resident_id is None
    assert row.events[0].actor == f"staff:{clerk_id}"
    receipt_page = clerk.get(filed.headers["Location"])
    assert row.receipt_number in receipt_page.text
    assert "Kita Ward Office" in receipt_page.text
    sent = app.extensions["madoguchi.outbox"]
    assert [m.to for m in sent if row.receipt_number in m.subject] == ["taro@example.jp"]
    # It waits in the office's queue like any other, and says where it came from.
    assert row.receipt_number in clerk.get("/office/queue").text
    assert "at the counter" in clerk.get(f"/office/applications/{public_id}").text
    # Filing the same draft again gives the same application.
    again = clerk.post(
        review_url.replace("/review", "/file"),
        data={"csrf_token": csrf_from(clerk.get("/office/counter").text), "declaration": "yes"},
    )
    assert again.headers["Location"] == filed.headers["Location"]


def test_a_resident_of_another_ward_goes_to_that_ward(app: Flask, published: None) -> None:
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    review_url = walk_to_review(app, clerk, "child-allowance", {"postal_code": "556-0012"})
    filed = file(clerk, review_url, declaration="yes")
    public_id = public_id_of(filed)
    row = application_row(app, public_id)
    assert row.office_id == "naniwa"
    assert row.applicant_email == ""
    assert not [m for m in app.extensions["madoguchi.outbox"] if row.receipt_number in m.subject]
    assert "Naniwa Ward Office" in clerk.get(filed.headers["Location"]).text
    # The kita clerk holds no role there: the application itself is not theirs to open.
    assert clerk.get(f"/office/applications/{public_id}").status_code == 404


def test_pages_are_checked_like_the_residents(app: Flask, published: None) -> None:
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    url = start(clerk, "child-allowance")
    first = clerk.get(url).headers["Location"]
    page = clerk.get(first)
    assert page.status_code == 200
    assert 'name="name"' in page.text
    empty = clerk.post(first, data={"csrf_token": csrf_from(page.text), "my_number": "123"})
    assert empty.status_code == 422
    assert 'class="error-summary"' in empty.text
    assert 'id="name-error"' in empty.text
    assert 'id="my_number-error"' in empty.text
    assert 'value="123"' in empty.text  # what was typed is kept


def test_declaration_and_email_are_checked(app: Flask, published: None) -> None:
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    review_url = walk_to_review(app, clerk, "moving-out")
    refused = file(clerk, review_url, email="not an address")
    assert refused.status_code == 422
    assert 'id="email-error"' in refused.text
    assert 'id="declaration-error"' in refused.text
    assert re.search(r'name="email" value="not an address"', refused.text)


def test_a_counter_draft_is_the_clerks_own(app: Flask, published: None) -> None:
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    other, _ = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")])
    draft_url = start(clerk, "moving-out")
    assert clerk.get(draft_url).status_code == 302
    assert other.get(draft_url).status_code == 404
    assert other.get(f"{draft_url}/review").status_code == 404
    # The clerk's unfinished counter filings are listed for them only.
    draft_id = draft_url.rsplit("/", 1)[-1]
    assert draft_id in clerk.get("/office/counter").text
    assert draft_id not in other.get("/office/counter").text
