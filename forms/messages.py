"""What the public reads when an answer is refused, in Japanese and English.

Every refusal has a key; each text says what is wrong *and* how to put it
right, because the person reading it is filling in a form alone at home,
not talking to a clerk.  Limits are interpolated (``{max}``, ``{min}``...);
numbers get digit grouping and dates are written the way each language
writes them, so callers pass plain Python values.

A missing translation falls back to Japanese, the city's working language.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from workflow.model import LocalizedText

__all__ = ["LABELS", "MESSAGES", "Invalid", "format_param", "label_text", "message"]

DEFAULT_LANGUAGE = "ja"

# key -> {language: text}
MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "required": {
            "ja": "この項目は必須です。入力してください。",
            "en": "This field is required. Please fill it in.",
        },
        "required.choice": {
            "ja": "この項目は必須です。選択肢から選んでください。",
            "en": "This field is required. Please choose an option.",
        },
        "required.boolean": {
            "ja": "内容を確認のうえ、チェックを入れてください。",
            "en": "Please read this and tick the box to confirm.",
        },
        "required.file": {
            "ja": "ファイルが添付されていません。ファイルを選んで添付してください。",
            "en": "No file is attached. Please choose a file to attach.",
        },
        "text.too_long": {
            "ja": "{max}文字以内で入力してください（現在{length}文字です）。",
            "en": "This is too long: use at most {max} characters (you used {length}).",
        },
        "text.too_short": {
            "ja": "{min}文字以上で入力してください（現在{length}文字です）。",
            "en": "This is too short: use at least {min} characters (you used {length}).",
        },
        "text.pattern": {
            "ja": "入力の形式が正しくありません。例や説明に沿って入力し直してください。",
            "en": "This is not in the expected format. Please follow the hint and try again.",
        },
        "text.control": {
            "ja": "使用できない文字（制御文字）が含まれています。文字を入力し直してください。",
            "en": "This contains characters that cannot be used (control characters). "
            "Please retype it.",
        },
        "text.single_line": {
            "ja": "改行は入力できません。1行で入力してください。",
            "en": "Line breaks are not allowed here. Please write it on one line.",
        },
        "kana.invalid": {
            "ja": "カタカナで入力してください（ひらがなは自動でカタカナに変換されます）。"
            "漢字・英数字・記号は使えません。",
            "en": "Please write this in katakana (hiragana is converted automatically). "
            "Kanji, Latin letters, digits and symbols cannot be used.",
        },
        "email.invalid": {
            "ja": "メールアドレスの形式が正しくありません。"
            "「name@example.jp」のように1件だけ入力してください。",
            "en": "This is not a valid email address. Enter one address, such as name@example.jp.",
        },
        "phone.invalid": {
            "ja": "電話番号が正しくありません。市外局番から、"
            "「06-1234-5678」や「090-1234-5678」のように入力してください。",
            "en": "This is not a valid phone number. Enter it with the area code, "
            "such as 06-1234-5678 or 090-1234-5678.",
        },
        "phone.foreign": {
            "ja": "日本国内の電話番号を入力してください。",
            "en": "Please enter a Japanese phone number.",
        },
        "postal_code.format": {
            "ja": "郵便番号は7桁の数字で入力してください（例：530-0001）。",
            "en": "A postal code has 7 digits. Enter it like 530-0001.",
        },
        "postal_code.unknown": {
            "ja": "郵便番号が見つかりません。7桁の郵便番号を確認してください。",
            "en": "We cannot find this postal code. Check the 7 digits.",
        },
        "integer.invalid": {
            "ja": "整数（小数点のない数字）で入力してください。",
            "en": "Please enter a whole number (digits only, no decimal point).",
        },
        "decimal.invalid": {
            "ja": "数値で入力してください（例：12.5）。",
            "en": "Please enter a number, such as 12.5.",
        },
        "decimal.places": {
            "ja": "小数点以下は{places}桁までで入力してください。",
            "en": "Use at most {places} digits after the decimal point.",
        },
        "number.too_small": {
            "ja": "{min}以上の数値を入力してください。",
            "en": "This is too small: enter {min} or more.",
        },
        "number.too_large": {
            "ja": "{max}以下の数値を入力してください。",
            "en": "This is too large: enter {max} or less.",
        },
        "date.invalid": {
            "ja": "日付が正しくありません。「2026-11-24」や「令和8年11月24日」のように"
            "入力してください。",
            "en": "This is not a valid date. Enter it like 2026-11-24 or 令和8年11月24日.",
        },
        "date.era_range": {
            "ja": "{era}にこの日付はありません。{era}は{start}から{end}までです。"
            "元号と年を確認してください。",
            "en": "There is no such date in the {era} era, which runs from {start} to {end}. "
            "Check the era and the year.",
        },
        "date.era_before_start": {
            "ja": "{era}にこの日付はありません。{era}は{start}からです。"
            "元号と年を確認してください。",
            "en": "There is no such date in the {era} era, which began on {start}. "
            "Check the era and the year.",
        },
        "date.too_early": {
            "ja": "{min}以降の日付を入力してください。",
            "en": "This date is too early: enter {min} or later.",
        },
        "date.too_late": {
            "ja": "{max}以前の日付を入力してください。",
            "en": "This date is too late: enter {max} or earlier.",
        },
        "choice.invalid": {
            "ja": "選択肢にない値です。表示されている選択肢から選んでください。",
            "en": "This is not one of the options. Please choose from the list.",
        },
        "multi_choice.too_few": {
            "ja": "{min}個以上選んでください。",
            "en": "Please choose at least {min}.",
        },
        "multi_choice.too_many": {
            "ja": "選べるのは{max}個までです。選択を減らしてください。",
            "en": "You can choose at most {max}. Please untick some.",
        },
        "my_number.format": {
            "ja": "個人番号（マイナンバー）は12桁の数字で入力してください。",
            "en": "An individual number (My Number) has 12 digits. Please enter all 12.",
        },
        "my_number.checksum": {
            "ja": "個人番号（マイナンバー）が正しくありません。"
            "マイナンバーカードの12桁を確認してください。",
            "en": "This individual number (My Number) is not valid. "
            "Check the 12 digits on your My Number card.",
        },
        "corporate_number.format": {
            "ja": "法人番号は13桁の数字で入力してください。",
            "en": "A corporate number has 13 digits. Please enter all 13.",
        },
        "corporate_number.checksum": {
            "ja": "法人番号が正しくありません。13桁の番号を確認してください"
            "（国税庁法人番号公表サイトで確認できます）。",
            "en": "This corporate number is not valid. Check the 13 digits "
            "(the National Tax Agency's corporate number site lists them).",
        },
        "file.empty": {
            "ja": "ファイル「{name}」は空です。内容のあるファイルを添付してください。",
            "en": "The file “{name}” is empty. Please attach a file with content.",
        },
        "file.too_large": {
            "ja": "ファイル「{name}」が大きすぎます。{max}MB以下のファイルを添付してください。",
            "en": "The file “{name}” is too large. Please attach a file of {max} MB or less.",
        },
        "file.too_many": {
            "ja": "添付できるファイルは{max}個までです。ファイルを減らしてください。",
            "en": "You can attach at most {max} files. Please remove some.",
        },
        "file.type_not_accepted": {
            "ja": "ファイル「{name}」の種類は受け付けていません。"
            "次の種類のファイルを添付してください：{accepted}",
            "en": "The type of the file “{name}” is not accepted. "
            "Please attach one of these: {accepted}",
        },
        "repeat.too_few": {
            "ja": "少なくとも{min}件入力してください。",
            "en": "Please add at least {min}.",
        },
        "repeat.too_many": {
            "ja": "入力できるのは{max}件までです。",
            "en": "You can add at most {max}.",
        },
    }
)

# Words of the forms themselves (placeholders, yes/no), not refusals.
LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "choose": {"ja": "選択してください", "en": "Please choose"},
        "yes": {"ja": "はい", "en": "Yes"},
        "no": {"ja": "いいえ", "en": "No"},
        "date_placeholder": {
            "ja": "例：2026-11-24 または 令和8年11月24日",
            "en": "e.g. 2026-11-24",
        },
        "images": {"ja": "画像", "en": "images"},
        "text_files": {"ja": "テキスト", "en": "text files"},
        "any_file": {"ja": "すべてのファイル", "en": "any file"},
    }
)

_LIST_SEPARATOR = {"ja": "、", "en": ", "}


def format_param(value: Any, language: str) -> str:
    """One interpolated value, written the way `language` writes it."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    if isinstance(value, datetime.date):
        if language == "ja":
            return f"{value.year}年{value.month}月{value.day}日"
        return f"{value.day} {value:%B} {value.year}"
    if isinstance(value, LocalizedText):
        return value.get(language)
    if isinstance(value, list | tuple):
        separator = _LIST_SEPARATOR.get(language, ", ")
        return separator.join(format_param(item, language) for item in value)
    return str(value)


def message(key: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text of message `key` in `language` (Japanese when not translated).

    An unknown key is a programming error and raises `KeyError`.
    """
    texts = MESSAGES[key]
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    used = language if language in texts else DEFAULT_LANGUAGE
    return template.format(**{name: format_param(v, used) for name, v in params.items()})


def label_text(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A word of the forms themselves (see `LABELS`) in `language`."""
    texts = LABELS[key]
    return texts.get(language) or texts[DEFAULT_LANGUAGE]


class Invalid(ValueError):  # noqa: N818 -- reads as `raise Invalid(...)`, like a verdict
    """An answer refused by a field type or a normaliser.

    Carries a message key and its parameters rather than a text, so that the
    same refusal can be shown in the applicant's language.
    """

    def __init__(self, key: str, **params: Any) -> None:
        if key not in MESSAGES:
            raise KeyError(f"unknown message key {key!r}")
        super().__init__(key)
        self.key = key
        self.params = params

    def text(self, language: str = DEFAULT_LANGUAGE) -> str:
        return message(self.key, language, **self.params)

    def __repr__(self) -> str:
        return f"Invalid({self.key!r}, **{self.params!r})"
