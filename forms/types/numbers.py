"""Whole numbers and decimal numbers.

Both render as text inputs with a numeric keyboard rather than
``type=number``: browsers refuse full-width digits there, and people typing
with the Japanese input method on produce exactly those.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import wtforms

from forms import normalise
from forms.messages import Invalid
from forms.types.base import FieldType, raw_of, register
from workflow.expressions import ValueType
from workflow.model import Field, OptionSpec

__all__ = ["DecimalType", "IntegerType"]


def _as_decimal(value: Any) -> Decimal:
    # YAML gives int or float, the loader int or Decimal; str() keeps 0.1 exact.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _check_range(field: Field) -> Iterator[tuple[str | None, str]]:
    low, high = field.option("min"), field.option("max")
    if low is not None and high is not None and _as_decimal(low) > _as_decimal(high):
        yield "min", f"min ({low}) is greater than max ({high})"


def _enforce_range(field: Field, number: Decimal | int) -> None:
    low, high = field.option("min"), field.option("max")
    if low is not None and number < _as_decimal(low):
        raise Invalid("number.too_small", min=low)
    if high is not None and number > _as_decimal(high):
        raise Invalid("number.too_large", max=high)


@register
class IntegerType(FieldType):
    """A whole number; digit grouping (1,000) and full-width digits accepted."""

    name: str = "integer"
    value_type: ValueType = ValueType.INTEGER
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "min": OptionSpec("integer", "the smallest number accepted"),
            "max": OptionSpec("integer", "the largest number accepted"),
        }
    )

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_range(field)

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if isinstance(field.default, bool) or not isinstance(field.default, int):
            yield "default", "the default of an integer field must be a whole number"
            return
        yield from super().check_default(field)

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.StringField(
            render_kw={"inputmode": "numeric"}, **self.field_kwargs(field, language)
        )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        number = normalise.parse_integer(str(raw))
        _enforce_range(field, number)
        return number


@register
class DecimalType(FieldType):
    """A decimal number, kept exact (`Decimal`), with at most `places` decimals."""

    name: str = "decimal"
    value_type: ValueType = ValueType.DECIMAL
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "min": OptionSpec("number", "the smallest number accepted"),
            "max": OptionSpec("number", "the largest number accepted"),
            "places": OptionSpec("count", "the most digits after the decimal point"),
        }
    )

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_range(field)

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if isinstance(field.default, bool) or not isinstance(field.default, int | float | Decimal):
            yield "default", "the default of a decimal field must be a number"
            return
        yield from super().check_default(field)

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.StringField(
            render_kw={"inputmode": "decimal"}, **self.field_kwargs(field, language)
        )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        number = normalise.parse_decimal(str(raw))
        places = field.option("places")
        # Trailing zeros say nothing ("1.50" is 1.5), so they do not count.
        exponent = number.normalize().as_tuple().exponent
        if places is not None and isinstance(exponent, int) and -exponent > places:
            raise Invalid("decimal.places", places=places)
        _enforce_range(field, number)
        return number

    def to_raw(self, field: Field, value: Any) -> Any:
        return None if value is None else raw_of(value)

    def to_json(self, field: Field, value: Any) -> Any:
        # A string, not a float: 0.1 must come back as exactly 0.1.
        return None if value is None else str(value)

    def from_json(self, field: Field, data: Any) -> Any:
        return None if data is None else Decimal(str(data))
