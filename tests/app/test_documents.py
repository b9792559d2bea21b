"""Documents: sandboxed templates, PDFs read back, stored once.

Rendering needs no database: applications are built in memory from the
shipped procedures.  Every PDF is read back with pypdf, since what matters
is what the applicant gets, not the HTML on the way.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import socket
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.answers import to_json
from madoguchi.catalogue import Catalogue
from madoguchi.config import Defaults
from madoguchi.documents import (
    ActionInfo,
    DocumentError,
    FetchRefused,
    application_pdf,
    display_rows,
    document_context,
    ensure_document,
    format_date,
    receipt_pdf,
    render_html,
    render_pdf,
    safe_fetcher,
    template_for,
)
from madoguchi.documents.context import action_info
from madoguchi.documents.service import document_pdf
from madoguchi.models import Application, ApplicationEvent, GeneratedDocument, ProcedureVersion
from madoguchi.storage import FileStore
from workflow.model import Office, Procedure

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILTIN = PROJECT_ROOT / "templates" / "documents"
FILED_AT = datetime.datetime(2026, 11, 25, 1, 30, tzinfo=datetime.UTC)  # 10:30 in Osaka
RECEIPT_NUMBER = "27127-2026-000123"


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return Catalogue(
        str(PROJECT_ROOT / "procedures"),
        str(PROJECT_ROOT / "offices.yaml"),
        [str(BUILTIN)],
    )


def procedure(catalogue: Catalogue, name: str) -> Procedure:
    result = catalogue.load_file(PROJECT_ROOT / "procedures" / f"{name}.yaml")
    assert result.procedure is not None, result.diagnostics
    return result.procedure


@pytest.fixture(scope="module")
def juminhyo(shipped: Catalogue) -> Procedure:
    return procedure(shipped, "juminhyo-copy")


@pytest.fixture(scope="module")
def kita(shipped: Catalogue) -> Office:
    return shipped.offices()["kita"]


def juminhyo_answers() -> dict[str, Any]:
    return {
        "name": "大阪 太郎",
        "name_kana": "オオサカ タロウ",
        "birth_date": datetime.date(1985, 4, 1),
        "postal_code": "5300001",
        "address": "大阪市北区梅田1丁目",
        "phone": "+81668829986",
        "scope": "household",
        "entries": ["household_head"],
        "copies": 2,
        "purpose": "employment",
    }


def filed(proc: Procedure, answers: dict[str, Any], **columns: Any) -> Application:
    """An application as filing leaves it (answers as JSON), not added to any session."""
    values: dict[str, Any] = {
        "public_id": "a" * 32,
        "receipt_number": RECEIPT_NUMBER,
        "procedure_id": proc.id,
        "procedure_fingerprint": proc.fingerprint,
        "office_id": "kita",
        "state": proc.workflow.initial,
        "state_entered_at": FILED_AT,
        "answers": to_json(proc, answers),
        "applicant_email": "taro@example.jp",
        "applicant_name": "大阪 太郎",
        "filed_at": FILED_AT,
        "due_date": datetime.date(2026, 12, 2),
        "language": "ja",
    }
    values.update(columns)
    application = Application(**values)
    application.events = [
        ApplicationEvent(
            action="file",
            from_state=None,
            to_state=proc.workflow.initial,
            by_role="applicant",
            actor="taro@example.jp",
            fields={},
            at=FILED_AT,
        )
    ]
    return application


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def fonts_of(pdf: bytes) -> list[tuple[str, Any]]:
    """(base font name, font descriptor) of every font the pages use."""
    found = []
    for page in PdfReader(BytesIO(pdf)).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            # A composite (Type0) font keeps its descriptor on the descendant CID font.
            holder = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            found.append((str(font["/BaseFont"]), holder["/FontDescriptor"].get_object()))
    return found


# --- receipts ----------------------------------------------------------------------


def test_receipt_reads_back_with_number_and_japanese_title(
    juminhyo: Procedure, kita: Office
) -> None:
    pdf = receipt_pdf(filed(juminhyo, juminhyo_answers()), juminhyo, kita, lang="ja")
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    text = text_of(pdf)
    assert RECEIPT_NUMBER in text
    assert "住民票の写しの交付請求" in text
    assert "令和8年11月25日 10:30" in text, "filed at, in Japan time and the Japanese era"
    assert "北区役所" in text
    assert "600円" in text, "2 copies at 300 yen"


def test_receipt_fonts_are_embedded_ipaex(juminhyo: Procedure, kita: Office) -> None:
    pdf = receipt_pdf(filed(juminhyo, juminhyo_answers()), juminhyo, kita, lang="ja")
    fonts = fonts_of(pdf)
    assert fonts
    for name, descriptor in fonts:
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{name} is not embedded"
        # Subset fonts are named ABCDEF+Name; a full font would make every receipt megabytes.
        assert "+" in name, f"{name} is not a subset"
    assert any("IPAex" in name for name, _ in fonts)
    assert len(pdf) < 200_000


def test_english_receipt(juminhyo: Procedure, kita: Office) -> None:
    pdf = receipt_pdf(filed(juminhyo, juminhyo_answers()), juminhyo, kita, lang="en")
    text = text_of(pdf)
    assert "Receipt number" in text
    assert "Request for a copy of the residence certificate" in text
    assert "2026-11-25 10:30" in text
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    # Page numbers live in margin boxes, which do not inherit body's font: without
    # the base stylesheet they came out in whatever serif font the server had.
    assert all("IPAex" in name for name, _ in fonts_of(pdf))


def test_importing_the_package_does_not_import_weasyprint() -> None:
    code = "import sys, madoguchi.documents; sys.exit('weasyprint' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the sandbox and the fetcher -------------------------------------------------------


def write_template(folder: Path, body: str, name: str = "doc.html") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


MINIMAL = '<!DOCTYPE html><html lang="ja"><meta charset="utf-8"><body>{}</body></html>'


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "''.__class__.__mro__[1].__subclasses__()",
        "t.__globals__",
        "application.__class__.__init__.__globals__",
        "'{0.__class__}'.format(lang)",
        "lang|attr('__class__')",
    ],
)
def test_sandbox_refuses_reaching_python_internals(tmp_path: Path, expression: str) -> None:
    template = write_template(tmp_path, "line one\n{{ " + expression + " }}\n")
    with pytest.raises(DocumentError) as caught:
        render_html(template, {"t": str, "application": object(), "lang": "ja"}, base_dir=BUILTIN)
    assert str(template) in str(caught.value)
    assert caught.value.line == 2


def test_sandbox_refuses_changing_the_context(tmp_path: Path) -> None:
    template = write_template(tmp_path, "{% set _ = fields.update({'a': 1}) %}{{ fields }}")
    with pytest.raises(DocumentError, match="not allowed"):
        render_html(template, {"fields": {}}, base_dir=BUILTIN)


def test_include_cannot_leave_the_two_folders(tmp_path: Path) -> None:
    (tmp_path / "secret.html").write_text("SECRET", encoding="utf-8")
    template = write_template(tmp_path / "procedures", "{% include '../secret.html' %}")
    with pytest.raises(DocumentError, match="not found"):
        render_html(template, {}, base_dir=BUILTIN)
    beside = write_template(tmp_path / "procedures", "{% include 'receipt.html' %}", "inc.html")
    with pytest.raises(DocumentError, match="undefined"):
        # the built-in templates are reachable (and need their context)
        render_html(beside, {}, base_dir=BUILTIN)


def test_autoescape_is_on(tmp_path: Path) -> None:
    template = write_template(tmp_path, "{{ name }}")
    assert render_html(template, {"name": "<b>x</b>"}, base_dir=BUILTIN) == "&lt;b&gt;x&lt;/b&gt;"


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    template = write_template(tmp_path, "<p>\n<p>\n{% if lang %}never closed\n")
    with pytest.raises(DocumentError) as caught:
        render_pdf(template, {"lang": "ja"}, base_dir=BUILTIN)
    assert caught.value.template == str(template)
    assert caught.value.line is not None
    assert f"{template}:{caught.value.line}:" in str(caught.value)


def test_undefined_variable_names_the_file_and_line(tmp_path: Path) -> None:
    template = write_template(tmp_path, "<p>{{ lang }}</p>\n<p>{{ application.nmae }}</p>\n")
    with pytest.raises(DocumentError) as caught:
        render_pdf(template, {"lang": "ja", "application": {"name": "x"}}, base_dir=BUILTIN)
    assert caught.value.template == str(template)
    assert caught.value.line == 2
    assert "nmae" in str(caught.value)


def test_local_files_and_the_network_are_never_fetched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    leak = tmp_path / "leak.css"
    leak.write_text('body::after { content: "LEAKED-CSS" }', encoding="utf-8")
    connections: list[Any] = []

    def no_connect(self: socket.socket, address: Any) -> None:
        connections.append(address)
        raise OSError("the test forbids network access")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk"
        "YAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    body = (
        '<img src="file:///etc/passwd">'
        '<img src="http://example.com/x.png">'
        '<img src="https://example.com/y.png">'
        f'<link rel="stylesheet" href="{leak.as_uri()}">'
        f'<img src="{pixel}" alt="inline">'
        '<svg width="10" height="10"><image href="file:///etc/hostname" width="10" height="10"/>'
        "</svg>"
        "<p>本文</p>"
    )
    template = write_template(tmp_path / "t", MINIMAL.format(body))
    with caplog.at_level(logging.WARNING, logger="madoguchi.documents"):
        pdf = render_pdf(template, {}, base_dir=BUILTIN)
    refused = [r.getMessage() for r in caplog.records if r.name.startswith("madoguchi.documents")]
    assert any("file:///etc/passwd" in m for m in refused)
    assert any("http://example.com/x.png" in m for m in refused)
    assert any("https://example.com/y.png" in m for m in refused)
    assert any(leak.as_uri() in m for m in refused)
    assert any("file:///etc/hostname" in m for m in refused)
    assert not any("data:" in m for m in refused), "inline images are allowed"
    assert connections == []
    text = text_of(pdf)
    assert "本文" in text
    assert "LEAKED-CSS" not in text
    assert "root:" not in text


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "http://example.com/", "ftp://example.com/x", "FILE:/etc/hosts"]
)
def test_fetcher_refuses_anything_but_data(url: str) -> None:
    with pytest.raises(FetchRefused):
        safe_fetcher()(url)


def test_fetcher_reads_data_urls() -> None:
    response = safe_fetcher()("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"


# --- answers for people ---------------------------------------------------------------


@pytest.fixture(scope="module")
def child_allowance(shipped: Catalogue) -> Procedure:
    return procedure(shipped, "child-allowance")


def child_allowance_answers(proc: Procedure) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "my_number": "123456789018",
        "account_number": "1234567",
        "children": [
            {
                "child_name": "大阪 花子",
                "child_kana": "オオサカ ハナコ",
                "child_birth_date": datetime.date(2019, 5, 1),
                "child_relationship": "child",
                "child_living": "together",
            },
            {
                "child_name": "大阪 一郎",
                "child_kana": "オオサカ イチロウ",
                "child_birth_date": datetime.date(2006, 4, 2),
                "child_relationship": "grandchild",
                "child_living": "together",
                "child_supported": True,
            },
        ],
    }
    assert proc.field("my_number").type == "my_number"
    return answers


def rows_by_label(rows: list[Any]) -> dict[tuple[str, str], str]:
    return {(row.page, row.label): row.value for row in rows}


def test_display_rows_format_for_people(child_allowance: Procedure) -> None:
    answers = child_allowance_answers(child_allowance)
    rows = display_rows(child_allowance, answers, lang="ja", today=datetime.date(2026, 11, 25))
    values = rows_by_label(rows)
    claimant = child_allowance.page("children").title.get("ja")
    assert values[(f"{claimant} 1", "児童の生年月日")] == "令和元年5月1日"
    assert values[(f"{claimant} 2", "児童の生年月日")] == "平成18年4月2日"
    assert values[(f"{claimant} 2", "請求者との続柄")] == "孫"
    assert values[(f"{claimant} 2", "この方の生計費を負担しています")] == "はい"
    # shown only from 18 years of age: the younger child has no such row
    assert (f"{claimant} 1", "この方の生計費を負担しています") not in values
    my_number = next(row for row in rows if row.field_id == "my_number")
    assert my_number.value == "●●●●9018"
    account = next(row for row in rows if row.field_id == "account_number")
    assert account.value == "●●●●4567"
    item_rows = [row for row in rows if row.page_id == "children"]
    assert {row.item_index for row in item_rows} == {0, 1}


def test_display_rows_in_english_and_unmasked(child_allowance: Procedure) -> None:
    answers = child_allowance_answers(child_allowance)
    rows = display_rows(
        child_allowance,
        answers,
        lang="en",
        mask_sensitive=False,
        today=datetime.date(2026, 11, 25),
    )
    by_field = {(row.field_id, row.item_index): row.value for row in rows}
    assert by_field[("child_birth_date", 1)] == "2006-04-02"
    assert by_field[("child_supported", 1)] == "Yes"
    assert by_field[("child_relationship", 0)] == "Child"
    assert by_field[("my_number", None)] == "123456789018"
    assert rows[0].page == "Claimant"


def test_display_rows_leave_out_hidden_fields_and_name_files(shipped: Catalogue) -> None:
    road = procedure(shipped, "road-occupancy")
    answers = {
        "occupancy_type": "signboard",  # the traffic page is for scaffolding only
        "footway_kept": False,
        "drawings": [
            {"name": "平面図.pdf", "size": 1000, "sha256": "0" * 64, "mime": "application/pdf"},
            {"name": "断面図.pdf", "size": 2000, "sha256": "1" * 64, "mime": "application/pdf"},
        ],
    }
    rows = display_rows(road, answers, lang="ja", today=datetime.date(2026, 11, 25))
    assert not any(row.page_id == "traffic" for row in rows)
    drawings = next(row for row in rows if row.field_id == "drawings")
    assert drawings.value == "平面図.pdf、断面図.pdf"
    occupancy = next(row for row in rows if row.field_id == "occupancy_type")
    assert occupancy.value == "突出看板（10,800円）"


@pytest.mark.parametrize(
    ("day", "japanese"),
    [
        (datetime.date(2026, 11, 25), "令和8年11月25日"),
        (datetime.date(2019, 4, 30), "平成31年4月30日"),
        (datetime.date(1989, 1, 7), "昭和64年1月7日"),
        (datetime.date(1989, 1, 8), "平成元年1月8日"),
    ],
)
def test_dates_in_the_japanese_era(day: datetime.date, japanese: str) -> None:
    assert format_date(day, "ja") == japanese
    assert format_date(day, "en") == day.isoformat()


def test_context_has_what_the_templates_use(juminhyo: Procedure, kita: Office) -> None:
    context = document_context(filed(juminhyo, juminhyo_answers()), juminhyo, kita, lang="en")
    assert context["t"](juminhyo.title) == "Request for a copy of the residence certificate"
    application = context["application"]
    assert application.filed_at.utcoffset() == datetime.timedelta(hours=9)
    assert application.state_label == "Received"
    assert [(f.label, f.unit, f.quantity, f.amount) for f in application.fee_lines] == [
        ("Copy of the residence certificate", 300, 2, 600)
    ]
    assert application.fee_total == 600
    assert [h.label for h in application.history] == ["Filed"]
    assert context["office"].postal_code == "5300025"
    assert context["action"].fields == {}


# --- decisions -------------------------------------------------------------------------


def test_road_occupancy_permit_renders_with_the_action_fields(shipped: Catalogue) -> None:
    road = procedure(shipped, "road-occupancy")
    answers = {
        "corporate_number": "5120001158218",
        "company_name": "株式会社なにわ建設",
        "occupancy_type": "scaffold",
        "months": 6,
        "area_m2": 12,
        "start_date": datetime.date(2026, 12, 1),
        "end_date": datetime.date(2027, 5, 31),
        "footway_kept": True,
        "police_permit": "applied",
        "police_station": "曽根崎警察署",
    }
    application = filed(
        road, answers, state="payment", office_id="city-hall", applicant_name="株式会社なにわ建設"
    )
    approve = ApplicationEvent(
        action="approve",
        from_state="approval",
        to_state="payment",
        by_role="supervisor",
        actor="課長 大阪",
        comment="工事完了後に報告すること。",
        fields={"decision_no": "大建道第1234号", "permit_conditions": "夜間は照明を点灯すること。"},
        at=datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC),
    )
    office = Catalogue(
        str(PROJECT_ROOT / "procedures"), str(PROJECT_ROOT / "offices.yaml"), [str(BUILTIN)]
    ).offices()[road.office]
    assert template_for(road, "decision").name == "road-occupancy-decision.html"
    pdf = document_pdf(
        application,
        road,
        office,
        "decision",
        lang="ja",
        action=approve,
        issued_on=datetime.date(2026, 11, 30),
    )
    text = text_of(pdf)
    assert "大建道第1234号" in text
    assert "夜間は照明を点灯すること。" in text
    assert "工事完了後に報告すること。" in text
    assert "令和8年11月30日" in text
    assert "株式会社なにわ建設" in text
    # 4,560 yen a year per m², 6 months, 12 m²: 2,280 × 12
    assert "27,360円" in text
    assert "曽根崎警察署" in text, "the annex lists the answers"


def test_generic_decision_formats_the_action_fields(
    child_allowance: Procedure, kita: Office
) -> None:
    application = filed(
        child_allowance, child_allowance_answers(child_allowance), state="certified"
    )
    certify = ApplicationEvent(
        action="certify",
        from_state="approval",
        to_state="certified",
        by_role="supervisor",
        actor="supervisor@city.example.jp",
        comment=None,
        fields={"monthly_amount": 15000, "first_month": "2026-12", "extra_note": "x"},
        at=datetime.datetime(2026, 12, 1, 0, 0, tzinfo=datetime.UTC),
    )
    pdf = document_pdf(application, child_allowance, kita, "decision", lang="en", action=certify)
    text = text_of(pdf)
    assert "Notice of decision" in text
    assert "Monthly amount" in text
    assert "¥15,000" in text
    assert "2026-12" in text
    assert "Certify" in text, "the decision is the action's label"
    assert "2026-12-01" in text, "dated the day of the decision"
    assert "123456789018" not in text


def test_the_back_office_copy_shows_sensitive_answers_in_full(
    child_allowance: Procedure, kita: Office
) -> None:
    application = filed(child_allowance, child_allowance_answers(child_allowance))
    text = text_of(application_pdf(application, child_allowance, kita, lang="ja"))
    assert "123456789018" in text
    assert "養育している児童 2" in text
    assert "内部用" in text


def test_action_fields_are_typed_and_labelled(shipped: Catalogue) -> None:
    road = procedure(shipped, "road-occupancy")
    approve = ApplicationEvent(
        action="approve",
        actor="課長 大阪",
        comment=None,
        fields={"decision_no": "大建道第1号", "permit_conditions": "夜間照明"},
        at=datetime.datetime(2026, 11, 30, 15, 30, tzinfo=datetime.UTC),
    )
    info = action_info(road, approve, lang="ja")
    assert info.label == "許可する"
    assert info.labels["permit_conditions"] == "許可の条件"
    assert info.fields["decision_no"] == "大建道第1号"
    assert info.at is not None
    assert info.at.date() == datetime.date(2026, 12, 1), "past midnight in Osaka"


def test_a_preview_takes_the_action_as_given(juminhyo: Procedure, kita: Office) -> None:
    preview = ActionInfo(label="交付しない（下書き）", comment="確認中の理由", fields={})
    html = render_html(
        template_for(juminhyo, "rejection"),
        document_context(
            filed(juminhyo, juminhyo_answers()), juminhyo, kita, lang="ja", action=preview
        ),
        base_dir=BUILTIN,
    )
    assert "交付しない（下書き）" in html
    assert "確認中の理由" in html


def test_generic_rejection_uses_the_comment_as_reason(juminhyo: Procedure, kita: Office) -> None:
    application = filed(juminhyo, juminhyo_answers(), state="rejected")
    reject = ApplicationEvent(
        action="reject",
        from_state="received",
        to_state="rejected",
        by_role="clerk",
        actor="clerk@city.example.jp",
        comment="請求者ご本人の確認ができませんでした。",
        fields={},
        at=datetime.datetime(2026, 11, 26, 5, 0, tzinfo=datetime.UTC),
    )
    pdf = document_pdf(application, juminhyo, kita, "rejection", lang="ja", action=reject)
    text = text_of(pdf)
    assert "請求者ご本人の確認ができませんでした。" in text
    assert "交付しない" in text


# --- stored once -----------------------------------------------------------------------


def test_ensure_document_renders_once_and_stores_by_content(
    app: Flask, db_session: Session, published: None, tmp_path: Path, juminhyo: Procedure
) -> None:
    version = db_session.scalars(
        select(ProcedureVersion).where(ProcedureVersion.procedure_id == "juminhyo-copy")
    ).one()
    application = filed(juminhyo, juminhyo_answers(), procedure_version_id=version.id)
    db_session.add(application)
    db_session.flush()
    store = FileStore(tmp_path / "files")
    offices = Catalogue(Defaults.PROCEDURES_DIR, Defaults.OFFICES_FILE, []).offices()

    first = ensure_document(
        db_session, application, "receipt", procedure=juminhyo, office=offices["kita"], store=store
    )
    again = ensure_document(
        db_session, application, "receipt", procedure=juminhyo, office=offices["kita"], store=store
    )
    assert again.id == first.id
    assert again.sha256 == first.sha256
    assert first.sha256 is not None
    stored = store.get(first.sha256)
    assert hashlib.sha256(stored).hexdigest() == first.sha256
    assert first.size == len(stored)
    assert RECEIPT_NUMBER in text_of(stored)
    receipt_template = (BUILTIN / "receipt.html").read_bytes()
    assert first.template_sha256 == hashlib.sha256(receipt_template).hexdigest()
    assert first.title == "受付票"
    assert first.public is True
    rows = db_session.scalars(
        select(GeneratedDocument).where(GeneratedDocument.application_id == application.id)
    ).all()
    assert [row.kind for row in rows] == ["receipt"]

    internal = ensure_document(
        db_session,
        application,
        "application",
        procedure=juminhyo,
        office=offices["kita"],
        store=store,
    )
    assert internal.public is False, "the back office's copy is not for download"
    assert internal.id != first.id


def test_issuing_a_document_is_audited(app: Flask, client: FlaskClient, published: None) -> None:
    from filing_walker import Walk
    from helpers import audit_rows, log_in_resident

    log_in_resident(client, "audit-doc@example.jp")
    receipt_url = Walk(client, app, "child-allowance").file().headers["Location"]
    with client.get(receipt_url.replace("/receipt", "/receipt.pdf")) as pdf:
        assert pdf.status_code == 200
    issued = audit_rows(app, "document.issued")
    assert [row.data["kind"] for row in issued] == ["receipt"]
    assert issued[0].subject.startswith("application:")
