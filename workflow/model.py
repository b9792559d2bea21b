"""The typed, immutable model of a procedure, as the loader builds it.

Everything here is frozen: a loaded procedure is a value that can be shared
between threads and requests, cached by its fingerprint, and never changes
under a running application.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from workflow.expressions import Expression, ValueType
from workflow.source import Location

DEFAULT_LANGUAGE = "ja"
LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class LocalizedText:
    """A text in several languages; a missing language falls back to Japanese."""

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def plain(cls, text: str) -> LocalizedText:
        """The same text in every language (written as a plain string)."""
        return cls((("*", text),))

    @property
    def is_plain(self) -> bool:
        """Written as a plain string: the same text in every language."""
        return len(self.texts) == 1 and self.texts[0][0] == "*"

    def get(self, language: str = DEFAULT_LANGUAGE) -> str:
        found = dict(self.texts)
        for candidate in (language, DEFAULT_LANGUAGE, "*"):
            if candidate in found:
                return found[candidate]
        return self.texts[0][1] if self.texts else ""

    def languages(self) -> frozenset[str]:
        return frozenset(lang for lang, _ in self.texts)

    def __str__(self) -> str:
        return self.get()


def frozen_map(items: MappingABC[str, Any] | Iterable[tuple[str, Any]]) -> MappingABC[str, Any]:
    return MappingProxyType(dict(items))


# --- field types ------------------------------------------------------------

OptionKind = Literal[
    "integer",  # any integer
    "count",  # an integer >= 0
    "number",  # integer or decimal
    "text",
    "regex",  # a regular expression, checked to compile
    "date",  # an ISO date or the word `today`
    "choices",  # a list of {value, label, amount?}
    "strings",  # a list of strings (MIME types, ...)
    "localized",  # a localized text
    "radio_select",  # `radio` | `select`
]


@dataclass(frozen=True)
class OptionSpec:
    """One of a field type's own keys: its kind and what it means."""

    kind: OptionKind
    doc: str = ""


class FieldTypeSpec(Protocol):
    """What the language needs to know of a field type.

    The form engine (`forms/`) keeps the registry of field types; each class
    there satisfies this protocol, so that adding a type is adding one class.
    """

    #: the name used in `type:`
    name: str
    #: the type the field's value has inside expressions
    value_type: ValueType
    #: the type's own keys
    options: MappingABC[str, OptionSpec]
    #: False for types with no input (`note`): no label, never required
    takes_input: bool

    def check_definition(self, field: Field) -> Iterable[tuple[str | None, str]]:
        """Further checks of a definition: (option key or None, message) pairs."""
        ...


