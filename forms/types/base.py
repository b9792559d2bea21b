"""The base of every field type, and the registry they are declared in.

A field type knows everything about one `type:` of the procedure language:
its own keys and their checks (for the loader), the wtforms field that
renders it, how posted text becomes a stored value, and how that value is
shown again, written to JSON and read back.  Adding a type is writing one
subclass of `FieldType` decorated with `@register`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

import wtforms

from forms.messages import Invalid, label_text
from workflow.expressions import ValueType
from workflow.model import Field, OptionSpec

__all__ = [
    "NO_OPTIONS",
    "REGISTRY",
    "RESERVED_FIELD_IDS",
    "FieldType",
    "FieldTypeRegistry",
    "RequiredFlag",
    "Upload",
    "first_value",
    "getlist",
    "register",
]

NO_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType({})

#: ids a field cannot have: the generated form object uses these names itself
#: (and Flask-WTF adds ``csrf_token``)
RESERVED_FIELD_IDS = frozenset(
    {name for name in dir(wtforms.Form) if not name.startswith("_")}
    | {"form_errors", "meta", "csrf_token"}
)


@dataclass(frozen=True)
class Upload:
    """A file as posted: the name the sender gave and the bytes."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def getlist(formdata: Any, key: str) -> list[Any]:
    """All values posted under `key`, from a MultiDict or a plain mapping."""
    if formdata is None:
        return []
    if hasattr(formdata, "getlist"):
        return list(formdata.getlist(key))
    value = formdata.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def first_value(formdata: Any, key: str) -> Any:
    values = getlist(formdata, key)
    return values[0] if values else None


class RequiredFlag:
    """Marks a wtforms field required so the HTML carries ``required``.

    Checking is `forms.builder.validate_page`'s job (it knows about show_if
    and required_if); this only gives browsers and screen readers the hint.
    """

    field_flags: Mapping[str, bool] = MappingProxyType({"required": True})

    def __call__(self, form: Any, field: Any) -> None:
        return None


def raw_of(value: Any) -> Any:
    """A YAML `default` (or any stored scalar) as the text a person would type."""
    if value is None or isinstance(value, str | bool | list):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return str(value)


class FieldType:
    """One `type:` of the procedure language; satisfies `workflow.model.FieldTypeSpec`."""

    #: the name used in `type:`
    name: str
    #: the type the field's value has inside expressions
    value_type: ValueType
    #: the type's own keys, with the kind of value each takes
    options: Mapping[str, OptionSpec] = NO_OPTIONS
    #: False for types with no input (`note`): no label, never required, never stored
    takes_input: bool = True
    #: the value is masked, encrypted and audited whatever the definition says
    always_sensitive: bool = False
    #: message key when a required field is left empty
    required_key: str = "required"
    #: whether the HTML input may carry ``required`` (never for checkbox groups or
    #: files, where the browser's rule would be wrong or would demand a re-upload)
    html_required: bool = True

    # --- the definition -----------------------------------------------------

    def check_definition(self, field: Field) -> Iterator[tuple[str | None, str]]:
        """Problems with a definition the loader cannot see: (key or None, message)."""
        if field.id in RESERVED_FIELD_IDS:
            yield None, f"the field id '{field.id}' is reserved by the form engine; choose another"
        yield from self.check_options(field)
        if field.default is not None:
            yield from self.check_default(field)

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        return iter(())

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        if not self.takes_input:
            yield "default", f"a {self.name} field takes no input, so it has no default"
            return
        try:
            self.default_value(field)
        except Invalid as problem:
            yield (
                "default",
                f"the default {field.default!r} is not a valid value: {problem.text('en')}",
            )

    def empty(self) -> Any:
        """What an empty answer is stored as (a new object each time)."""
        return None

    def default_value(self, field: Field, *, today: datetime.date | None = None) -> Any:
        """The definition's `default` as a stored value; `Invalid` if it is not one."""
        if field.default is None:
            return self.empty()
        return self.clean(field, raw_of(field.default), today=today)

    # --- forms --------------------------------------------------------------

    def build_field(self, field: Field, language: str) -> Any:
        """The unbound wtforms field that renders `field` in `language`."""
        raise NotImplementedError

    def field_kwargs(self, field: Field, language: str) -> dict[str, Any]:
        """What every wtforms field gets: label, hint, default, the required flag."""
        validators: list[Any] = []
        if (
            self.html_required
            and field.required
            and field.show_if is None
            and field.required_if is None
        ):
            validators.append(RequiredFlag())
        default = None
        if field.default is not None:
            try:
                default = self.to_raw(field, self.default_value(field))
            except (Invalid, TypeError):
                default = raw_of(field.default)
        return {
            "label": field.label.get(language) if field.label else "",
            "description": field.hint.get(language) if field.hint else "",
            "validators": validators,
            "default": default,
        }

    def read_raw(self, field: Field, formdata: Any, files: Any = None) -> Any:
        """What was posted for `field`: one string (or None) for most types."""
        value = first_value(formdata, field.id)
        return value if value is None or isinstance(value, str) else str(value)

    def is_empty(self, raw: Any) -> bool:
        if raw is None:
            return True
        if isinstance(raw, str):
            return not raw.strip()
        if isinstance(raw, list | tuple):
            return not any(not self.is_empty(item) for item in raw)
        return False

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        """The stored value of a non-empty `raw` answer; raises `Invalid`."""
        raise NotImplementedError

    def to_raw(self, field: Field, value: Any) -> Any:
        """A stored value as form data (wtforms `data`), to show it in the form again."""
        return None if value is None else raw_of(value)

    def display(self, field: Field, value: Any, language: str) -> str:
        """A stored value for people: confirmation pages, lists, PDFs."""
        if value is None:
            return ""
        return str(self.to_raw(field, value))

    # --- storage ------------------------------------------------------------

    def to_json(self, field: Field, value: Any) -> Any:
        """A stored value as JSON data (the inverse of `from_json`)."""
        return value

    def from_json(self, field: Field, data: Any) -> Any:
        return data

    def __repr__(self) -> str:
        return f"<field type {self.name}>"


def yes_no(value: bool, language: str) -> str:
    return label_text("yes" if value else "no", language)


# --- the registry -----------------------------------------------------------

T = TypeVar("T", bound=type[FieldType])


class FieldTypeRegistry:
    """Every field type by name; satisfies `workflow.model.FieldTypeCatalog`."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, cls: T) -> T:
        """Class decorator: make the type available under its `name`."""
        instance = cls()
        if instance.name in self._types:
            raise ValueError(f"field type {instance.name!r} is registered twice")
        self._types[instance.name] = instance
        return cls

    def get(self, name: str) -> FieldType | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return list(self._types)

    def __getitem__(self, name: str) -> FieldType:
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType]:
        return iter(self._types.values())

    def for_field(self, field: Field) -> FieldType:
        """The type of a loaded field (the loader has refused unknown types)."""
        return self._types[field.type]


REGISTRY = FieldTypeRegistry()


def register(cls: T) -> T:
    """Class decorator: add a field type to `REGISTRY`."""
    return REGISTRY.register(cls)
