"""Walk any procedure from "Start" to "File" through real HTTP, as a resident would.

Each page is filled with `forms.samples` values (overridable per field),
posted with its CSRF token, and the walker follows wherever the app sends
it next: ordinary pages, repeating pages (one item each, unless told
otherwise), the check-your-answers page and the filing itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forms.samples import sample_raw
from forms.types.base import Upload
from madoguchi import db
from madoguchi.services import drafts, proxy
from madoguchi.services.drafts import published_version
from workflow.model import Page, Procedure, today_in_japan

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


@dataclass
class Walk:
    client: FlaskClient
    app: Flask
    procedure_id: str
    #: field id -> raw value to type instead of the sample
    answers: dict[str, Any] = field(default_factory=dict)
    #: repeating page id -> how many items to add
    items: dict[str, int] = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)

    def procedure(self) -> Procedure:
        with self.app.app_context():
            version = published_version(db.session(), self.procedure_id)
            assert version is not None, f"{self.procedure_id} is published"
            return drafts.catalogue().procedure_of(version)

    def start(self) -> str:
        page = self.client.get(f"/procedures/{self.procedure_id}?lang=en")
        assert page.status_code == 200
        response = self.client.post(
            f"/procedures/{self.procedure_id}/start", data={"csrf_token": csrf_of(page.text)}
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def post_page(self, url: str, page: Page, item: int | None = None) -> TestResponse:
        form = self.client.get(url)
        assert form.status_code == 200, form.text
        data: dict[str, Any] = {"csrf_token": csrf_of(form.text)}
        today = today_in_japan()
        for f in page.fields:
            if f.type == "note" or f'name="{f.id}"' not in form.text:
                continue
            value = self.answers.get(f.id, sample_raw(f, today))
            if isinstance(value, Upload):
                data[f.id] = (io.BytesIO(value.data), value.name)
            elif value not in (None, ""):
                data[f.id] = value
        return self.client.post(url, data=data, content_type="multipart/form-data")

    def to_review(self) -> str:
        """Fill every page; returns the URL of the check-your-answers page."""
        procedure = self.procedure()
        url = self.start()
        for _ in range(60):
            response = self.client.get(url)
            if response.status_code == 302:
                url = response.headers["Location"]
                continue
            if url.endswith("/review"):
                return url
            page_id = url.rstrip("/").split("/pages/")[1].split("?")[0]
            self.visited.append(page_id)
            page = proxy.PAGE if page_id == proxy.PAGE.id else procedure.page(page_id)
            if page.repeat is not None:
                wanted = self.items.get(page.id, max(1, page.repeat.min))
                for index in range(wanted):
                    added = self.post_page(f"{url}/items/{index}", page, index)
                    assert added.status_code == 302, _errors(added)
                summary = self.client.get(url)
                done = self.client.post(url, data={"csrf_token": csrf_of(summary.text)})
            else:
                done = self.post_page(url, page)
            assert done.status_code == 302, _errors(done)
            url = done.headers["Location"]
        raise AssertionError("the walk did not reach the review page")

    #: `sign: applicant` procedures: sign on the card app's page (demo PIN) when sent there
    sign: bool = True

    def file(self) -> TestResponse:
        review_url = self.to_review()
        filed = self.file_from_review(review_url)
        if self.sign and "/card-app/sign" in filed.headers.get("Location", ""):
            signed = self.sign_on_card_app(filed.headers["Location"])
            assert signed.status_code == 302, signed.text
            filed = self.file_from_review(review_url)
        return filed

    def file_from_review(self, review_url: str) -> TestResponse:
        review = self.client.get(review_url)
        assert review.status_code == 200
        file_url = review_url.replace("/review", "/file")
        return self.client.post(
            file_url, data={"csrf_token": csrf_of(review.text), "declaration": "yes"}
        )

    def sign_on_card_app(self, sign_url: str, pin: str = "abc12345") -> TestResponse:
        """Enter the signing PIN on the card app's page (the first demo card if asked)."""
        page = self.client.get(sign_url)
        assert page.status_code == 200, page.text
        data = {"csrf_token": csrf_of(page.text), "pin": pin}
        data.update(re.findall(r'name="(draft|return_url)" value="([^"]*)"', page.text))
        card = re.search(r'name="card" value="([^"]+)"', page.text)
        if card:
            data["card"] = card.group(1)
        return self.client.post("/card-app/sign", data=data)


def _errors(response: TestResponse) -> str:
    found = re.findall(r'<p class="error-message"[^>]*>(.*?)</p>', response.text, re.S)
    summary = re.findall(r'class="error-summary".*?</div>', response.text, re.S)
    return f"status {response.status_code}: {found or summary or response.text[:500]}"