class FieldTypeCatalog(Protocol):
    def get(self, name: str) -> FieldTypeSpec | None: ...

    def names(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Choice:
    value: str
    label: LocalizedText
    amount: int | None = None


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: LocalizedText | None
    location: Location
    hint: LocalizedText | None = None
    required: bool = False
    required_if: Expression | None = None
    show_if: Expression | None = None
    default: Any = None
    prefill: str | None = None
    sensitive: bool = False
    #: the type's own keys, already converted (choices are `Choice` tuples)
    options: MappingABC[str, Any] = field(default_factory=lambda: frozen_map({}))
    #: the page the field is on (None for a transition's fields)
    page_id: str | None = None

    @property
    def choices(self) -> tuple[Choice, ...]:
        value = self.options.get("choices", ())
        assert isinstance(value, tuple)
        return value

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Repeat:
    min: int
    max: int


@dataclass(frozen=True)
class Page:
    id: str
    title: LocalizedText
    fields: tuple[Field, ...]
    location: Location
    repeat: Repeat | None = None
    show_if: Expression | None = None

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


# --- fee ------------------------------------------------------------------

FeeWhen = Literal["before_submit", "after_approval"]


@dataclass(frozen=True)
class FeeLine:
    label: LocalizedText
    unit: Expression
    location: Location
    quantity: Expression | None = None
    if_: Expression | None = None
    each: str | None = None


@dataclass(frozen=True)
class Fee:
    when: FeeWhen
    methods: tuple[str, ...]
    lines: tuple[FeeLine, ...]
    location: Location


# --- workflow --------------------------------------------------------------

Outcome = Literal["approved", "rejected", "withdrawn"]
CommentRule = Literal["required", "optional", "none"]
BUILTIN_ROLES = ("applicant", "system")


@dataclass(frozen=True)
class State:
    id: str
    label: LocalizedText
    location: Location
    queue: str | None = None
    with_: str | None = None
    pay: bool = False
    final: bool = False
    outcome: Outcome | None = None

    @property
    def clock_runs(self) -> bool:
        """The standard processing period runs only while the office holds the case."""
        return self.queue is not None


@dataclass(frozen=True)
class Timer:
    days: int = 0
    business_days: int = 0


@dataclass(frozen=True)
class Transition:
    action: str
    from_: tuple[str, ...]
    to: str
    by: tuple[str, ...]
    location: Location
    label: LocalizedText | None = None
    if_: Expression | None = None
    comment: CommentRule = "optional"
    fields: tuple[Field, ...] = ()
    edit: tuple[str, ...] = ()
    sign: bool = False
    document: str | None = None
    notify: tuple[str, ...] = ()
    on: str | None = None
    after: Timer | None = None

    def display_label(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.label.get(language) if self.label else self.action

    @property
    def is_system(self) -> bool:
        return self.by == ("system",)


@dataclass(frozen=True)
class Workflow:
    roles: tuple[str, ...]
    initial: str
    states: MappingABC[str, State]
    transitions: tuple[Transition, ...]

    def outgoing(self, state_id: str) -> Iterator[Transition]:
        return (t for t in self.transitions if state_id in t.from_)

    @property
    def all_roles(self) -> tuple[str, ...]:
        return (*self.roles, *BUILTIN_ROLES)


# --- documents and the procedure -------------------------------------------


@dataclass(frozen=True)
class Document:
    id: str
    title: LocalizedText
    template: str
    location: Location
    #: where the template was found when the procedure was loaded
    template_path: str | None = None


@dataclass(frozen=True)
class Applicant:
    login: Literal["required", "optional"] = "required"
    identity: Literal["none", "my_number_card"] = "none"
    proxy: Literal["forbidden", "allowed"] = "forbidden"


@dataclass(frozen=True)
class Procedure:
    id: str
    version: int
    title: LocalizedText
    office: str
    standard_processing_days: int
    retention_years: int
    applicant: Applicant
    pages: tuple[Page, ...]
    workflow: Workflow
    #: sha256 of the canonical form of the file (see `workflow.loader.fingerprint`)
    fingerprint: str
    source_path: str
    location: Location
    summary: LocalizedText | None = None
    category: LocalizedText | None = None
    route_by: str | None = None
    sign: str | None = None
    declaration: LocalizedText | None = None
    fee: Fee | None = None
    documents: MappingABC[str, Document] = field(default_factory=lambda: frozen_map({}))

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def all_fields(self) -> Iterator[Field]:
        for page in self.pages:
            yield from page.fields

    def field(self, field_id: str) -> Field:
        for candidate in self.all_fields():
            if candidate.id == field_id:
                return candidate
        raise KeyError(field_id)

    def transition(self, action: str) -> Iterator[Transition]:
        return (t for t in self.workflow.transitions if t.action == action)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    @property
    def has_fee(self) -> bool:
        return self.fee is not None and bool(self.fee.lines)


@dataclass(frozen=True)
class Office:
    id: str
    code: str
    name: LocalizedText
    location: Location
    postal_code: str | None = None
    address: LocalizedText | None = None
    phone: str | None = None
    hours: LocalizedText | None = None


JAPAN = datetime.timezone(datetime.timedelta(hours=9), "JST")


def today_in_japan() -> datetime.date:
    """Today's date in Japan, whatever the server's time zone."""
    return datetime.datetime.now(JAPAN).date()


def japan_date(moment: datetime.datetime) -> datetime.date:
    """The calendar day in Japan of a moment (naive moments are taken as Japan time)."""
    return moment.astimezone(JAPAN).date() if moment.tzinfo else moment.date()
