"""Every URL of the office room, enumerated from the app's URL map, is closed to outsiders.

For each rule under /office (login, logout and static files aside):

* a logged-in resident (and an anonymous visitor) is sent to the staff login, with no data;
* a clerk of another office gets 404 for kita's application (and for a kita
  clerk's counter draft), and no kita data from the pages that take no id.

The test knows how to fill in each rule's arguments; a new rule it does not
know fails it, so that a new page cannot be added without being checked here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_helpers import csrf_from
from werkzeug.routing import Rule
from work_helpers import (
    application_row,
    file_as_resident,
    resident_client,
    set_columns,
    staff_client,
)

#: endpoints this test does not check: the login steps themselves
EXEMPT = {"office.login", "office.login_code", "office.enrol", "office.logout", "office.static"}

#: every endpoint the test knows, and whether it names one kita object (404 for others)
KNOWN = {
    "office.home": False,
    "office.queue": False,
    "office.export_csv": False,
    "office.next_application": False,
    "office.bulk": False,
    "office.application": True,
    "office.claim": True,
    "office.release": True,
    "office.reassign": True,
    "office.act": True,
    "office.add_note": True,
    "office.reveal": True,
    "office.attachment": True,
    "office.attachment_preview": True,
    "office.document": True,
    "office.make_document": True,
    "office.counter": False,
    "office.counter_start": False,
    "office.counter_next": True,
    "office.counter_delete": True,
    "office.counter_review": True,
    "office.counter_file": True,
    "office.counter_page": True,
    "office.counter_item": True,
    "office.counter_remove_item": True,
    "office.counter_filed": True,
}


def office_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/office") and rule.endpoint not in EXEMPT
    ]


@pytest.fixture
def kita_objects(app: Flask, published: None) -> dict[str, object]:
    """One of each kind of kita object, and the values to fill every rule with."""
    public_id = file_as_resident(app)
    kita_clerk, kita_id = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    set_columns(app, public_id, counter_staff_id=kita_id)
    row = application_row(app, public_id)
    assert row.files, "an attachment"
    assert row.documents, "the receipt PDF"
    choose = kita_clerk.get("/office/counter")
    started = kita_clerk.post(
        "/office/counter/start",
        data={"csrf_token": csrf_from(choose.text), "procedure": "moving-out"},
    )
    draft_id = started.headers["Location"].rsplit("/", 1)[-1]
    return {
        "receipt": row.receipt_number,
        "values": {
            "public_id": public_id,
            "file_id": row.files[0].public_id,
            "document_id": row.documents[0].public_id,
            "kind": "decision",
            "action": "start_review",
            "draft_id": draft_id,
            "page_id": "members",
            "index": 0,
        },
    }


def url_of(app: Flask, rule: Rule, values: dict[str, object]) -> str:
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.rule}: the test cannot fill in {unknown}"
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})


def request(client: FlaskClient, rule: Rule, url: str, token: str) -> object:
    if "GET" in (rule.methods or ()):
        return client.get(url)
    return client.post(url, data={"csrf_token": token, "selected": [], "operation": "claim"})


def test_every_office_rule_is_known(app: Flask) -> None:
    found = {rule.endpoint for rule in office_rules(app)}
    assert found == set(KNOWN), (
        f"new: {sorted(found - set(KNOWN))}, gone: {sorted(set(KNOWN) - found)};"
        " teach this test the new rules"
    )


def test_a_resident_or_a_visitor_is_sent_to_the_staff_login(
    app: Flask, kita_objects: dict[str, object]
) -> None:
    values = kita_objects["values"]
    resident = resident_client(app, "nosy@example.jp")
    visitor = app.test_client()
    for client in (resident, visitor):
        token = csrf_from(client.get("/procedures/child-allowance").text)
        for rule in office_rules(app):
            url = url_of(app, rule, values)  # type: ignore[arg-type]
            response = request(client, rule, url, token)
            assert response.status_code == 302, f"{rule.rule} -> {response.status_code}"  # type: ignore[attr-defined]
            location = urlsplit(response.headers["Location"]).path  # type: ignore[attr-defined]
            assert location == "/office/login", f"{rule.rule} -> {location}"
            assert str(kita_objects["receipt"]) not in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_a_clerk_of_another_office_gets_404_and_no_kita_data(
    app: Flask, kita_objects: dict[str, object]
) -> None:
    values = kita_objects["values"]
    receipt = str(kita_objects["receipt"])
    naniwa, _ = staff_client(app, "clerk@naniwa.example.jp", [("naniwa", "clerk")])
    token = csrf_from(naniwa.get("/office/queue").text)
    for rule in office_rules(app):
        url = url_of(app, rule, values)  # type: ignore[arg-type]
        response = request(naniwa, rule, url, token)
        status = response.status_code  # type: ignore[attr-defined]
        body = response.get_data(as_text=True)  # type: ignore[attr-defined]
        if KNOWN[rule.endpoint]:
            assert status == 404, f"{rule.rule} -> {status}"
        else:
            assert status < 500, f"{rule.rule} -> {status}"
        assert receipt not in body, f"{rule.rule} shows kita's receipt number"
    # Nothing of kita's changed hands on the way.
    row = application_row(app, str(values["public_id"]))  # type: ignore[index]
    assert row.assigned_to_id is None
    assert row.state == "received"
