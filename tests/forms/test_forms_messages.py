"""Every refusal has a Japanese and an English text, with its limits filled in."""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal

import pytest

from forms.messages import LABELS, MESSAGES, Invalid, format_param, label_text, message


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_japanese_and_english(key: str) -> None:
    texts = MESSAGES[key]
    assert texts["ja"].strip()
    assert texts["en"].strip()
    # The Japanese text is Japanese and the English text is not.
    assert re.search(r"[ぁ-んァ-ン一-龥]", texts["ja"])
    assert texts["en"][0].isupper() or texts["en"][0] == "{"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_use_the_same_parameters(key: str) -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert fields(MESSAGES[key]["ja"]) == fields(MESSAGES[key]["en"])


def test_postal_code_message_says_what_is_wrong_and_how_to_fix_it() -> None:
    assert message("postal_code.unknown", "ja") == (
        "郵便番号が見つかりません。7桁の郵便番号を確認してください。"
    )
    assert message("postal_code.unknown", "en") == (
        "We cannot find this postal code. Check the 7 digits."
    )


def test_limits_are_interpolated() -> None:
    assert message("text.too_long", "ja", max=40, length=52) == (
        "40文字以内で入力してください（現在52文字です）。"
    )
    assert (
        message("number.too_large", "en", max=10000) == "This is too large: enter 10,000 or less."
    )
    assert message("date.too_early", "ja", min=date(2026, 11, 24)) == (
        "2026年11月24日以降の日付を入力してください。"
    )
    assert message("date.too_early", "en", min=date(2026, 11, 24)) == (
        "This date is too early: enter 24 November 2026 or later."
    )


def test_unknown_language_falls_back_to_japanese() -> None:
    assert message("required", "fr") == message("required", "ja")
    assert label_text("choose", "fr") == LABELS["choose"]["ja"]


def test_parameters_are_written_per_language() -> None:
    assert format_param(Decimal("2.50"), "en") == "2.5"
    assert format_param(1234567, "ja") == "1,234,567"
    assert format_param(["PDF", "PNG"], "ja") == "PDF、PNG"
    assert format_param(["PDF", "PNG"], "en") == "PDF, PNG"


def test_invalid_carries_a_key_and_renders_in_any_language() -> None:
    problem = Invalid("multi_choice.too_many", max=3)
    assert problem.key == "multi_choice.too_many"
    assert problem.text("ja") == "選べるのは3個までです。選択を減らしてください。"
    assert problem.text("en") == "You can choose at most 3. Please untick some."


def test_an_unknown_message_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Invalid("no.such.key")
    with pytest.raises(KeyError):
        message("no.such.key")
