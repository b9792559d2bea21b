"""Dates, typed in the Western calendar or in a Japanese era.

The input is a plain text box, not ``type=date``: a browser date picker
cannot take ``令和8年11月24日`` or ``S64.1.7``, and birth dates are very
often known in the era calendar.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import wtforms

from forms import normalise
from forms.messages import Invalid, format_param, label_text
from forms.types.base import FieldType, register
from workflow.expressions import ValueType
from workflow.model import Field, OptionSpec

__all__ = ["DateType"]


def _fixed(bound: Any) -> datetime.date | None:
    """A bound that does not move with the calendar, else None."""
    if bound is None or bound == "today":
        return None
    return normalise.resolve_date_bound(bound, None)


@register
class DateType(FieldType):
    """A calendar date; `min`/`max` are dates or ``today`` (given by the caller)."""

    name: str = "date"
    value_type: ValueType = ValueType.DATE
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "min": OptionSpec("date", "the earliest date accepted (a date or today)"),
            "max": OptionSpec("date", "the latest date accepted (a date or today)"),
        }
    )

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        low, high = _fixed(field.option("min")), _fixed(field.option("max"))
        if low is not None and high is not None and low > high:
            yield "min", f"min ({low.isoformat()}) is later than max ({high.isoformat()})"

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        # Only bounds fixed in the file can be checked here: `today` moves.
        try:
            day = normalise.parse_date(field.default)
        except (Invalid, TypeError):
            yield "default", f"the default {field.default!r} is not a date (write 2026-04-01)"
            return
        low, high = _fixed(field.option("min")), _fixed(field.option("max"))
        if (low is not None and day < low) or (high is not None and day > high):
            yield "default", f"the default {day.isoformat()} is outside min/max"

    def build_field(self, field: Field, language: str) -> Any:
        render_kw = {
            "inputmode": "text",
            "placeholder": label_text("date_placeholder", language),
            "data-field-type": "date",
        }
        if field.prefill == "identity.birth_date":
            render_kw["autocomplete"] = "bday"
        return wtforms.StringField(render_kw=render_kw, **self.field_kwargs(field, language))

    def default_value(self, field: Field, *, today: datetime.date | None = None) -> Any:
        if field.default is None:
            return None
        return normalise.parse_date(field.default)

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        day = normalise.parse_date(raw if isinstance(raw, datetime.date) else str(raw))
        low = normalise.resolve_date_bound(field.option("min"), today)
        high = normalise.resolve_date_bound(field.option("max"), today)
        if low is not None and day < low:
            raise Invalid("date.too_early", min=low)
        if high is not None and day > high:
            raise Invalid("date.too_late", max=high)
        return day

    def to_raw(self, field: Field, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime.date) else value

    def display(self, field: Field, value: Any, language: str) -> str:
        return "" if value is None else format_param(value, language)

    def to_json(self, field: Field, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime.date) else value

    def from_json(self, field: Field, data: Any) -> Any:
        return None if data is None else datetime.date.fromisoformat(str(data))
