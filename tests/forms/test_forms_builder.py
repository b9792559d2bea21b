"""Page forms and the server-side check of a posted page."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from forms.answers import visible_pages, with_page_values
from forms.builder import (
    PageForm,
    bind_page_form,
    check_answers,
    fields_to_render,
    page_form_class,
    repeat_errors,
    transition_page,
    validate_page,
)
from forms.registry import REGISTRY, Upload
from workflow.loader import load_procedure_text
from workflow.model import Procedure

TODAY = date(2026, 11, 24)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

PAGES = """
pages:
  - id: request
    title: {ja: 請求内容, en: Request}
    fields:
      - {id: copies, type: integer, label: {ja: 部数, en: Copies}, required: true, min: 1, max: 10}
      - id: purpose
        type: choice
        style: radio
        label: {ja: 使いみち, en: Purpose}
        required: true
        choices:
          - {value: pension, label: {ja: 年金, en: Pension}}
          - {value: procedure, label: {ja: 手続, en: Procedure}}
          - {value: other, label: {ja: その他, en: Other}}
      - id: purpose_detail
        type: text
        label: {ja: 具体的な使いみち, en: Details}
        show_if: "purpose == 'other'"
        required: true
        max_length: 20
      - id: contact
        type: choice
        label: {ja: 連絡方法, en: Contact}
        choices:
          - {value: phone, label: 電話}
          - {value: email, label: メール}
      - id: email
        type: email
        label: {ja: メール, en: Email}
        required_if: "contact == 'email'"
      - id: detail_note
        type: note
        show_if: "purpose == 'other'"
        text: {ja: 詳しく書いてください, en: Please give details}
  - id: second
    title: 2部目以降
    show_if: "copies > 1"
    fields:
      - {id: reason, type: text, label: 理由, required: true}
      - {id: big_note, type: note, show_if: "copies > 5", text: 多いです}
  - id: items
    title: 品目
    repeat: {min: 1, max: 3}
    fields:
      - id: kind
        type: choice
        label: 品目
        required: true
        choices:
          - {value: fan, label: 扇風機, amount: 200}
          - {value: sofa, label: ソファー, amount: 1000}
      - {id: count, type: integer, label: 個数, required: true, default: 1, min: 1}
      - {id: sofa_seats, type: integer, label: 座席数, show_if: "kind == 'sofa'", required: true}
      - {id: photo, type: file, label: 写真, accept: ["image/*"], max_files: 2}
  - id: confirm
    title: 確認
    fields:
      - {id: pickup, type: date, label: 希望日, required: true, min: today}
      - {id: consent, type: boolean, label: 同意します, required: true}
