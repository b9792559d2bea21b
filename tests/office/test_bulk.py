"""Bulk actions on a selection: claim selected, one action with one comment, per-item report."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from staff_helpers import audit_rows, csrf_from
from work_helpers import (
    application_row,
    clone_application,
    file_as_resident,
    set_columns,
    staff_client,
)


def bulk(client: FlaskClient, data: dict[str, object]) -> str:
    queue = client.get("/office/queue")
    response = client.post("/office/bulk", data={"csrf_token": csrf_from(queue.text), **data})
    assert response.status_code == 200, response.status_code
    return response.text


def skipped(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<tr data-receipt="([^"]+)"><td>[^<]*</td><td class="reason">([^<]*)</td>', html
        )
    )


def done(html: str) -> list[str]:
    return re.findall(r'<li data-receipt="([^"]+)">', html)


def test_claim_selected_reports_what_was_taken_already(app: Flask, published: None) -> None:
    first = file_as_resident(app)
    second, third = clone_application(app, first, 2)
    clerk, clerk_id = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    _other, other_id = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    set_columns(app, third, assigned_to_id=other_id)
    html = bulk(clerk, {"operation": "claim", "selected": [first, second, third, "nonexistent"]})
    receipts = {p: application_row(app, p).receipt_number for p in (first, second, third)}
    assert sorted(done(html)) == sorted([receipts[first], receipts[second]])
    assert skipped(html) == {receipts[third]: "already taken by Baba", "nonexistent": "not found"}
    assert application_row(app, first).assigned_to_id == clerk_id
    assert application_row(app, third).assigned_to_id == other_id
    assert len(audit_rows(app, "application.claim")) == 2


def test_one_action_with_one_comment_rechecks_each_item(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    ok, wrong_state, claimed_by_other = clone_application(app, base, 3)
    set_columns(app, wrong_state, state="approval")
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    _other, other_id = staff_client(app, "c2@kita.example.jp", [("kita", "clerk")], name="Baba")
    set_columns(app, claimed_by_other, assigned_to_id=other_id)
    naniwa = clone_application(app, base, 1, office_id="naniwa")[0]

    queue = clerk.get("/office/queue").text
    assert '<option value="request_correction">Request correction</option>' in queue
    html = bulk(
        clerk,
        {
            "operation": "action",
            "action": "request_correction",
            "comment": "Please attach the pension certificate.",
            "selected": [base, ok, wrong_state, claimed_by_other, naniwa],
        },
    )
    receipt = {p: application_row(app, p).receipt_number for p in (base, ok, wrong_state)}
    assert sorted(done(html)) == sorted([receipt[base], receipt[ok]])
    reasons = skipped(html)
    assert "cannot be taken while the case is" in reasons[receipt[wrong_state]]
    assert reasons[application_row(app, claimed_by_other).receipt_number] == "assigned to Baba"
    assert reasons[naniwa] == "not found"  # another office's: not even named
    for public_id in (base, ok):
        row = application_row(app, public_id)
        assert row.state == "correction"
        assert row.events[-1].comment == "Please attach the pension certificate."
    assert application_row(app, wrong_state).state == "approval"
    assert application_row(app, claimed_by_other).state == "received"


def test_a_required_comment_missing_skips_every_item(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    html = bulk(clerk, {"operation": "action", "action": "request_correction", "selected": [base]})
    assert done(html) == []
    assert skipped(html) == {application_row(app, base).receipt_number: "a comment is required"}
    assert application_row(app, base).state == "received"


def test_nothing_selected_goes_back_to_the_queue(app: Flask, published: None) -> None:
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    queue = clerk.get("/office/queue")
    response = clerk.post(
        "/office/bulk", data={"csrf_token": csrf_from(queue.text), "operation": "claim"}
    )
    assert response.status_code == 302
