"""The normalisers of Japanese formats: what they accept, store and refuse."""

from __future__ import annotations

from datetime import date

import pytest

from forms import normalise
from forms.messages import Invalid

# --- My Number and corporate numbers ------------------------------------------


def test_my_number_accepts_spaces_and_hyphens() -> None:
    assert normalise.normalise_my_number("6214 9832 0257") == "621498320257"
    assert normalise.normalise_my_number("6214-9832-0257") == "621498320257"


def test_full_width_my_number_is_stored_as_ascii_digits() -> None:
    assert normalise.normalise_my_number("６２１４　９８３２　０２５７") == "621498320257"
    assert normalise.normalise_my_number("６２１４－９８３２－０２５７") == "621498320257"


def test_my_number_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_my_number("621498320258")
    assert caught.value.key == "my_number.checksum"


@pytest.mark.parametrize("raw", ["62149832025", "6214983202571", "6214983202X7", ""])
def test_my_number_of_the_wrong_length_or_with_letters_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_my_number(raw)
    assert caught.value.key == "my_number.format"


def test_corporate_number_accepts_full_width_and_hyphens() -> None:
    assert normalise.normalise_corporate_number("5-8356-7825-6246") == "5835678256246"
    assert normalise.normalise_corporate_number("５８３５６７８２５６２４６") == "5835678256246"


def test_corporate_number_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_corporate_number("2835678256246")
    assert caught.value.key == "corporate_number.checksum"


def test_corporate_number_needs_13_digits() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_corporate_number("621498320257")
    assert caught.value.key == "corporate_number.format"


# --- phone numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("06-1234-5678", "+81612345678"),
        ("0612345678", "+81612345678"),
        ("(06) 1234-5678", "+81612345678"),
        ("+81 6 1234 5678", "+81612345678"),
        ("+81-6-1234-5678", "+81612345678"),
        ("０６－１２３４－５６７８", "+81612345678"),
        ("06ー1234ー5678", "+81612345678"),
        ("090-1234-5678", "+819012345678"),
        ("０９０１２３４５６７８", "+819012345678"),
        ("0120-123-456", "+81120123456"),
    ],
)
def test_japanese_phone_numbers_are_stored_in_e164(raw: str, stored: str) -> None:
    assert normalise.normalise_phone(raw) == stored


@pytest.mark.parametrize(
    "raw", ["06-1234-567", "110", "abc", "0120-ABC-DEF", "06-1234-5678 ext 2", "++81612345678"]
)
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_phone(raw)
    assert caught.value.key == "phone.invalid"


def test_a_foreign_phone_number_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_phone("+1 650 253 0000")
    assert caught.value.key == "phone.foreign"


def test_a_stored_phone_number_is_shown_the_japanese_way() -> None:
    assert normalise.format_phone("+81612345678") == "06-1234-5678"
    assert normalise.format_phone("+819012345678") == "090-1234-5678"


# --- postal codes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "530-0001",
        "5300001",
        "〒530-0001",
        "〒 530-0001",
        "５３０－０００１",
        "〒５３０ー０００１",
        "530ｰ0001",
    ],
)
def test_postal_code_spellings_are_normalised(raw: str) -> None:
    found = normalise.lookup_postal_code(raw)
    assert found.code == "5300001"
    assert found.formatted == "530-0001"


def test_ward_code_of_kita_ku_is_27127() -> None:
    found = normalise.lookup_postal_code("〒530-0001")
    assert found.municipality_code == "27127"
    assert found.prefecture == "大阪府"
    assert found.city == "大阪市北区"
    assert found.address == "大阪府大阪市北区梅田"


def test_ward_code_of_chuo_ku_is_27128() -> None:
    assert normalise.lookup_postal_code("〒542-0081").municipality_code == "27128"


def test_a_business_postal_code_is_found_with_its_ward() -> None:
    # 事業所個別番号: a code of one company's office, in Kita-ku.
    assert normalise.lookup_postal_code("530-8578").municipality_code == "27127"


def test_unknown_postal_code_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.lookup_postal_code("000-0000")
    assert caught.value.key == "postal_code.unknown"


