"""A single checkbox, one option out of a list, several options out of a list."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import wtforms
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from forms.messages import Invalid, label_text
from forms.types.base import FieldType, getlist, register, yes_no
from workflow.expressions import ValueType
from workflow.model import Choice, Field, OptionSpec

__all__ = ["BooleanType", "ChoiceType", "MultiChoiceType"]

# What browsers and wtforms send for an unticked box, when they send anything.
_FALSE_VALUES = frozenset({"", "false", "0", "off", "n", "no"})


def _check_choices(field: Field) -> Iterator[tuple[str | None, str]]:
    choices: tuple[Choice, ...] = field.option("choices", ())
    if not choices:
        yield "choices", f"a {field.type} field needs at least one choice"
    seen: set[str] = set()
    for choice in choices:
        if choice.value in seen:
            yield "choices", f"the choice value '{choice.value}' is used twice"
        seen.add(choice.value)
        if choice.amount is not None and choice.amount < 0:
            yield "choices", f"the amount of choice '{choice.value}' is negative"


def _options(field: Field, language: str) -> list[Any]:
    return [SelectChoice(choice.value, choice.label.get(language)) for choice in field.choices]


def _label(field: Field, value: Any, language: str) -> str:
    for choice in field.choices:
        if choice.value == value:
            return choice.label.get(language)
    return str(value)


@register
class BooleanType(FieldType):
    """A single checkbox; `required: true` means it must be ticked (a consent)."""

    name: str = "boolean"
    value_type: ValueType = ValueType.BOOLEAN
    required_key: str = "required.boolean"

    def empty(self) -> Any:
        return False

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if not isinstance(field.default, bool):
            yield "default", "the default of a boolean field must be true or false"

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.BooleanField(**self.field_kwargs(field, language))

    def read_raw(self, field: Field, formdata: Any, files: Any = None) -> Any:
        return any(self._ticked(value) for value in getlist(formdata, field.id))

    @staticmethod
    def _ticked(value: Any) -> bool:
        if isinstance(value, str):
            return value.strip().lower() not in _FALSE_VALUES
        return bool(value)

    def is_empty(self, raw: Any) -> bool:
        return not self._ticked(raw) if raw is not None else True

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return self._ticked(raw)

    def to_raw(self, field: Field, value: Any) -> Any:
        return bool(value)

    def display(self, field: Field, value: Any, language: str) -> str:
        return yes_no(bool(value), language)


@register
class ChoiceType(FieldType):
    """One option out of `choices`, as radio buttons or a drop-down list."""

    name: str = "choice"
    value_type: ValueType = ValueType.STRING
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "choices": OptionSpec("choices", "the options: {value, label, amount?}"),
            "style": OptionSpec("radio_select", "radio buttons or a drop-down list (select)"),
        }
    )
    required_key: str = "required.choice"

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_choices(field)

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        values = [choice.value for choice in field.choices]
        if field.default not in values:
            yield (
                "default",
                f"the default {field.default!r} is not one of the choices ({', '.join(values)})",
            )

    def build_field(self, field: Field, language: str) -> Any:
        kwargs = self.field_kwargs(field, language)
        if field.option("style") == "radio":
            return wtforms.RadioField(
                choices=_options(field, language), validate_choice=False, **kwargs
            )
        # An empty first option, so that nothing is chosen for the applicant.
        placeholder = SelectChoice("", label_text("choose", language))
        return wtforms.SelectField(
            choices=[placeholder, *_options(field, language)], validate_choice=False, **kwargs
        )

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        value = str(raw)
        if value not in {choice.value for choice in field.choices}:
            raise Invalid("choice.invalid")
        return value

    def display(self, field: Field, value: Any, language: str) -> str:
        return "" if value is None else _label(field, value, language)


@register
class MultiChoiceType(FieldType):
    """Any number of options out of `choices` (between `min` and `max`), as checkboxes."""

    name: str = "multi_choice"
    value_type: ValueType = ValueType.LIST
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "choices": OptionSpec("choices", "the options: {value, label}"),
            "min": OptionSpec("count", "the fewest options to tick"),
            "max": OptionSpec("count", "the most options to tick"),
        }
    )
    required_key: str = "required.choice"
    html_required: bool = False

    def empty(self) -> Any:
        return []

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield from _check_choices(field)
        low, high = field.option("min"), field.option("max")
        count = len(field.choices)
        if low is not None and high is not None and low > high:
            yield "min", f"min ({low}) is greater than max ({high})"
        if high is not None and high < 1:
            yield "max", "max must be at least 1"
        if low is not None and count and low > count:
            yield "min", f"min ({low}) is more than the number of choices ({count})"

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if not isinstance(field.default, list) or not all(
            isinstance(item, str) for item in field.default
        ):
            yield "default", "the default of a multi_choice field must be a list of choice values"
            return
        yield from super().check_default(field)

    def build_field(self, field: Field, language: str) -> Any:
        return wtforms.SelectMultipleField(
            choices=_options(field, language),
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            validate_choice=False,
            **self.field_kwargs(field, language),
        )

    def read_raw(self, field: Field, formdata: Any, files: Any = None) -> Any:
        return [str(value) for value in getlist(formdata, field.id) if str(value).strip()]

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        picked = {str(item) for item in (raw if isinstance(raw, list | tuple) else [raw])}
        values = [choice.value for choice in field.choices]
        if not picked <= set(values):
            raise Invalid("choice.invalid")
        low, high = field.option("min"), field.option("max")
        if low is not None and len(picked) < low:
            raise Invalid("multi_choice.too_few", min=low)
        if high is not None and len(picked) > high:
            raise Invalid("multi_choice.too_many", max=high)
        # The order of the definition, whatever order the browser sent.
        return [value for value in values if value in picked]

    def to_raw(self, field: Field, value: Any) -> Any:
        return [] if value is None else list(value)

    def display(self, field: Field, value: Any, language: str) -> str:
        separator = "、" if language == "ja" else ", "
        return separator.join(_label(field, item, language) for item in value or ())

    def to_json(self, field: Field, value: Any) -> Any:
        return None if value is None else list(value)

    def from_json(self, field: Field, data: Any) -> Any:
        return None if data is None else [str(item) for item in data]
