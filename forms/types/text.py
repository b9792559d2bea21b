"""Field types whose value is one string: free text and the checked formats."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import wtforms

from forms import normalise
from forms.messages import Invalid
from forms.types.base import FieldType, register
from workflow.expressions import ValueType
from workflow.model import Field, OptionSpec

__all__ = [
    "CorporateNumberType",
    "EmailType",
    "KanaType",
    "MyNumberType",
    "PhoneType",
    "PostalCodeType",
    "TextType",
    "TextareaType",
    "clean_free_text",
]

_LENGTH_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "max_length": OptionSpec("count", "the most characters accepted"),
        "min_length": OptionSpec("count", "the fewest characters accepted"),
    }
)
_TEXT_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        **_LENGTH_OPTIONS,
        "pattern": OptionSpec("regex", "a regular expression the whole answer must match"),
    }
)

# Autocomplete tokens let browsers and password managers fill identity data.
_AUTOCOMPLETE = {
    "identity.name": "name",
    "identity.address": "street-address",
    "identity.birth_date": "bday",
    "identity.postal_code": "postal-code",
}


def clean_free_text(raw: str, *, multiline: bool) -> str:
    """Typed text, composed (NFC) and trimmed; control characters refused.

    NFC rather than NFKC: full-width letters in a name or an address are the
    applicant's choice and must be kept as written.
    """
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not multiline and "\n" in text:
        raise Invalid("text.single_line")
    if any(unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t" for char in text):
        raise Invalid("text.control")
    return text


def _check_lengths(field: Field) -> Iterator[tuple[str | None, str]]:
    low, high = field.option("min_length"), field.option("max_length")
    if high is not None and high < 1:
        yield "max_length", "max_length must be at least 1"
    if low is not None and high is not None and low > high:
        yield "min_length", f"min_length ({low}) is greater than max_length ({high})"


def _enforce_lengths(field: Field, text: str) -> str:
    low, high = field.option("min_length"), field.option("max_length")
    if high is not None and len(text) > high:
        raise Invalid("text.too_long", max=high, length=len(text))
    if low is not None and len(text) < low:
        raise Invalid("text.too_short", min=low, length=len(text))
    return text


class _StringType(FieldType):
    """Common ground of the one-string types: a text input, the value as typed back."""

    value_type: ValueType = ValueType.STRING
    #: HTML attributes that help people type this kind of value
    input_attributes: Mapping[str, str] = MappingProxyType({})

    def render_kw(self, field: Field) -> dict[str, Any]:
        attributes = dict(self.input_attributes)
        if field.prefill in _AUTOCOMPLETE:
            attributes["autocomplete"] = _AUTOCOMPLETE[field.prefill]
        return attributes

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.StringField(
            render_kw=self.render_kw(field), **self.field_kwargs(field, language)
        )

    def to_raw(self, field: Field, value: Any) -> Any:
        return None if value is None else str(value)


@register
class TextType(_StringType):
    """One line of free text."""

    name: str = "text"
    options: Mapping[str, OptionSpec] = _TEXT_OPTIONS
    #: whether line breaks are kept
    multiline: bool = False

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_lengths(field)

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if not isinstance(field.default, str):
            yield "default", f"the default of a {self.name} field must be text"
            return
        yield from super().check_default(field)

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        text = _enforce_lengths(field, clean_free_text(str(raw), multiline=self.multiline))
        pattern = field.option("pattern")
        if pattern is not None and not re.fullmatch(pattern, text):
            raise Invalid("text.pattern")
        return text


@register
class TextareaType(TextType):
    """Several lines of free text."""

    name: str = "textarea"
    multiline: bool = True

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.TextAreaField(render_kw={"rows": 5}, **self.field_kwargs(field, language))


@register
class KanaType(_StringType):
    """Full-width katakana; hiragana and half-width kana are converted to it.

    `max_length`/`min_length` are accepted as for text: names in kana have
    limits on the city's own systems.
    """

    name: str = "kana"
    options: Mapping[str, OptionSpec] = _LENGTH_OPTIONS

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_lengths(field)

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return _enforce_lengths(field, normalise.normalise_kana(str(raw)))


@register
class EmailType(_StringType):
    """One email address; checked for its form, never by sending or by DNS."""

    name: str = "email"
    input_attributes: Mapping[str, str] = MappingProxyType(
        {"inputmode": "email", "autocomplete": "email", "spellcheck": "false"}
    )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return normalise.normalise_email(str(raw))


@register
class PhoneType(_StringType):
    """A Japanese phone number, stored in E.164 and shown as 06-1234-5678."""

    name: str = "phone"
    input_attributes: Mapping[str, str] = MappingProxyType(
        {"type": "tel", "inputmode": "tel", "autocomplete": "tel"}
    )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return normalise.normalise_phone(str(raw))

    def to_raw(self, field: Field, value: Any) -> Any:
        return None if value is None else normalise.format_phone(str(value))


@register
class PostalCodeType(_StringType):
    """A postal code that exists, stored as 7 digits.

    The ward it belongs to is `forms.normalise.lookup_postal_code(value)`;
    procedures routed `by_address` use it to pick the office.
    """

    name: str = "postal_code"
    input_attributes: Mapping[str, str] = MappingProxyType(
        {"inputmode": "numeric", "autocomplete": "postal-code"}
    )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return normalise.lookup_postal_code(str(raw)).code

    def to_raw(self, field: Field, value: Any) -> Any:
        return None if value is None else normalise.format_postal_code(str(value))

    def display(self, field: Field, value: Any, language: str) -> str:
        return "" if value is None else f"〒{normalise.format_postal_code(str(value))}"


class _IdentifierNumberType(_StringType):
    input_attributes: Mapping[str, str] = MappingProxyType(
        {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
    )


@register
class MyNumberType(_IdentifierNumberType):
    """A 12-digit individual number (My Number); always sensitive."""

    name: str = "my_number"
    always_sensitive: bool = True

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        # A default would put someone's number in a file anyone can read.
        yield "default", "a my_number field cannot have a default"

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return normalise.normalise_my_number(str(raw))


@register
class CorporateNumberType(_IdentifierNumberType):
    """A 13-digit corporate number (法人番号)."""

    name: str = "corporate_number"

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return normalise.normalise_corporate_number(str(raw))