"""


@pytest.fixture
def procedure(load_procedure: Callable[[str], Procedure]) -> Procedure:
    return load_procedure(PAGES)


def post(**values: str | list[str]) -> MultiDict[str, str]:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return MultiDict(pairs)


# --- form classes -------------------------------------------------------------------


def test_form_class_is_built_once_per_page_and_language(procedure: Procedure) -> None:
    first = page_form_class(procedure, procedure.page("request"), "ja")
    assert page_form_class(procedure, procedure.page("request"), "ja") is first
    assert page_form_class(procedure, "request", "ja") is first
    assert page_form_class(procedure, "request", "en") is not first
    assert page_form_class(procedure, "items", "ja") is not first
    assert issubclass(first, PageForm)


def test_form_fields_follow_the_page_in_order(procedure: Procedure) -> None:
    form = page_form_class(procedure, "request", "en")()
    assert [f.name for f in form] == [
        "copies",
        "purpose",
        "purpose_detail",
        "contact",
        "email",
        "detail_note",
    ]
    assert form["copies"].label.text == "Copies"


def test_bind_page_form_shows_stored_values(procedure: Procedure) -> None:
    values = {"copies": 3, "purpose": "other", "purpose_detail": "銀行", "email": None}
    form = bind_page_form(procedure, "request", "ja", values=values)
    assert 'value="3"' in form["copies"]()
    assert "checked" in form["purpose"]()
    assert 'value="銀行"' in form["purpose_detail"]()


def test_bind_page_form_without_values_shows_defaults(procedure: Procedure) -> None:
    form = bind_page_form(procedure, "items", "ja")
    assert 'value="1"' in form["count"]()


# --- validating a page ------------------------------------------------------------------


def test_a_valid_page_gives_cleaned_values(procedure: Procedure) -> None:
    result = validate_page(
        procedure,
        "request",
        post(copies="２", purpose="procedure", contact="email", email="taro@example.jp"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert result.ok
    assert result.values == {
        "copies": 2,
        "purpose": "procedure",
        "contact": "email",
        "email": "taro@example.jp",
    }


def test_show_if_on_the_same_page_is_evaluated_on_the_posted_values(
    procedure: Procedure,
) -> None:
    # Without JavaScript the detail box is always on screen; the server decides.
    shown = validate_page(
        procedure,
        "request",
        post(copies="1", purpose="other"),
        answers={},
        language="en",
        today=TODAY,
    )
    assert shown.errors == {"purpose_detail": "This field is required. Please fill it in."}
    hidden = validate_page(
        procedure,
        "request",
        post(copies="1", purpose="pension", purpose_detail="typed before changing my mind"),
        answers={},
        language="en",
        today=TODAY,
    )
    assert hidden.ok
    assert "purpose_detail" not in hidden.values


def test_hidden_fields_are_dropped_even_when_invalid(procedure: Procedure) -> None:
    result = validate_page(
        procedure,
        "request",
        post(copies="1", purpose="pension", purpose_detail="x" * 50),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert result.ok
    assert "purpose_detail" not in result.values


def test_required_if(procedure: Procedure) -> None:
    by_email = validate_page(
        procedure,
        "request",
        post(copies="1", purpose="pension", contact="email"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert by_email.errors == {"email": "この項目は必須です。入力してください。"}
    by_phone = validate_page(
        procedure,
        "request",
        post(copies="1", purpose="pension", contact="phone"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert by_phone.ok
    assert by_phone.values["email"] is None


def test_errors_come_in_page_order_and_raw_keeps_what_was_typed(procedure: Procedure) -> None:
    result = validate_page(
        procedure,
        "request",
        post(copies="百", purpose="other", email="taro@", contact="email"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert list(result.errors) == ["copies", "purpose_detail", "email"]
    assert result.errors["copies"] == "整数（小数点のない数字）で入力してください。"
    assert result.raw["copies"] == "百"
    assert result.raw["email"] == "taro@"
    form = bind_page_form(procedure, "request", "ja", raw=result.raw, errors=result.errors)
    assert 'value="百"' in form["copies"]()
    assert form["copies"].errors == [result.errors["copies"]]
    assert form["email"].errors == [result.errors["email"]]


def test_an_unchecked_required_box_is_refused(procedure: Procedure) -> None:
    result = validate_page(
        procedure, "confirm", post(pickup="令和8年12月1日"), answers={}, language="ja", today=TODAY
    )
    assert result.errors == {"consent": "内容を確認のうえ、チェックを入れてください。"}
    assert result.values == {"pickup": date(2026, 12, 1)}
    ticked = validate_page(
        procedure,
        "confirm",
        post(pickup="R8.12.1", consent="y"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert ticked.values == {"pickup": date(2026, 12, 1), "consent": True}


def test_min_today_is_the_day_given(procedure: Procedure) -> None:
    result = validate_page(
        procedure,
        "confirm",
        post(pickup="2026-11-23", consent="y"),
        answers={},
        language="en",
        today=TODAY,
    )
    assert result.errors == {"pickup": "This date is too early: enter 24 November 2026 or later."}


def test_page_show_if_depends_on_earlier_answers(procedure: Procedure) -> None:
    one = {"copies": 1, "purpose": "pension"}
    assert [p.id for p in visible_pages(procedure, one, TODAY)] == ["request", "items", "confirm"]
    three = {"copies": 3, "purpose": "pension"}
    assert "second" in [p.id for p in visible_pages(procedure, three, TODAY)]
    # A hidden page asks nothing, so nothing is required or kept.
    result = validate_page(
        procedure, "second", post(reason="x"), answers=one, language="ja", today=TODAY
    )
    assert result.ok
    assert result.values == {}


def test_fields_to_render(procedure: Procedure) -> None:
    rendered = fields_to_render(procedure, "request", {}, today=TODAY)
    # Same-page conditions: always rendered, decided on the server.
    assert [f.id for f in rendered][-1] == "detail_note"
    assert "purpose_detail" in [f.id for f in rendered]
    few = fields_to_render(procedure, "second", {"copies": 2}, today=TODAY)
    assert [f.id for f in few] == ["reason"]
    many = fields_to_render(procedure, "second", {"copies": 6}, today=TODAY)
    assert [f.id for f in many] == ["reason", "big_note"]


# --- repeating pages --------------------------------------------------------------------


def test_repeating_page_items_are_validated_one_by_one(procedure: Procedure) -> None:
    first = validate_page(
        procedure,
        "items",
        post(kind="fan", count="2"),
        answers={},
        language="ja",
        today=TODAY,
        item_index=0,
    )
    assert first.values == {"kind": "fan", "count": 2, "photo": []}
    answers = with_page_values(procedure, procedure.page("items"), {}, first.values, item_index=0)
    second = validate_page(
        procedure,
        "items",
        post(kind="sofa", count="1"),
        answers=answers,
        language="en",
        today=TODAY,
        item_index=1,
    )
    # The show_if of an item field sees that item's kind.
    assert second.errors == {"sofa_seats": "This field is required. Please fill it in."}
    edited = validate_page(
        procedure,
        "items",
        post(kind="fan", count="1", sofa_seats="3"),
        answers=answers,
        language="en",
        today=TODAY,
        item_index=0,
    )
    assert edited.ok
    assert "sofa_seats" not in edited.values


def test_repeating_page_needs_an_item_index(procedure: Procedure) -> None:
    with pytest.raises(ValueError, match="repeats"):
        validate_page(procedure, "items", post(), answers={}, language="ja", today=TODAY)
    with pytest.raises(ValueError, match="does not repeat"):
        validate_page(
            procedure, "request", post(), answers={}, language="ja", today=TODAY, item_index=0
        )


def test_repeat_min_and_max(procedure: Procedure) -> None:
    assert repeat_errors(procedure, "items", {}, language="ja", today=TODAY) == [
        "少なくとも1件入力してください。"
    ]
    three = {"items": [{"kind": "fan", "count": 1}] * 3}
    assert repeat_errors(procedure, "items", three, language="ja", today=TODAY) == []
    four = {"items": [{"kind": "fan", "count": 1}] * 4}
    assert repeat_errors(procedure, "items", four, language="en", today=TODAY) == [
        "You can add at most 3."
    ]
    beyond = validate_page(
        procedure,
        "items",
        post(kind="fan", count="1"),
        answers=three,
        language="en",
        today=TODAY,
        item_index=3,
    )
    assert beyond.page_errors == ["You can add at most 3."]
    assert not beyond.ok


# --- files ------------------------------------------------------------------------------


def test_uploads_are_returned_for_storage(procedure: Procedure) -> None:
    files = MultiDict([("photo", FileStorage(io.BytesIO(PNG), filename="sofa.png"))])
    result = validate_page(
        procedure,
        "items",
        post(kind="fan", count="1"),
        files=files,
        answers={},
        language="ja",
        today=TODAY,
        item_index=0,
    )
    assert result.ok
    [stored] = result.values["photo"]
    assert stored["mime"] == "image/png"
    assert result.uploads == {stored["key"]: PNG}


def test_stored_files_are_kept_when_nothing_new_is_chosen(procedure: Procedure) -> None:
    kept = [{"name": "a.png", "size": 40, "sha256": "0" * 64, "mime": "image/png", "key": "0" * 64}]
    answers = {"items": [{"kind": "fan", "count": 1, "photo": kept}]}
    result = validate_page(
        procedure,
        "items",
        post(kind="fan", count="2"),
        files=MultiDict(),
        answers=answers,
        language="ja",
        today=TODAY,
        item_index=0,
    )
    assert result.values["photo"] == kept
    assert result.uploads == {}
    replaced = validate_page(
        procedure,
        "items",
        post(kind="fan", count="2"),
        files={"photo": [Upload("b.jpg", JPEG)]},
        answers=answers,
        language="ja",
        today=TODAY,
        item_index=0,
    )
    assert [f["name"] for f in replaced.values["photo"]] == ["b.jpg"]


def test_a_refused_upload_is_an_error_of_its_field(procedure: Procedure) -> None:
    result = validate_page(
        procedure,
        "items",
        post(kind="fan", count="1"),
        files={"photo": [Upload("photo.png", b"%PDF-1.7 not an image")]},
        answers={},
        language="en",
        today=TODAY,
        item_index=0,
    )
    assert result.errors["photo"].startswith("The type of the file “photo.png” is not accepted.")
    assert result.uploads == {}


# --- the whole application ------------------------------------------------------------------


def test_check_answers_finds_what_is_missing_or_has_become_invalid(procedure: Procedure) -> None:
    answers = {
        "copies": 2,
        "purpose": "pension",
        "items": [{"kind": "sofa", "count": 1}],
        "pickup": date(2026, 11, 25),
        "consent": True,
    }
    problems = check_answers(procedure, answers, language="en", today=date(2026, 11, 26))
    assert [(p.page_id, p.item_index, p.field_id) for p in problems] == [
        ("second", None, "reason"),
        ("items", 0, "sofa_seats"),
        ("confirm", None, "pickup"),  # min: today has moved past it
    ]


def test_check_answers_reports_repeat_counts(procedure: Procedure) -> None:
    answers = {"copies": 1, "purpose": "pension", "pickup": TODAY, "consent": True}
    problems = check_answers(procedure, answers, language="ja", today=TODAY)
    assert [(p.page_id, p.field_id, p.message) for p in problems] == [
        ("items", None, "少なくとも1件入力してください。")
    ]


# --- workflow actions ----------------------------------------------------------------------


def test_the_fields_of_a_workflow_action_are_checked_like_a_page() -> None:
    text = textwrap.dedent(
        """
        procedure: t
        version: 1
        title: t
        office: city-hall
        standard_processing_days: 5
        retention_years: 1
        pages:
          - {id: p, title: p, fields: [{id: a, type: text, label: a}]}
        workflow:
          roles: [clerk]
          initial: received
          states:
            received: {label: 受付, queue: clerk}
            done: {label: 完了, final: true, outcome: approved}
          transitions:
            - action: schedule
              from: received
              to: done
              by: clerk
              fields:
                - {id: collection_date, type: date, label: 収集日, required: true, min: today}
        """
    )
    loaded = load_procedure_text(text, "t.yaml", field_types=REGISTRY)
    assert loaded.procedure is not None, loaded.diagnostics
    procedure = loaded.procedure
    [transition] = procedure.transition("schedule")
    page = transition_page(transition)
    form = bind_page_form(procedure, page, "ja")
    assert [f.name for f in form] == ["collection_date"]
    result = validate_page(
        procedure,
        page,
        post(collection_date="令和8年12月1日"),
        answers={},
        language="ja",
        today=TODAY,
    )
    assert result.values == {"collection_date": date(2026, 12, 1)}
    late = validate_page(
        procedure, page, post(collection_date="2026-11-01"), answers={}, language="ja", today=TODAY
    )
    assert late.errors == {"collection_date": "2026年11月24日以降の日付を入力してください。"}
