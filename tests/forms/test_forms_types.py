"""Every field type: what it accepts and stores, what it refuses and says, how it renders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import wtforms

from forms.messages import Invalid
from forms.registry import REGISTRY, Upload
from forms.types.files import as_upload
from workflow.model import Field, LocalizedText

TODAY = date(2026, 11, 24)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"0" * 32

MakeField = Callable[..., Field]


def clean(field: Field, raw: Any) -> Any:
    return REGISTRY.for_field(field).clean(field, raw, today=TODAY)


def refusal(field: Field, raw: Any) -> Invalid:
    with pytest.raises(Invalid) as caught:
        clean(field, raw)
    return caught.value


def render(field: Field, language: str = "ja", **data: Any) -> Any:
    """The field bound in a one-field form, optionally filled with wtforms data."""
    unbound = REGISTRY.for_field(field).build_field(field, language)
    form_class = type("OneField", (wtforms.Form,), {field.id: unbound})
    form = form_class(data=data) if data else form_class()
    return form[field.id]


def problems(field: Field) -> list[tuple[str | None, str]]:
    return list(REGISTRY.for_field(field).check_definition(field))


# --- text and textarea ----------------------------------------------------------


def test_text_is_trimmed_and_kept_as_written(make_field: MakeField) -> None:
    field = make_field("text")
    assert clean(field, "  山田　太郎 ") == "山田　太郎"
    # Full-width letters are the applicant's choice: not folded.
    assert clean(field, "ＡＢＣマンション") == "ＡＢＣマンション"


def test_text_longer_than_max_length_is_refused_in_both_languages(make_field: MakeField) -> None:
    field = make_field("text", max_length=5)
    assert clean(field, "あいうえお") == "あいうえお"
    problem = refusal(field, "あいうえおか")
    assert problem.key == "text.too_long"
    assert problem.text("ja") == "5文字以内で入力してください（現在6文字です）。"
    assert problem.text("en") == "This is too long: use at most 5 characters (you used 6)."


def test_text_shorter_than_min_length_is_refused(make_field: MakeField) -> None:
    problem = refusal(make_field("text", min_length=3), "ab")
    assert problem.key == "text.too_short"
    assert "3文字以上" in problem.text("ja")


def test_text_must_match_its_pattern(make_field: MakeField) -> None:
    field = make_field("text", pattern=r"[A-Z]{2}[0-9]{4}")
    assert clean(field, "AB1234") == "AB1234"
    assert refusal(field, "AB12345").key == "text.pattern"


def test_single_line_text_refuses_line_breaks_and_control_characters(
    make_field: MakeField,
) -> None:
    field = make_field("text")
    assert refusal(field, "一行目\n二行目").key == "text.single_line"
    assert refusal(field, "bell\x07").key == "text.control"


def test_textarea_keeps_line_breaks_normalised(make_field: MakeField) -> None:
    field = make_field("textarea", max_length=20)
    assert clean(field, "一行目\r\n二行目\r三行目") == "一行目\n二行目\n三行目"
    assert refusal(field, "x" * 21).key == "text.too_long"


def test_textarea_renders_a_textarea(make_field: MakeField) -> None:
    html = render(make_field("textarea"))()
    assert html.startswith("<textarea")


def test_text_definition_problems(make_field: MakeField) -> None:
    assert problems(make_field("text", min_length=10, max_length=5)) == [
        ("min_length", "min_length (10) is greater than max_length (5)")
    ]
    assert problems(make_field("text", max_length=3, default="あいうえお"))[0][0] == "default"
    assert problems(make_field("text", default=3))[0][0] == "default"
    assert problems(make_field("text", max_length=5, default="あい")) == []


def test_text_renders_label_hint_and_required(make_field: MakeField) -> None:
    field = make_field(
        "text",
        label=LocalizedText((("ja", "氏名"), ("en", "Full name"))),
        hint=LocalizedText((("ja", "戸籍上の氏名"), ("en", "As registered"))),
        required=True,
        prefill="identity.name",
    )
    bound = render(field, "en")
    assert bound.label.text == "Full name"
    assert bound.description == "As registered"
    html = bound()
    assert 'type="text"' in html
    assert "required" in html
    assert 'autocomplete="name"' in html
    assert render(field, "ja").label.text == "氏名"


def test_a_conditional_field_has_no_html_required(make_field: MakeField) -> None:
    # The browser would demand it even while the field is hidden.
    field = make_field("text", required=True, show_if="x == 1")
    assert "required" not in render(field)()


# --- kana -------------------------------------------------------------------------


def test_kana_field_stores_katakana(make_field: MakeField) -> None:
    field = make_field("kana", max_length=10)
    assert clean(field, "やまだ たろう") == "ヤマダ　タロウ"
    assert clean(field, "ｶﾞｷﾞ") == "ガギ"


def test_kana_field_refuses_kanji_in_both_languages(make_field: MakeField) -> None:
    problem = refusal(make_field("kana"), "山田")
    assert problem.key == "kana.invalid"
    assert problem.text("ja").startswith("カタカナで入力してください")
    assert problem.text("en").startswith("Please write this in katakana")


def test_kana_length_counts_the_converted_text(make_field: MakeField) -> None:
    assert refusal(make_field("kana", max_length=3), "ｶﾞｷﾞｸﾞｹﾞ").key == "text.too_long"


# --- email, phone, postal code ---------------------------------------------------------


def test_email_field(make_field: MakeField) -> None:
    field = make_field("email")
    assert clean(field, "Taro@Example.JP") == "Taro@example.jp"
    problem = refusal(field, "taro@example")
    assert problem.key == "email.invalid"
    assert "name@example.jp" in problem.text("en")
    assert 'inputmode="email"' in render(field)()


def test_phone_field_stores_e164_and_shows_national(make_field: MakeField) -> None:
    field = make_field("phone")
    assert clean(field, "０６－１２３４－５６７８") == "+81612345678"
    assert REGISTRY["phone"].to_raw(field, "+81612345678") == "06-1234-5678"
    problem = refusal(field, "06-1234")
    assert problem.text("ja").startswith("電話番号が正しくありません。")
    assert problem.text("en").startswith("This is not a valid phone number.")
    assert 'type="tel"' in render(field)()


def test_postal_code_field_stores_seven_digits(make_field: MakeField) -> None:
    field = make_field("postal_code")
    assert clean(field, "〒５３０－０００１") == "5300001"
    assert REGISTRY["postal_code"].to_raw(field, "5300001") == "530-0001"
    assert REGISTRY["postal_code"].display(field, "5300001", "ja") == "〒530-0001"


def test_unknown_postal_code_message(make_field: MakeField) -> None:
    problem = refusal(make_field("postal_code"), "999-9999")
    assert problem.text("ja") == "郵便番号が見つかりません。7桁の郵便番号を確認してください。"
    assert problem.text("en") == "We cannot find this postal code. Check the 7 digits."


# --- identifier numbers --------------------------------------------------------------


def test_my_number_field(make_field: MakeField) -> None:
    field = make_field("my_number")
    assert clean(field, "６２１４ ９８３２ ０２５７") == "621498320257"
    problem = refusal(field, "621498320258")
    assert problem.key == "my_number.checksum"
    assert "12桁" in problem.text("ja")
    assert "My Number card" in problem.text("en")
    assert REGISTRY["my_number"].always_sensitive
    assert 'autocomplete="off"' in render(field)()


def test_my_number_cannot_have_a_default(make_field: MakeField) -> None:
    assert problems(make_field("my_number", default="621498320257")) == [
        ("default", "a my_number field cannot have a default")
    ]


def test_corporate_number_field(make_field: MakeField) -> None:
    field = make_field("corporate_number")
    assert clean(field, "5-8356-7825-6246") == "5835678256246"
    assert refusal(field, "2835678256246").key == "corporate_number.checksum"
    assert refusal(field, "12345").text("en") == (
        "A corporate number has 13 digits. Please enter all 13."
    )


# --- numbers ----------------------------------------------------------------------------


def test_integer_field(make_field: MakeField) -> None:
    field = make_field("integer", min=1, max=10)
    assert clean(field, "３") == 3
    small = refusal(field, "0")
    assert small.key == "number.too_small"
    assert small.text("ja") == "1以上の数値を入力してください。"
    large = refusal(field, "11")
    assert large.text("en") == "This is too large: enter 10 or less."
    assert refusal(field, "2.5").key == "integer.invalid"
    assert 'inputmode="numeric"' in render(field)()


def test_integer_definition_problems(make_field: MakeField) -> None:
    assert problems(make_field("integer", min=5, max=1)) == [
        ("min", "min (5) is greater than max (1)")
    ]
    assert problems(make_field("integer", min=1, max=5, default=9))[0][0] == "default"
    assert problems(make_field("integer", default="3"))[0][0] == "default"
    assert problems(make_field("integer", min=1, max=5, default=1)) == []


def test_integer_default_fills_the_form(make_field: MakeField) -> None:
    assert 'value="1"' in render(make_field("integer", default=1))()


def test_decimal_field(make_field: MakeField) -> None:
    field = make_field("decimal", min=Decimal("0.5"), max=100, places=1)
    assert clean(field, "１２．５") == Decimal("12.5")
    assert clean(field, "12.50") == Decimal("12.50")
    places = refusal(field, "12.25")
    assert places.key == "decimal.places"
    assert places.text("ja") == "小数点以下は1桁までで入力してください。"
    assert refusal(field, "0.4").text("en") == "This is too small: enter 0.5 or more."
    assert refusal(field, "abc").key == "decimal.invalid"


def test_decimal_is_written_to_json_as_text(make_field: MakeField) -> None:
    field = make_field("decimal")
    spec = REGISTRY["decimal"]
    assert spec.to_json(field, Decimal("0.1")) == "0.1"
    assert spec.from_json(field, "0.1") == Decimal("0.1")


# --- dates -------------------------------------------------------------------------------


def test_date_field_reads_era_dates(make_field: MakeField) -> None:
    field = make_field("date")
    assert clean(field, "令和8年11月24日") == date(2026, 11, 24)
    assert clean(field, "R8.11.24") == date(2026, 11, 24)
    assert REGISTRY["date"].to_raw(field, date(2026, 11, 24)) == "2026-11-24"


def test_date_field_min_today_uses_the_given_today(make_field: MakeField) -> None:
    field = make_field("date", min="today")
    assert clean(field, "2026-11-24") == TODAY
    problem = refusal(field, "2026-11-23")
    assert problem.key == "date.too_early"
    assert problem.text("ja") == "2026年11月24日以降の日付を入力してください。"
    assert problem.text("en") == "This date is too early: enter 24 November 2026 or later."
    spec = REGISTRY["date"]
    # Another day, another limit: nothing reads the clock.
    assert spec.clean(field, "2026-11-23", today=date(2026, 11, 1)) == date(2026, 11, 23)
    with pytest.raises(TypeError):
        spec.clean(field, "2026-11-23", today=None)


def test_date_field_max(make_field: MakeField) -> None:
    field = make_field("date", max=date(2000, 12, 31))
    assert clean(field, "平成12年12月31日") == date(2000, 12, 31)
    assert refusal(field, "平成13年1月1日").text("en") == (
        "This date is too late: enter 31 December 2000 or earlier."
    )


def test_date_field_refuses_showa_64_january_8(make_field: MakeField) -> None:
    problem = refusal(make_field("date"), "昭和64年1月8日")
    assert problem.key == "date.era_range"
    assert "昭和" in problem.text("en")


def test_date_input_is_a_text_box(make_field: MakeField) -> None:
    html = render(make_field("date"))()
    assert 'type="text"' in html
    assert 'data-field-type="date"' in html
    assert "令和8年11月24日" in html  # the placeholder shows that eras are welcome


def test_date_definition_problems(make_field: MakeField) -> None:
    assert problems(make_field("date", min=date(2027, 1, 1), max=date(2026, 1, 1)))[0][0] == "min"
    assert problems(make_field("date", min="today", max=date(2026, 1, 1))) == []
    assert problems(make_field("date", default="not a date"))[0][0] == "default"
    assert problems(make_field("date", max=date(2000, 1, 1), default=date(2001, 1, 1)))[0][0] == (
        "default"
    )


def test_date_json_round_trip(make_field: MakeField) -> None:
    field = make_field("date")
    assert REGISTRY["date"].to_json(field, TODAY) == "2026-11-24"
    assert REGISTRY["date"].from_json(field, "2026-11-24") == TODAY


# --- boolean -----------------------------------------------------------------------------


def test_boolean_field(make_field: MakeField) -> None:
    field = make_field("boolean")
    spec = REGISTRY["boolean"]
    assert spec.read_raw(field, {"f": "y"}) is True
    assert spec.read_raw(field, {}) is False
    assert spec.read_raw(field, {"f": "false"}) is False
    assert clean(field, True) is True
    assert spec.is_empty(False)
    assert spec.empty() is False
    assert spec.display(field, True, "ja") == "はい"
    assert spec.display(field, False, "en") == "No"
    assert 'type="checkbox"' in render(field)()


def test_boolean_default_must_be_true_or_false(make_field: MakeField) -> None:
    assert problems(make_field("boolean", default="yes"))[0][0] == "default"
    assert problems(make_field("boolean", default=True)) == []
    assert "checked" in render(make_field("boolean", default=True))()


# --- choice ------------------------------------------------------------------------------

CHOICES = [("phone", "電話"), ("email", "メール")]


def test_choice_field(make_field: MakeField) -> None:
    field = make_field("choice", choices=CHOICES)
    assert clean(field, "email") == "email"
    problem = refusal(field, "fax")
    assert problem.key == "choice.invalid"
    assert problem.text("en") == "This is not one of the options. Please choose from the list."
    assert REGISTRY["choice"].display(field, "email", "ja") == "メール"


def test_choice_renders_a_select_with_an_empty_first_option(make_field: MakeField) -> None:
    html = render(make_field("choice", choices=CHOICES), "en")()
    assert html.startswith("<select")
    assert '<option value="">Please choose</option>' in html
    assert '<option value="email">メール</option>' in html


def test_choice_with_style_radio_renders_radios(make_field: MakeField) -> None:
    field = make_field("choice", choices=CHOICES, style="radio", default="phone")
    html = render(field)()
    assert html.count('type="radio"') == 2
    assert "<option" not in html
    assert 'checked id="f-0"' in html


def test_choice_labels_follow_the_language(make_field: MakeField) -> None:
    from workflow.model import Choice

    choice = Choice("a", LocalizedText((("ja", "はい"), ("en", "Yes"))))
    field = make_field("choice", choices=[choice], style="radio")
    assert "Yes" in render(field, "en")()
    assert "はい" in render(field, "ja")()


def test_choice_definition_problems(make_field: MakeField) -> None:
    assert problems(make_field("choice", choices=[])) == [
        ("choices", "a choice field needs at least one choice")
    ]
    duplicated = make_field("choice", choices=[("a", "A"), ("a", "A again")])
    assert problems(duplicated) == [("choices", "the choice value 'a' is used twice")]
    assert problems(make_field("choice", choices=CHOICES, default="fax"))[0][0] == "default"
    assert problems(make_field("choice", choices=CHOICES, default="phone")) == []


# --- multi_choice --------------------------------------------------------------------------

SERVICES = [("nhi", "国民健康保険"), ("pension", "国民年金"), ("child", "児童手当")]


def test_multi_choice_field_keeps_the_definition_order(make_field: MakeField) -> None:
    field = make_field("multi_choice", choices=SERVICES)
    assert clean(field, ["child", "nhi", "nhi"]) == ["nhi", "child"]
    assert refusal(field, ["nhi", "tax"]).key == "choice.invalid"
    assert (
        REGISTRY["multi_choice"].display(field, ["nhi", "child"], "ja") == "国民健康保険、児童手当"
    )


def test_multi_choice_min_and_max(make_field: MakeField) -> None:
    field = make_field("multi_choice", choices=SERVICES, min=2, max=2)
    assert clean(field, ["nhi", "pension"]) == ["nhi", "pension"]
    few = refusal(field, ["nhi"])
    assert few.text("ja") == "2個以上選んでください。"
    many = refusal(field, ["nhi", "pension", "child"])
    assert many.text("en") == "You can choose at most 2. Please untick some."


def test_multi_choice_renders_checkboxes_without_html_required(make_field: MakeField) -> None:
    field = make_field("multi_choice", choices=SERVICES, required=True)
    bound = render(field, "ja", f=["pension"])
    html = bound()
    assert html.count('type="checkbox"') == 3
    # required on every box would demand that all be ticked.
    assert "required" not in html
    assert 'checked id="f-1"' in html


def test_multi_choice_reads_every_posted_value(make_field: MakeField) -> None:
    from werkzeug.datastructures import MultiDict

    field = make_field("multi_choice", choices=SERVICES)
    posted = MultiDict([("f", "nhi"), ("f", "child"), ("f", "")])
    assert REGISTRY["multi_choice"].read_raw(field, posted) == ["nhi", "child"]


def test_multi_choice_definition_problems(make_field: MakeField) -> None:
    assert ("min", "min (3) is greater than max (1)") in problems(
        make_field("multi_choice", choices=SERVICES, min=3, max=1)
    )
    assert problems(make_field("multi_choice", choices=SERVICES, min=4)) == [
        ("min", "min (4) is more than the number of choices (3)")
    ]
    assert (
        problems(make_field("multi_choice", choices=SERVICES, default=["tax"]))[0][0] == "default"
    )
    assert problems(make_field("multi_choice", choices=SERVICES, default=["nhi"])) == []


# --- file ----------------------------------------------------------------------------------


def test_file_field_stores_a_description_keyed_by_content(make_field: MakeField) -> None:
    field = make_field("file", accept=("application/pdf",))
    [stored] = clean(field, [Upload("申請書.pdf", PDF)])
    assert stored["name"] == "申請書.pdf"
    assert stored["size"] == len(PDF)
    assert stored["mime"] == "application/pdf"
    assert len(stored["sha256"]) == 64
    assert stored["key"] == stored["sha256"]


def test_a_png_renamed_pdf_is_refused_for_accept_pdf(make_field: MakeField) -> None:
    field = make_field("file", accept=("application/pdf",))
    problem = refusal(field, [Upload("scan.pdf", PNG)])
    assert problem.key == "file.type_not_accepted"
    assert problem.text("ja") == (
        "ファイル「scan.pdf」の種類は受け付けていません。次の種類のファイルを添付してください：PDF"
    )
    assert problem.text("en").endswith("Please attach one of these: PDF")


def test_image_wildcard_accepts_any_image(make_field: MakeField) -> None:
    field = make_field("file", accept=("image/*",))
    assert clean(field, [Upload("photo.dat", PNG)])[0]["mime"] == "image/png"
    problem = refusal(field, [Upload("form.pdf", PDF)])
    assert "画像" in problem.text("ja")
    assert "images" in problem.text("en")


def test_oversize_file_is_refused(make_field: MakeField) -> None:
    field = make_field("file", max_size_mb=1)
    big = Upload("big.pdf", b"%PDF-" + b"0" * (1024 * 1024))
    problem = refusal(field, [big])
    assert problem.key == "file.too_large"
    assert problem.text("ja") == (
        "ファイル「big.pdf」が大きすぎます。1MB以下のファイルを添付してください。"
    )
    assert clean(field, [Upload("ok.pdf", b"%PDF-" + b"0" * (1024 * 1024 - 5))])


def test_too_many_files_are_refused(make_field: MakeField) -> None:
    field = make_field("file", max_files=2)
    problem = refusal(field, [Upload(f"{i}.pdf", PDF) for i in range(3)])
    assert problem.key == "file.too_many"
    assert problem.text("en") == "You can attach at most 2 files. Please remove some."


def test_empty_file_is_refused(make_field: MakeField) -> None:
    assert refusal(make_field("file"), [Upload("empty.pdf", b"")]).key == "file.empty"


def test_file_names_lose_folders_and_control_characters(make_field: MakeField) -> None:
    [stored] = clean(make_field("file"), [Upload("C:\\fakepath\\scan\x00.pdf", PDF)])
    assert stored["name"] == "scan.pdf"


def test_file_uploads_are_read_from_framework_objects(make_field: MakeField) -> None:
    import io

    from werkzeug.datastructures import FileStorage, MultiDict

    field = make_field("file", max_files=2, max_size_mb=1)
    files = MultiDict(
        [
            ("f", FileStorage(io.BytesIO(PDF), filename="a.pdf", content_type="image/png")),
            ("f", FileStorage(io.BytesIO(b""), filename="")),  # "no file chosen"
        ]
    )
    raw = REGISTRY["file"].read_raw(field, None, files)
    assert raw == [Upload("a.pdf", PDF)]
    # The content type the browser claimed plays no part.
    assert clean(field, raw)[0]["mime"] == "application/pdf"


def test_reading_an_upload_stops_past_the_limit() -> None:
    import io

    upload = as_upload(io.BytesIO(b"x" * 100), limit=10)
    assert upload is not None
    assert upload.size == 11


def test_file_input_carries_accept_and_multiple(make_field: MakeField) -> None:
    html = render(make_field("file", accept=("image/jpeg", "image/png"), max_files=3))()
    assert 'type="file"' in html
    assert 'accept="image/jpeg,image/png"' in html
    assert "multiple" in html
    single = render(make_field("file", required=True))()
    assert "multiple" not in single
    # Stored files are kept when nothing new is chosen, so never force a re-upload.
    assert "required" not in single


def test_file_definition_problems(make_field: MakeField) -> None:
    assert problems(make_field("file", accept=("application/x-msdownload",)))[0][0] == "accept"
    assert problems(make_field("file", accept=("video/*",)))[0][0] == "accept"
    assert problems(make_field("file", accept=("image/*", "application/pdf"))) == []
    assert problems(make_field("file", max_size_mb=0)) == [
        ("max_size_mb", "max_size_mb must be more than 0")
    ]
    assert problems(make_field("file", max_files=0)) == [
        ("max_files", "max_files must be at least 1")
    ]
    assert problems(make_field("file", default="x.pdf")) == [
        ("default", "a file field cannot have a default")
    ]


# --- note ------------------------------------------------------------------------------------


def test_note_renders_its_text_escaped(make_field: MakeField) -> None:
    text = LocalizedText((("ja", "ご注意<b>ください</b>\n2行目"), ("en", "Please note")))
    field = make_field("note", label=None, text=text)
    assert render(field, "ja")() == (
        '<p class="note" id="f">ご注意&lt;b&gt;ください&lt;/b&gt;<br>2行目</p>'
    )
    assert "Please note" in render(field, "en")()


def test_note_takes_no_input(make_field: MakeField) -> None:
    spec = REGISTRY["note"]
    assert not spec.takes_input
    field = make_field("note", label=None, text=LocalizedText.plain("x"))
    assert spec.read_raw(field, {"f": "injected"}) is None
    assert problems(make_field("note", label=None)) == [("text", "a note needs a text")]
    assert problems(make_field("note", label=None, text=LocalizedText.plain("x"), required=True))


# --- every type --------------------------------------------------------------------------------


def test_required_messages_depend_on_the_kind_of_input() -> None:
    assert REGISTRY["text"].required_key == "required"
    assert REGISTRY["choice"].required_key == "required.choice"
    assert REGISTRY["multi_choice"].required_key == "required.choice"
    assert REGISTRY["boolean"].required_key == "required.boolean"
    assert REGISTRY["file"].required_key == "required.file"


def test_a_reserved_field_id_is_reported(make_field: MakeField) -> None:
    assert problems(make_field("text", field_id="data")) == [
        (None, "the field id 'data' is reserved by the form engine; choose another")
    ]