@pytest.mark.parametrize("raw", ["530-001", "53000011", "530-000A", ""])
def test_postal_code_that_is_not_7_digits_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.lookup_postal_code(raw)
    assert caught.value.key == "postal_code.format"


def test_postal_code_lookup_works_from_another_thread() -> None:
    import threading

    found: list[str] = []
    thread = threading.Thread(
        target=lambda: found.append(normalise.lookup_postal_code("5420081").municipality_code)
    )
    thread.start()
    thread.join()
    assert found == ["27128"]


# --- kana ---------------------------------------------------------------------------


def test_full_width_katakana_is_kept() -> None:
    assert normalise.normalise_kana("ヤマダ　タロウ") == "ヤマダ　タロウ"


def test_hiragana_is_stored_as_katakana() -> None:
    assert normalise.normalise_kana("やまだ　たろう") == "ヤマダ　タロウ"
    assert normalise.normalise_kana("ゔぁいおりん") == "ヴァイオリン"


def test_half_width_kana_with_voiced_marks_becomes_full_width() -> None:
    assert normalise.normalise_kana("ｶﾞｷﾞ") == "ガギ"
    assert normalise.normalise_kana("ﾊﾟﾋﾟﾌﾟ ﾍﾟﾎﾟ") == "パピプ　ペポ"


def test_long_vowel_mark_and_middle_dot_are_allowed() -> None:
    assert normalise.normalise_kana("すーぱー") == "スーパー"
    assert normalise.normalise_kana("ｽｰﾊﾟｰ") == "スーパー"
    assert normalise.normalise_kana("ジョン・スミス") == "ジョン・スミス"


def test_kana_spaces_are_collapsed_to_one_full_width_space() -> None:
    assert normalise.normalise_kana("  ヤマダ   タロウ ") == "ヤマダ　タロウ"
    assert normalise.normalise_kana("ヤマダ\u3000\u3000タロウ") == "ヤマダ　タロウ"


@pytest.mark.parametrize(
    "raw", ["山田", "Yamada", "ヤマダ1", "ヤマダ-タロウ", "ヤマダ〜", "", "   "]
)
def test_anything_but_kana_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_kana(raw)
    assert caught.value.key == "kana.invalid"


# --- email --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("taro@example.jp", "taro@example.jp"),
        (" taro.yamada+city@Mail.Example.CO.JP ", "taro.yamada+city@mail.example.co.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
    ],
)
def test_one_email_address_is_accepted(raw: str, stored: str) -> None:
    assert normalise.normalise_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "taro",
        "taro@",
        "@example.jp",
        "taro@example",
        "taro@@example.jp",
        "taro@example..jp",
        "taro.@example.jp",
        ".taro@example.jp",
        "taro@example.jp, hanako@example.jp",
        "taro yamada@example.jp",
        '"taro"@example.jp',
        "taro@-example.jp",
        "山田@example.jp",
        "a" * 65 + "@example.jp",
    ],
)
def test_anything_but_one_plain_address_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.normalise_email(raw)
    assert caught.value.key == "email.invalid"


# --- numbers ------------------------------------------------------------------------


def test_integers_accept_full_width_digits_grouping_and_signs() -> None:
    assert normalise.parse_integer("１２３") == 123
    assert normalise.parse_integer("1,000") == 1000
    assert normalise.parse_integer("１，０００") == 1000
    assert normalise.parse_integer("-5") == -5
    assert normalise.parse_integer("－５") == -5


@pytest.mark.parametrize("raw", ["1.5", "abc", "1e3", "", "1" * 40])
def test_non_integers_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.parse_integer(raw)
    assert caught.value.key == "integer.invalid"


def test_decimals_are_exact() -> None:
    from decimal import Decimal

    assert normalise.parse_decimal("0.1") == Decimal("0.1")
    assert normalise.parse_decimal("１２．５") == Decimal("12.5")
    assert normalise.parse_decimal(".5") == Decimal("0.5")
    with pytest.raises(Invalid):
        normalise.parse_decimal("1.2.3")
    with pytest.raises(Invalid):
        normalise.parse_decimal("NaN")


