"""Working one application: answers and reveal, attachments, notes, actions, documents, locking."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from staff_helpers import audit_rows, csrf_from
from work_helpers import (
    application_row,
    file_as_resident,
    post_with_csrf,
    resident_client,
    staff_client,
    take,
)

from madoguchi.services import transitions


def page_url(public_id: str) -> str:
    return f"/office/applications/{public_id}"


@pytest.fixture
def kita(app: Flask, published: None) -> dict[str, FlaskClient]:
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")], name="Aoki")
    chief, _ = staff_client(app, "chief@kita.example.jp", [("kita", "supervisor")], name="Chief")
    return {"clerk": clerk, "chief": chief}


def to_approval(app: Flask, clerk: FlaskClient) -> str:
    public_id = file_as_resident(app)
    assert take(clerk, public_id, "start_review").status_code == 302
    assert take(clerk, public_id, "recommend").status_code == 302
    assert application_row(app, public_id).state == "approval"
    return public_id


def test_page_shows_answers_masked_history_clock_and_fee(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = file_as_resident(app)
    html = kita["clerk"].get(page_url(public_id)).text
    row = application_row(app, public_id)
    assert row.receipt_number in html
    assert "Received" in html
    assert "Full name" in html
    assert "●●●●9018" in html  # My Number masked
    assert "123456789018" not in html
    assert "business days used" in html
    assert "¥0" in html
    assert "Start review" in html  # an action this clerk may take now
    assert "Certify" not in html  # a supervisor's, and not from this state


def test_reveal_shows_one_value_and_is_audited(app: Flask, kita: dict[str, FlaskClient]) -> None:
    public_id = file_as_resident(app)
    clerk = kita["clerk"]
    shown = post_with_csrf(
        clerk, f"{page_url(public_id)}/reveal", {"field": "my_number"}, form_url=page_url(public_id)
    )
    assert shown.status_code == 200
    assert '<span class="revealed">123456789018</span>' in shown.text
    [row] = audit_rows(app, "sensitive.reveal")
    assert row.data == {"field": "my_number", "item": None}
    assert row.subject == f"application:{application_row(app, public_id).receipt_number}"
    # Not sensitive, or not a field: nothing to reveal.
    for field in ("name", "nope"):
        refused = post_with_csrf(
            clerk, f"{page_url(public_id)}/reveal", {"field": field}, form_url=page_url(public_id)
        )
        assert refused.status_code == 404
    assert len(audit_rows(app, "sensitive.reveal")) == 1


def test_attachments_download_and_inline_preview(app: Flask, kita: dict[str, FlaskClient]) -> None:
    public_id = file_as_resident(app)
    row = application_row(app, public_id)
    assert row.files, "the sample filing has an attachment"
    stored = row.files[0]
    clerk = kita["clerk"]
    html = clerk.get(page_url(public_id)).text
    url = f"{page_url(public_id)}/files/{stored.public_id}"
    assert f'href="{url}"' in html
    download = clerk.get(url)
    download.close()
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    preview = clerk.get(f"{url}/preview")
    preview.close()
    assert preview.status_code == 200
    assert preview.headers["Content-Disposition"].startswith("inline")
    assert preview.mimetype == stored.mime


def test_notes_are_for_staff_only(app: Flask, kita: dict[str, FlaskClient]) -> None:
    resident = resident_client(app, "hanako@example.jp")
    public_id = file_as_resident(app, client=resident)
    clerk = kita["clerk"]
    note = "Phoned the applicant's employer; pension proof is on its way."
    saved = post_with_csrf(
        clerk, f"{page_url(public_id)}/notes", {"body": note}, form_url=page_url(public_id)
    )
    assert saved.status_code == 302
    staff_view = clerk.get(page_url(public_id)).text
    assert note.replace("'", "&#39;") in staff_view
    assert "Aoki" in staff_view
    empty = post_with_csrf(
        clerk, f"{page_url(public_id)}/notes", {"body": "  "}, form_url=page_url(public_id)
    )
    assert empty.status_code == 302
    resident_view = resident.get(f"/applications/{public_id}")
    assert resident_view.status_code == 200
    assert "pension proof is on its way" not in resident_view.text
    assert "employer" not in resident_view.text


def test_required_comment_is_asked_for(app: Flask, kita: dict[str, FlaskClient]) -> None:
    public_id = file_as_resident(app)
    clerk = kita["clerk"]
    refused = take(clerk, public_id, "request_correction", {"comment": "  "})
    assert refused.status_code == 422
    assert "Write a message for the applicant" in refused.text
    assert application_row(app, public_id).state == "received"
    done = take(clerk, public_id, "request_correction", {"comment": "Attach the pension proof."})
    assert done.status_code == 302
    row = application_row(app, public_id)
    assert row.state == "correction"
    assert row.events[-1].comment == "Attach the pension proof."
    assert row.events[-1].actor.startswith("staff:")
    # notify: applicant
    assert any(row.receipt_number in m.subject for m in app.extensions["madoguchi.outbox"])


def test_history_names_the_staff_member(app: Flask, kita: dict[str, FlaskClient]) -> None:
    public_id = file_as_resident(app)
    take(kita["clerk"], public_id, "start_review")
    html = kita["chief"].get(page_url(public_id)).text
    assert re.search(r"Start review → Under review <span class=\"actor\">\(Aoki\)</span>", html)


def test_required_fields_of_an_action_are_validated_like_resident_forms(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = to_approval(app, kita["clerk"])
    chief = kita["chief"]
    missing = take(chief, public_id, "certify", {})
    assert missing.status_code == 422
    assert 'class="error-summary"' in missing.text
    assert 'id="monthly_amount-error"' in missing.text
    assert 'id="first_month-error"' in missing.text
    wrong = take(chief, public_id, "certify", {"monthly_amount": "5", "first_month": "12/2026"})
    assert wrong.status_code == 422
    assert 'value="12/2026"' in wrong.text  # what was typed is kept
    assert application_row(app, public_id).state == "approval"

    done = take(chief, public_id, "certify", {"monthly_amount": "15000", "first_month": "2026-12"})
    assert done.status_code == 302, done.text
    row = application_row(app, public_id)
    assert row.state == "certified"
    assert row.events[-1].fields == {"monthly_amount": 15000, "first_month": "2026-12"}


def test_a_decision_document_is_made_after_the_action(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = to_approval(app, kita["clerk"])
    chief = kita["chief"]
    take(chief, public_id, "certify", {"monthly_amount": "15000", "first_month": "2026-12"})
    row = application_row(app, public_id)
    [decision] = [d for d in row.documents if d.kind == "decision"]
    html = chief.get(page_url(public_id)).text
    url = f"{page_url(public_id)}/documents/{decision.public_id}"
    assert f'href="{url}"' in html
    pdf = chief.get(url)
    data = pdf.get_data()
    pdf.close()
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert row.receipt_number in text


def test_a_failed_document_is_pending_and_can_be_made_later(
    app: Flask, kita: dict[str, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    public_id = to_approval(app, kita["clerk"])
    chief = kita["chief"]
    real = transitions.make_document

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the PDF renderer is down")

    monkeypatch.setattr(transitions, "make_document", broken)
    done = take(chief, public_id, "reject", {"comment": "Not eligible."})
    assert done.status_code == 302  # the action stands
    assert application_row(app, public_id).state == "rejected"
    page = chief.get(page_url(public_id))
    assert "document pending" in page.text
    assert "Make it now" in page.text
    assert not [d for d in application_row(app, public_id).documents if d.kind == "rejection"]

    monkeypatch.setattr(transitions, "make_document", real)
    made = post_with_csrf(
        chief,
        f"{page_url(public_id)}/documents/rejection/make",
        {},
        form_url=page_url(public_id),
    )
    assert made.status_code == 302
    assert [d.kind for d in application_row(app, public_id).documents if d.kind == "rejection"]
    assert "document pending" not in chief.get(page_url(public_id)).text


def test_two_actors_second_gets_409_and_sees_the_new_state(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = file_as_resident(app)
    first = kita["clerk"]
    second, _ = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    seen_by_first = first.get(page_url(public_id)).text
    seen_by_second = second.get(page_url(public_id)).text
    assert take(first, public_id, "start_review", page_html=seen_by_first).status_code == 302
    late = take(
        second,
        public_id,
        "request_correction",
        {"comment": "Please fix."},
        page_html=seen_by_second,
    )
    assert late.status_code == 409
    assert "changed in the meantime" in late.text
    assert "Under review" in late.text
    row = application_row(app, public_id)
    assert row.state == "reviewing"
    assert [e.action for e in row.events] == ["file", "start_review"]


def test_an_action_the_actor_may_not_take_shows_why(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = to_approval(app, kita["clerk"])
    clerk = kita["clerk"]
    html = clerk.get(page_url(public_id)).text
    assert "Certify" not in html  # not offered to a clerk
    refused = clerk.post(
        f"{page_url(public_id)}/actions/certify",
        data={
            "csrf_token": csrf_from(html),
            "row_version": str(application_row(app, public_id).row_version),
            "monthly_amount": "15000",
            "first_month": "2026-12",
        },
    )
    assert refused.status_code == 422
    assert "Your roles at this office do not allow this action" in refused.text
    assert application_row(app, public_id).state == "approval"
    assert (
        clerk.post(
            f"{page_url(public_id)}/actions/no-such-action", data={"csrf_token": csrf_from(html)}
        ).status_code
        == 404
    )


def test_an_action_into_another_queue_frees_the_claim(
    app: Flask, kita: dict[str, FlaskClient]
) -> None:
    public_id = file_as_resident(app)
    clerk = kita["clerk"]
    post_with_csrf(clerk, f"{page_url(public_id)}/claim", {}, form_url=page_url(public_id))
    take(clerk, public_id, "start_review")  # same queue (clerk): still mine
    assert application_row(app, public_id).assigned_to_id is not None
    take(clerk, public_id, "recommend")  # the supervisors' queue: free for them to claim
    assert application_row(app, public_id).assigned_to_id is None
