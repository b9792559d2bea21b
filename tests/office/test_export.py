"""CSV export of the filtered queue: BOM, columns, one row per application, sensitive rule."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient
from staff_helpers import audit_rows
from work_helpers import application_row, clone_application, file_as_resident, staff_client

MY_NUMBER = "Your individual number (My Number)"
ACCOUNT = "Account number"


def export(client: FlaskClient, query: str = "") -> tuple[list[str], list[dict[str, str]], str]:
    response = client.get(f"/office/export.csv{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('.csv"')
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8")[1:]
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, r, strict=True)) for r in body], text


def test_export_has_bom_header_and_one_row_per_application(app: Flask, published: None) -> None:
    child = file_as_resident(app)
    moving = file_as_resident(app, "moving-out")
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")], name="Aoki")
    header, rows, _text = export(clerk)
    assert header[:8] == [
        "Receipt number",
        "Procedure",
        "State",
        "Office",
        "Filed at",
        "Due date",
        "Assignee",
        "Applicant name",
    ]
    assert "Full name" in header  # answers, one column per field label
    assert "Bank name" in header
    by_receipt = {r["Receipt number"]: r for r in rows}
    child_row = by_receipt[application_row(app, child).receipt_number]
    assert child_row["Procedure"] == "Claim for child allowance"
    assert child_row["State"] == "Received"
    assert child_row["Office"] == "Kita Ward Office"
    assert child_row["Due date"] == application_row(app, child).due_date.isoformat()  # type: ignore[union-attr]
    assert child_row["Bank name"]
    assert application_row(app, moving).receipt_number in by_receipt
    assert len(rows) == 2
    [audited] = audit_rows(app, "applications.export")
    assert audited.data == {"count": 2, "sensitive": False}


def test_export_follows_the_queue_filters(app: Flask, published: None) -> None:
    child = file_as_resident(app)
    file_as_resident(app, "moving-out")
    clone_application(app, child, 1, office_id="naniwa")
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    _header, rows, _text = export(clerk, "?procedure=child-allowance")
    assert [r["Receipt number"] for r in rows] == [application_row(app, child).receipt_number]


def test_sensitive_answers_only_for_supervisors_and_admins(app: Flask, published: None) -> None:
    file_as_resident(app)
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    header, rows, text = export(clerk)
    assert MY_NUMBER not in header
    assert ACCOUNT not in header
    assert "123456789018" not in text

    chief, _ = staff_client(
        app, "s@kita.example.jp", [("kita", "clerk"), ("kita", "supervisor")], name="Chief"
    )
    header, rows, _text = export(chief)
    assert MY_NUMBER in header
    assert rows[0][MY_NUMBER] == "123456789018"  # in full: that is what the role is for
    assert audit_rows(app, "applications.export")[-1].data["sensitive"] is True


def test_cells_that_would_be_formulas_are_neutralised(app: Flask, published: None) -> None:
    file_as_resident(app, answers={"bank_name": '=HYPERLINK("http://x")'})
    clerk, _ = staff_client(app, "c1@kita.example.jp", [("kita", "clerk")])
    _header, rows, _text = export(clerk)
    assert rows[0]["Bank name"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["Phone number"] == "06-6208-8181"  # ordinary values stay as they are