# --- dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-24", date(2026, 11, 24)),
        ("2026/11/24", date(2026, 11, 24)),
        ("2026.11.24", date(2026, 11, 24)),
        ("2026年11月24日", date(2026, 11, 24)),
        ("20261124", date(2026, 11, 24)),
        ("２０２６－１１－２４", date(2026, 11, 24)),
        ("２０２６年１１月２４日", date(2026, 11, 24)),
        ("令和8年11月24日", date(2026, 11, 24)),
        ("令和８年１１月２４日", date(2026, 11, 24)),
        ("令和 8年 11月 24日", date(2026, 11, 24)),
        ("㋿8年11月24日", date(2026, 11, 24)),
        ("R8.11.24", date(2026, 11, 24)),
        ("r8.11.24", date(2026, 11, 24)),
        ("R8/11/24", date(2026, 11, 24)),
        ("R8-11-24", date(2026, 11, 24)),
        ("Ｒ８．１１．２４", date(2026, 11, 24)),
        ("H31.4.30", date(2019, 4, 30)),
        ("h31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("S64.1.7", date(1989, 1, 7)),
        ("s50.3.1", date(1975, 3, 1)),
        ("大正15年12月24日", date(1926, 12, 24)),
    ],
)
def test_western_and_era_dates_are_read(raw: str, expected: date) -> None:
    assert normalise.parse_date(raw) == expected


def test_reiwa_gannen_is_year_one() -> None:
    assert normalise.parse_date("令和元年5月1日") == date(2019, 5, 1)


@pytest.mark.parametrize(
    "raw",
    [
        "昭和64年1月8日",  # 平成 had begun that day
        "昭和65年1月1日",
        "平成31年5月1日",  # 令和 had begun
        "平成32年1月1日",
        "H31.5.1",
    ],
)
def test_dates_after_the_end_of_their_era_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.parse_date(raw)
    assert caught.value.key == "date.era_range"


@pytest.mark.parametrize("raw", ["令和元年4月30日", "平成元年1月7日", "R1.4.1"])
def test_dates_before_the_start_of_their_era_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.parse_date(raw)
    assert caught.value.key == "date.era_before_start"


@pytest.mark.parametrize(
    "raw", ["2026-02-30", "2026-13-01", "令和0年1月1日", "X8.11.24", "24/11/2026", "tomorrow", ""]
)
def test_impossible_or_unreadable_dates_are_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise.parse_date(raw)
    assert caught.value.key == "date.invalid"


def test_era_range_message_names_the_era_and_its_days() -> None:
    with pytest.raises(Invalid) as caught:
        normalise.parse_date("昭和64年1月8日")
    assert caught.value.text("ja") == (
        "昭和にこの日付はありません。昭和は1926年12月25日から1989年1月7日までです。"
        "元号と年を確認してください。"
    )
    assert "7 January 1989" in caught.value.text("en")


def test_today_bound_needs_today_to_be_given() -> None:
    assert normalise.resolve_date_bound("today", date(2026, 1, 2)) == date(2026, 1, 2)
    assert normalise.resolve_date_bound(date(2020, 1, 1), None) == date(2020, 1, 1)
    with pytest.raises(TypeError):
        normalise.resolve_date_bound("today", None)


# --- files --------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heif"),
        ("申請書の補足です。\n以上。".encode(), "text/plain"),
        (b"\xef\xbb\xbfhello\r\n", "text/plain"),
    ],
)
def test_file_types_are_sniffed_from_their_content(data: bytes, mime: str) -> None:
    assert normalise.sniff_mime(data) == mime


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00",  # a Windows program
        b"PK\x03\x04",  # a zip (or docx)
        b"text with a NUL\x00 inside",
        b"\xff\xfe\x00\x00 not utf-8",
        b"\x00\x00\x00\x18ftypmp42",  # a video
        b"",
    ],
)
def test_unknown_contents_have_no_type(data: bytes) -> None:
    assert normalise.sniff_mime(data) is None


def test_accept_lists_match_exact_types_and_wildcards() -> None:
    assert normalise.mime_accepted("application/pdf", ["application/pdf"])
    assert normalise.mime_accepted("image/png", ["application/pdf", "image/*"])
    assert normalise.mime_accepted("image/png", ["*/*"])
    assert not normalise.mime_accepted("image/png", ["application/pdf"])
    assert not normalise.mime_accepted("text/plain", ["image/*"])
