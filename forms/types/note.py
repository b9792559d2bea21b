"""A paragraph shown to the applicant, with no input."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import wtforms
from wtforms.widgets.core import Markup, escape, html_params

from forms.types.base import FieldType, register
from workflow.expressions import ValueType
from workflow.model import Field, OptionSpec

__all__ = ["NoteField", "NoteType", "NoteWidget"]


class NoteWidget:
    """Renders the note's text as a paragraph, line breaks kept, HTML escaped."""

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("class", "note")
        lines = [str(escape(line)) for line in str(field.text).split("\n")]
        return Markup(f"<p {html_params(**kwargs)}>{'<br>'.join(lines)}</p>")


class NoteField(wtforms.Field):  # type: ignore[misc]  # wtforms has no type hints
    """A form field that shows `text` and never takes data."""

    widget = NoteWidget()

    def __init__(self, label: Any = None, validators: Any = None, text: str = "", **kwargs: Any):
        super().__init__(label, validators, **kwargs)
        self.text = text

    def process_formdata(self, valuelist: Any) -> None:
        # Nothing posted under a note's name may become data.
        self.data = None


@register
class NoteType(FieldType):
    """Text for the applicant to read (`text:`); no label, no value, never required."""

    name: str = "note"
    value_type: ValueType = ValueType.NULL
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {"text": OptionSpec("localized", "the paragraph shown to the applicant")}
    )
    takes_input: bool = False
    html_required: bool = False

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if field.option("text") is None:
            yield "text", "a note needs a text"
        if field.required or field.required_if is not None:
            yield None, "a note takes no input, so it cannot be required"

    def build_field(self, field: Field, language: str) -> Any:
        text = field.option("text")
        return NoteField(
            label=field.label.get(language) if field.label else "",
            text=text.get(language) if text is not None else "",
        )

    def read_raw(self, field: Field, formdata: Any, files: Any = None) -> Any:
        return None

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return None

    def to_raw(self, field: Field, value: Any) -> Any:
        return None
