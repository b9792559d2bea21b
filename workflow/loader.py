"""Procedure YAML → `Procedure`, with every problem reported at its place.

The loader reads a file in one pass over the located nodes of
`workflow.source`, converting what it can and recording a diagnostic for
what it cannot, so that a file with ten mistakes gets ten messages.  A
second pass checks what needs the whole file: references between pages,
fields, states, roles and documents, the expressions (names, functions,
types) and the workflow graph (`workflow.graph`).

Field types are not known here: the caller passes a `FieldTypeCatalog`
(the registry in `forms/`), so that a new field type is declared once.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import re
from collections.abc import Collection, Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from workflow import graph
from workflow.expressions import Expression, ExpressionError, ValueType, parse
from workflow.model import (
    LANGUAGES,
    Applicant,
    Choice,
    Document,
    Fee,
    FeeLine,
    Field,
    FieldTypeCatalog,
    LocalizedText,
    Office,
    OptionSpec,
    Page,
    Procedure,
    Repeat,
    State,
    Timer,
    Transition,
    Workflow,
    frozen_map,
)
from workflow.source import (
    Diagnostic,
    Diagnostics,
    Location,
    Mapping,
    Node,
    Scalar,
    Sequence,
    SourceError,
    kind_of,
    parse_yaml,
    to_plain,
)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")
DEFAULT_PAYMENT_METHODS = ("card", "konbini", "qr", "payeasy")
PREFILL_SOURCES = (
    "identity.name",
    "identity.address",
    "identity.birth_date",
    "identity.postal_code",
)
BUILTIN_DOCUMENTS = ("receipt", "application")
#: pages the engine adds itself (the proxy page of `applicant.proxy: allowed`)
RESERVED_PAGE_IDS = ("filing-for",)

#: the scope of a fee line whose `each:` names no repeating page
_UNKNOWN_SCOPE = "\x00unknown"


class ProcedureError(Exception):
    """A procedure file has errors; `diagnostics` lists them all."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass
class LoadResult:
    path: str
    procedure: Procedure | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def ok(self) -> bool:
        return self.procedure is not None and not self.errors


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a candidate is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def fingerprint(node: Node) -> str:
    """sha256 of the file's canonical form.

    The canonical form is the parsed content as JSON with sorted keys, so
    comments, key order, quoting and white space do not make a new version;
    any change of meaning does.
    """

    def default(value: Any) -> str:
        if isinstance(value, Decimal):
            return str(value)
        return str(value.isoformat())

    canonical = json.dumps(
        to_plain(node), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- the reader: typed access to located nodes, collecting diagnostics ------


class _Reader:
    def __init__(self, diagnostics: Diagnostics) -> None:
        self.d = diagnostics

    def expect_mapping(self, node: Node | None, what: str) -> Mapping | None:
        if node is None:
            return None
        if not isinstance(node, Mapping):
            self.d.error(node.location, f"{what} must be a mapping (key: value), not {_kind(node)}")
            return None
        return node

    def expect_sequence(self, node: Node | None, what: str) -> Sequence | None:
        if node is None:
            return None
        if not isinstance(node, Sequence):
            self.d.error(node.location, f"{what} must be a list, not {_kind(node)}")
            return None
        return node

    def keys(
        self,
        mapping: Mapping,
        what: str,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.d.error(
                    mapping.key_location(key),
                    f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}",
                )
        for key in required:
            if key not in mapping:
                self.d.error(mapping.location, f"{what} needs the key '{key}'")

    def scalar(self, node: Node | None, what: str) -> Scalar | None:
        if node is None:
            return None
        if not isinstance(node, Scalar):
            self.d.error(node.location, f"{what} must be a single value, not {_kind(node)}")
            return None
        return node

    def text(self, node: Node | None, what: str) -> str | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        if isinstance(s.value, bool) or s.value is None or isinstance(s.value, (list, dict)):
            self.d.error(s.location, f"{what} must be text, not {s.kind}")
            return None
        if isinstance(s.value, (int, float)) and not s.quoted:
            # `code: 27127` is meant as text; accept it as written.
            return str(s.value)
        return str(s.value) if not isinstance(s.value, str) else s.value

    def identifier(self, node: Node | None, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if not ID_PATTERN.match(value):
            assert node is not None
            self.d.error(
                node.location,
                f"{what} '{value}' is not a valid id: use lower-case letters, digits,"
                " '-' and '_', starting with a letter",
            )
            return None
        return value

    def integer(self, node: Node | None, what: str, *, minimum: int | None = None) -> int | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        if not isinstance(s.value, int) or isinstance(s.value, bool):
            self.d.error(s.location, f"{what} must be a whole number, not {s.kind}")
            return None
        if minimum is not None and s.value < minimum:
            self.d.error(s.location, f"{what} must be at least {minimum}, not {s.value}")
            return None
        return s.value

    def number(self, node: Node | None, what: str) -> int | Decimal | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        if isinstance(s.value, bool) or not isinstance(s.value, (int, float)):
            self.d.error(s.location, f"{what} must be a number, not {s.kind}")
            return None
        if isinstance(s.value, float):
            return Decimal(str(s.value))
        return s.value

    def boolean(self, node: Node | None, what: str) -> bool | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        if not isinstance(s.value, bool):
            self.d.error(s.location, f"{what} must be true or false, not {s.kind}")
            return None
        return s.value

    def choice(self, node: Node | None, what: str, allowed: Collection[str]) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if value not in allowed:
            assert node is not None
            options = " | ".join(allowed)
            self.d.error(
                node.location,
                f"{what} must be one of {options}, not '{value}'{did_you_mean(value, allowed)}",
            )
            return None
        return value

    def localized(self, node: Node | None, what: str) -> LocalizedText | None:
        if node is None:
            return None
        if isinstance(node, Scalar):
            value = self.text(node, what)
            return LocalizedText.plain(value) if value is not None else None
        mapping = self.expect_mapping(node, what)
        if mapping is None:
            return None
        texts: list[tuple[str, str]] = []
        for language in mapping:
            if language not in LANGUAGES:
                self.d.error(
                    mapping.key_location(language),
                    f"unknown language '{language}' in {what}"
                    f"{did_you_mean(language, LANGUAGES)}; use {' and '.join(LANGUAGES)}",
                )
                continue
            value = self.text(mapping.get(language), f"{what} ({language})")
            if value is not None:
                texts.append((language, value))
        for language in LANGUAGES:
            if language not in mapping:
                self.d.warning(mapping.location, f"{what} has no '{language}' translation")
        return LocalizedText(tuple(texts)) if texts else None

    def expression(self, node: Node | None, what: str) -> tuple[Expression, Scalar] | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        if isinstance(s.value, bool):
            source = "true" if s.value else "false"
        elif s.value is None:
            source = "null"
        elif isinstance(s.value, (int, float, str)):
            source = str(s.value)
        else:
            self.d.error(s.location, f"{what} must be an expression, not {s.kind}")
            return None
        try:
            return parse(source), s
        except ExpressionError as exc:
            self.d.error(expression_location(s, exc.offset), f"{what}: {exc.message}")
            return None

    def id_list(self, node: Node | None, what: str) -> tuple[tuple[str, Location], ...]:
        """A single id or a list of ids, each with its location."""
        if node is None:
            return ()
        items: Iterable[Node] = node.items if isinstance(node, Sequence) else (node,)
        result = []
        for item in items:
            value = self.text(item, what)
            if value is not None:
                result.append((value, item.location))
        return tuple(result)


def expression_location(scalar: Scalar, offset: int) -> Location:
    start = scalar.location
    if scalar.quoted:
        start = Location(start.file, start.line, start.col + 1)
    return start.shifted(offset, str(scalar.value))


def _kind(node: Node) -> str:
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    assert isinstance(node, Scalar)
    return kind_of(node.value)


# --- the procedure loader ----------------------------------------------------

TOP_KEYS = (
    "procedure",
    "version",
    "title",
    "summary",
    "category",
    "office",
    "route_by",
    "standard_processing_days",
    "retention_years",
    "applicant",
    "sign",
    "declaration",
    "fee",
    "pages",
    "workflow",
    "documents",
)
TOP_REQUIRED = (
    "procedure",
    "version",
    "title",
    "office",
    "standard_processing_days",
    "retention_years",
    "pages",
    "workflow",
)
FIELD_KEYS = (
    "id",
    "type",
    "label",
    "hint",
    "required",
    "required_if",
    "show_if",
    "default",
    "prefill",
    "sensitive",
)
PAGE_KEYS = ("id", "title", "fields", "repeat", "show_if")
STATE_KEYS = ("label", "queue", "with", "pay", "final", "outcome")
TRANSITION_KEYS = (
    "action",
    "label",
    "from",
    "to",
    "by",
    "if",
    "comment",
    "fields",
    "edit",
    "sign",
    "document",
    "notify",
    "on",
    "after",
)
FEE_LINE_KEYS = ("label", "unit", "quantity", "if", "each")


@dataclass
class _PendingExpression:
    """An expression to check once every field is known."""

    expression: Expression
    scalar: Scalar
    what: str
    #: None: the procedure's top scope; a page id: the scope of that repeating page's items
    item_scope: str | None
    #: "number" for fee amounts, which must compute to a number
    expect: str | None = None


class _ProcedureLoader:
    def __init__(
        self,
        root: Node,
        filename: str,
        diagnostics: Diagnostics,
        *,
        field_types: FieldTypeCatalog,
        offices: MappingABC[str, Office] | None,
        template_dirs: tuple[Path, ...],
        payment_methods: Collection[str],
    ) -> None:
        self.root = root
        self.filename = filename
        self.d = diagnostics
        self.r = _Reader(diagnostics)
        self.field_types = field_types
        self.offices = offices
        self.template_dirs = template_dirs
        self.payment_methods = payment_methods
        self.pending: list[_PendingExpression] = []
        self.field_locations: dict[str, Location] = {}
        #: a field did not load: references to unknown fields may be that one
        self.fields_failed = False

    # -- top level

    def load(self) -> Procedure | None:
        top = self.r.expect_mapping(self.root, "a procedure file")
        if top is None:
            return None
        r = self.r
        r.keys(top, "the procedure", TOP_KEYS, TOP_REQUIRED)
        procedure_id = r.identifier(top.get("procedure"), "procedure")
        version = r.integer(top.get("version"), "version", minimum=1)
        title = r.localized(top.get("title"), "title")
        summary = r.localized(top.get("summary"), "summary")
        category = r.localized(top.get("category"), "category")
        declaration = r.localized(top.get("declaration"), "declaration")
        processing_days = r.integer(
            top.get("standard_processing_days"), "standard_processing_days", minimum=0
        )
        retention = r.integer(top.get("retention_years"), "retention_years", minimum=1)
        applicant = self.applicant(top.get("applicant"))
        sign = r.choice(top.get("sign"), "sign", ("applicant",)) if "sign" in top else None
        pages = self.pages(top.get("pages"))
        self.builtin_page_clash(pages, applicant)
        fee = self.fee(top.get("fee"), pages)
        documents = self.documents(top.get("documents"))
        workflow = self.workflow(top.get("workflow"), pages, documents, fee)
        office = self.office(top)
        route_by = self.route_by(top, office, pages)
        self.check_expressions(pages)

        values = (procedure_id, version, title, processing_days, retention, workflow, office)
        if any(v is None for v in values) or not pages or self.d.errors:
            return None
        assert procedure_id is not None
        assert version is not None
        assert title is not None
        assert workflow is not None
        assert office is not None
        assert processing_days is not None
        assert retention is not None
        return Procedure(
            id=procedure_id,
            version=version,
            title=title,
            summary=summary,
            category=category,
            office=office,
            route_by=route_by,
            standard_processing_days=processing_days,
            retention_years=retention,
            applicant=applicant,
            sign=sign,
            declaration=declaration,
            fee=fee,
            pages=tuple(pages),
            workflow=workflow,
            documents=frozen_map((d.id, d) for d in documents),
            fingerprint=fingerprint(self.root),
            source_path=self.filename,
            location=(top.get("procedure") or top).location,
        )

    def builtin_page_clash(self, pages: list[Page], applicant: Applicant) -> None:
        for page in pages:
            if applicant.proxy == "allowed" and page.id in RESERVED_PAGE_IDS:
                self.d.error(
                    page.location,
                    f"page id '{page.id}' is reserved for the built-in proxy page; choose another",
                )
        if applicant.identity != "my_number_card":
            for page in pages:
                for f in page.fields:
                    if f.prefill:
                        self.d.warning(
                            f.location,
                            f"field '{f.id}' has prefill: {f.prefill}, which is only filled"
                            " when applicant.identity is my_number_card",
                        )

    def applicant(self, node: Node | None) -> Applicant:
        mapping = self.r.expect_mapping(node, "applicant")
        if mapping is None:
            return Applicant()
        self.r.keys(mapping, "applicant", ("login", "identity", "proxy"))
        login = self.r.choice(mapping.get("login"), "applicant.login", ("required", "optional"))
        identity = self.r.choice(
            mapping.get("identity"), "applicant.identity", ("none", "my_number_card")
        )
        proxy = self.r.choice(mapping.get("proxy"), "applicant.proxy", ("forbidden", "allowed"))
        return Applicant(
            login=cast(Any, login or "required"),
            identity=cast(Any, identity or "none"),
            proxy=cast(Any, proxy or "forbidden"),
        )

    def office(self, top: Mapping) -> str | None:
        node = top.get("office")
        value = self.r.text(node, "office")
        if value is None or node is None:
            return None
        if value == "by_address":
            return value
        if self.offices is not None and value not in self.offices:
            self.d.error(
                node.location,
                f"unknown office '{value}'; use by_address or an office id from offices.yaml"
                f"{did_you_mean(value, self.offices)}",
            )
            return None
        if self.offices is None and not ID_PATTERN.match(value):
            self.d.error(node.location, f"office '{value}' is not a valid id")
            return None
        return value

    def route_by(self, top: Mapping, office: str | None, pages: list[Page]) -> str | None:
        node = top.get("route_by")
        if office == "by_address" and node is None:
            self.d.error(
                top.key_location("office"),
                "office: by_address needs route_by: the postal_code field that picks the ward",
            )
            return None
        if node is None:
            return None
        value = self.r.text(node, "route_by")
        if value is None:
            return None
        if office is not None and office != "by_address":
            self.d.error(node.location, "route_by only goes with office: by_address")
        fields = {f.id: (f, p) for p in pages for f in p.fields}
        if value not in fields and self.fields_failed:
            return None
        if value not in fields:
            self.d.error(
                node.location,
                f"route_by names an unknown field '{value}'{did_you_mean(value, fields)}",
            )
            return None
        found, page = fields[value]
        if found.type != "postal_code":
            self.d.error(
                node.location,
                f"route_by must name a postal_code field; '{value}' is a {found.type} field",
            )
            return None
        if page.repeat is not None:
            self.d.error(node.location, f"route_by field '{value}' is on a repeating page")
            return None
        if not found.required or found.show_if is not None or page.show_if is not None:
            # Every application needs an office: the field must always be asked and answered.
            self.d.error(
                node.location,
                f"route_by field '{value}' must be required: true and always shown"
                " (no show_if on it or its page)",
            )
            return None
        return value

    # -- pages and fields

    def pages(self, node: Node | None) -> list[Page]:
        seq = self.r.expect_sequence(node, "pages")
        if seq is None:
            return []
        if not seq.items:
            self.d.error(seq.location, "pages needs at least one page")
        pages: list[Page] = []
        seen: dict[str, Location] = {}
        for item in seq.items:
            page = self.page(item)
            if page is None:
                continue
            if page.id in seen:
                self.d.error(
                    page.location,
                    f"duplicate page id '{page.id}' (first used at line {seen[page.id].line})",
                )
                continue
            seen[page.id] = page.location
            pages.append(page)
        return pages

    def page(self, node: Node) -> Page | None:
        mapping = self.r.expect_mapping(node, "a page")
        if mapping is None:
            return None
        self.r.keys(mapping, "a page", PAGE_KEYS, ("id", "title", "fields"))
        page_id = self.r.identifier(mapping.get("id"), "page id")
        title = self.r.localized(mapping.get("title"), "page title")
        repeat = self.repeat(mapping.get("repeat"))
        show_if = self.expr(mapping.get("show_if"), "show_if", None)
        fields = self.fields(mapping.get("fields"), page_id, item_scope=page_id if repeat else None)
        if page_id is None or title is None:
            return None
        return Page(
            id=page_id,
            title=title,
            fields=tuple(fields),
            location=mapping.location,
            repeat=repeat,
            show_if=show_if,
        )

    def repeat(self, node: Node | None) -> Repeat | None:
        mapping = self.r.expect_mapping(node, "repeat")
        if mapping is None:
            return None
        self.r.keys(mapping, "repeat", ("min", "max"), ("max",))
        low = self.r.integer(mapping.get("min"), "repeat.min", minimum=0)
        high = self.r.integer(mapping.get("max"), "repeat.max", minimum=1)
        low = 0 if low is None else low
        if high is None:
            return None
        if low > high:
            self.d.error(
                mapping.location, f"repeat.min ({low}) is greater than repeat.max ({high})"
            )
        return Repeat(min=low, max=high)

    def fields(
        self, node: Node | None, page_id: str | None, *, item_scope: str | None
    ) -> list[Field]:
        seq = self.r.expect_sequence(node, "fields")
        if seq is None:
            return []
        result = []
        for item in seq.items:
            loaded = self.field(item, page_id, item_scope)
            if loaded is None:
                self.fields_failed = True
                continue
            if loaded.id in self.field_locations:
                first = self.field_locations[loaded.id]
                self.d.error(
                    loaded.location,
                    f"duplicate field id '{loaded.id}' (first used at line {first.line});"
                    " field ids are unique across the procedure",
                )
                continue
            self.field_locations[loaded.id] = loaded.location
            result.append(loaded)
        return result

    def field(self, node: Node, page_id: str | None, item_scope: str | None) -> Field | None:
        r = self.r
        mapping = r.expect_mapping(node, "a field")
        if mapping is None:
            return None
        type_name = r.text(mapping.get("type"), "field type")
        spec = self.field_types.get(type_name) if type_name else None
        type_node = mapping.get("type")
        if type_name is not None and spec is None and type_node is not None:
            self.d.error(
                type_node.location,
                f"unknown field type '{type_name}'"
                + did_you_mean(type_name, self.field_types.names()),
            )
        own_keys = tuple(spec.options) if spec else ()
        required_keys = ["id", "type"]
        if spec is not None and spec.takes_input:
            required_keys.append("label")
        r.keys(
            mapping,
            f"a field of type {type_name}" if type_name else "a field",
            (*FIELD_KEYS, *own_keys),
            required_keys,
        )
        field_id = r.identifier(mapping.get("id"), "field id")
        label = r.localized(mapping.get("label"), "label")
        hint = r.localized(mapping.get("hint"), "hint")
        required = r.boolean(mapping.get("required"), "required") or False
        required_if = self.expr(mapping.get("required_if"), "required_if", item_scope)
        show_if = self.expr(mapping.get("show_if"), "show_if", item_scope)
        sensitive = r.boolean(mapping.get("sensitive"), "sensitive") or False
        prefill = None
        if "prefill" in mapping:
            prefill = r.choice(mapping.get("prefill"), "prefill", PREFILL_SOURCES)
        default_node = mapping.get("default")
        default = to_plain(default_node) if default_node is not None else None
        options: dict[str, Any] = {}
        if spec is not None:
            for key, option in spec.options.items():
                if key in mapping:
                    value = self.option(mapping.get(key), key, option)
                    if value is not None:
                        options[key] = value
        if field_id is None or type_name is None or spec is None:
            return None
        if spec.name == "my_number":
            sensitive = True  # the contract: a My Number is always sensitive
        loaded = Field(
            id=field_id,
            type=type_name,
            label=label,
            location=mapping.location,
            hint=hint,
            required=required,
            required_if=required_if,
            show_if=show_if,
            default=default,
            prefill=prefill,
            sensitive=sensitive,
            options=frozen_map(options),
            page_id=page_id,
        )
        for problem_key, message in spec.check_definition(loaded):
            where = (
                mapping.key_location(problem_key)
                if problem_key and problem_key in mapping
                else mapping.location
            )
            if problem_key == "default" and default_node is not None:
                where = default_node.location
            self.d.error(where, f"field '{field_id}': {message}")
        return loaded

    def option(self, node: Node | None, key: str, spec: OptionSpec) -> Any:
        r = self.r
        kind = spec.kind
        if kind == "integer":
            return r.integer(node, key)
        if kind == "count":
            return r.integer(node, key, minimum=0)
        if kind == "number":
            return r.number(node, key)
        if kind == "text":
            return r.text(node, key)
        if kind == "localized":
            return r.localized(node, key)
        if kind == "radio_select":
            return r.choice(node, key, ("radio", "select"))
        if kind == "regex":
            value = r.text(node, key)
            if value is None or node is None:
                return None
            try:
                re.compile(value)
            except re.error as exc:
                self.d.error(node.location, f"{key} is not a valid regular expression: {exc}")
                return None
            return value
        if kind == "date":
            s = r.scalar(node, key)
            if s is None:
                return None
            if s.value == "today" or isinstance(s.value, datetime.date):
                return s.value
            if isinstance(s.value, str):
                try:
                    return datetime.date.fromisoformat(s.value)
                except ValueError:
                    pass
            self.d.error(s.location, f"{key} must be a date (2026-04-01) or today, not {s.value!r}")
            return None
        if kind == "strings":
            seq = node.items if isinstance(node, Sequence) else (node,) if node else ()
            values = tuple(v for v in (r.text(item, key) for item in seq) if v is not None)
            return values or None
        if kind == "choices":
            return self.choices(node, key)
        raise AssertionError(f"unhandled option kind {kind}")

    def choices(self, node: Node | None, key: str) -> tuple[Choice, ...] | None:
        seq = self.r.expect_sequence(node, key)
        if seq is None:
            return None
        result = []
        seen: dict[str, Location] = {}
        for item in seq.items:
            mapping = self.r.expect_mapping(item, "a choice")
            if mapping is None:
                continue
            self.r.keys(mapping, "a choice", ("value", "label", "amount"), ("value", "label"))
            value = self.r.text(mapping.get("value"), "choice value")
            label = self.r.localized(mapping.get("label"), "choice label")
            amount = None
            if "amount" in mapping:
                amount = self.r.integer(mapping.get("amount"), "amount", minimum=0)
            if value is None or label is None:
                continue
            if value in seen:
                self.d.error(
                    mapping.location,
                    f"duplicate choice value '{value}' (first used at line {seen[value].line})",
                )
                continue
            seen[value] = mapping.location
            result.append(Choice(value=value, label=label, amount=amount))
        return tuple(result)

    def expr(
        self, node: Node | None, what: str, item_scope: str | None, *, expect: str | None = None
    ) -> Expression | None:
        parsed = self.r.expression(node, what)
        if parsed is None:
            return None
        expression, scalar = parsed
        if expect == "number" and isinstance(scalar.value, int | float) and scalar.value < 0:
            self.d.error(scalar.location, f"{what} must not be negative")
        self.pending.append(_PendingExpression(expression, scalar, what, item_scope, expect))
        return expression

    # -- fee

    def fee(self, node: Node | None, pages: list[Page]) -> Fee | None:
        r = self.r
        mapping = r.expect_mapping(node, "fee")
        if mapping is None:
            return None
        r.keys(mapping, "fee", ("when", "methods", "lines"), ("when", "lines"))
        when = r.choice(mapping.get("when"), "fee.when", ("before_submit", "after_approval"))
        methods: list[str] = []
        for method, location in r.id_list(mapping.get("methods"), "payment method"):
            if method not in self.payment_methods:
                self.d.error(
                    location,
                    f"unknown payment method '{method}'"
                    f"{did_you_mean(method, self.payment_methods)};"
                    f" use {', '.join(self.payment_methods)}",
                )
            elif method in methods:
                self.d.error(location, f"payment method '{method}' is listed twice")
            else:
                methods.append(method)
        if "methods" not in mapping:
            methods = list(self.payment_methods)
        repeating = {p.id for p in pages if p.repeat is not None}
        all_pages = {p.id for p in pages}
        lines = []
        for item in (
            r.expect_sequence(mapping.get("lines"), "fee.lines") or Sequence(mapping.location, ())
        ).items:
            line = r.expect_mapping(item, "a fee line")
            if line is None:
                continue
            r.keys(line, "a fee line", FEE_LINE_KEYS, ("label", "unit"))
            label = r.localized(line.get("label"), "fee line label")
            each = None
            each_node = line.get("each")
            if each_node is not None:
                each = r.text(each_node, "each")
                if each is not None and each not in repeating:
                    why = (
                        f"'{each}' is not a repeating page (it has no repeat:)"
                        if each in all_pages
                        else f"unknown page '{each}'{did_you_mean(each, all_pages)}"
                    )
                    self.d.error(each_node.location, f"each: must name a repeating page; {why}")
                    each = _UNKNOWN_SCOPE
            unit = self.expr(line.get("unit"), "unit", each, expect="number")
            quantity = self.expr(line.get("quantity"), "quantity", each, expect="number")
            condition = self.expr(line.get("if"), "if", each)
            if each == _UNKNOWN_SCOPE:
                each = None
            if label is None or unit is None:
                continue
            lines.append(
                FeeLine(
                    label=label,
                    unit=unit,
                    quantity=quantity,
                    if_=condition,
                    each=each,
                    location=line.location,
                )
            )
        if when is None:
            return None
        return Fee(
            when=cast(Any, when),
            methods=tuple(methods),
            lines=tuple(lines),
            location=mapping.location,
        )

    # -- documents

    def documents(self, node: Node | None) -> list[Document]:
        mapping = self.r.expect_mapping(node, "documents")
        if mapping is None:
            return []
        result = []
        for doc_id in mapping:
            key_location = mapping.key_location(doc_id)
            if not ID_PATTERN.match(doc_id):
                self.d.error(key_location, f"document id '{doc_id}' is not a valid id")
                continue
            if doc_id in BUILTIN_DOCUMENTS:
                self.d.error(key_location, f"'{doc_id}' is a built-in document; choose another id")
                continue
            body = self.r.expect_mapping(mapping.get(doc_id), f"document '{doc_id}'")
            if body is None:
                continue
            self.r.keys(body, f"document '{doc_id}'", ("title", "template"), ("title", "template"))
            title = self.r.localized(body.get("title"), "document title")
            template = self.r.text(body.get("template"), "template")
            path = None
            if template is not None:
                path = self.find_template(template)
                if path is None:
                    template_node = body.get("template")
                    assert template_node is not None
                    self.d.error(
                        template_node.location,
                        f"template '{template}' not found beside the procedure"
                        " or among the built-in templates",
                    )
            if title is None or template is None:
                continue
            result.append(
                Document(
                    id=doc_id,
                    title=title,
                    template=template,
                    location=key_location,
                    template_path=str(path) if path else None,
                )
            )
        return result

    def find_template(self, name: str) -> Path | None:
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        beside = Path(self.filename).parent
        for directory in (beside, *self.template_dirs):
            candidate = directory / name
            if candidate.is_file():
                return candidate
        return None

    # -- workflow

    def workflow(
        self,
        node: Node | None,
        pages: list[Page],
        documents: list[Document],
        fee: Fee | None,
    ) -> Workflow | None:
        r = self.r
        mapping = r.expect_mapping(node, "workflow")
        if mapping is None:
            return None
        r.keys(
            mapping,
            "workflow",
            ("roles", "initial", "states", "transitions"),
            ("initial", "states", "transitions"),
        )
        roles: list[str] = []
        for role, location in r.id_list(mapping.get("roles"), "role"):
            if not ID_PATTERN.match(role):
                self.d.error(location, f"role '{role}' is not a valid id")
            elif role in ("applicant", "system"):
                self.d.error(location, f"'{role}' is a built-in role; do not list it in roles")
            elif role in roles:
                self.d.error(location, f"role '{role}' is listed twice")
            else:
                roles.append(role)
        errors_before = len(self.d.errors)
        states = self.states(mapping.get("states"), roles)
        initial_node = mapping.get("initial")
        initial = r.text(initial_node, "initial")
        if initial is not None and initial_node is not None and initial not in states:
            self.d.error(
                initial_node.location,
                f"initial names an unknown state '{initial}'{did_you_mean(initial, states)}",
            )
            initial = None
        elif initial is not None and states.get(initial) and states[initial].final:
            assert initial_node is not None
            self.d.error(initial_node.location, f"the initial state '{initial}' cannot be final")
        transitions = self.transitions(mapping.get("transitions"), states, roles, pages, documents)
        if (
            fee is not None
            and fee.when == "after_approval"
            and not any(s.pay for s in states.values())
        ):
            self.d.error(
                fee.location,
                "fee.when: after_approval needs a workflow state with pay: true",
            )
        for state in states.values():
            if state.pay and (fee is None or fee.when != "after_approval"):
                self.d.error(
                    state.location,
                    f"state '{state.id}' has pay: true but the fee is not paid after_approval",
                )
        if initial is None or not states:
            return None
        built = Workflow(
            roles=tuple(roles),
            initial=initial,
            states=frozen_map(states),
            transitions=tuple(transitions),
        )
        # A state or transition that did not load would make the graph look
        # broken where it is not; its own error says what to fix first.
        if len(self.d.errors) == errors_before:
            for problem in graph.check(built):
                self.d.error(problem.location, problem.message)
        return built

    def states(self, node: Node | None, roles: list[str]) -> dict[str, State]:
        r = self.r
        mapping = r.expect_mapping(node, "states")
        if mapping is None:
            return {}
        states: dict[str, State] = {}
        for state_id in mapping:
            key_location = mapping.key_location(state_id)
            if not ID_PATTERN.match(state_id):
                self.d.error(key_location, f"state id '{state_id}' is not a valid id")
                continue
            body = r.expect_mapping(mapping.get(state_id), f"state '{state_id}'")
            if body is None:
                continue
            what = f"state '{state_id}'"
            r.keys(body, what, STATE_KEYS, ("label",))
            label = r.localized(body.get("label"), "state label")
            queue = None
            queue_node = body.get("queue")
            if queue_node is not None:
                queue = r.text(queue_node, "queue")
                if queue is not None and queue not in roles:
                    self.d.error(
                        queue_node.location,
                        f"queue names an unknown role '{queue}'{did_you_mean(queue, roles)};"
                        " list staff roles in workflow.roles",
                    )
            with_ = r.choice(body.get("with"), "with", ("applicant",)) if "with" in body else None
            pay = r.boolean(body.get("pay"), "pay") or False
            final = r.boolean(body.get("final"), "final") or False
            outcome = None
            if "outcome" in body:
                outcome = r.choice(
                    body.get("outcome"), "outcome", ("approved", "rejected", "withdrawn")
                )
            if final and "outcome" not in body:
                self.d.error(
                    body.location,
                    f"final {what} needs an outcome (approved, rejected or withdrawn)",
                )
            if not final and "outcome" in body:
                self.d.error(
                    body.key_location("outcome"), f"outcome only goes with final: true ({what})"
                )
            if final and (queue or with_ or pay):
                self.d.error(body.location, f"final {what} cannot also have queue, with or pay")
            if queue and with_:
                self.d.error(
                    body.location, f"{what} cannot be both in a queue and with the applicant"
                )
            if label is None:
                continue
            states[state_id] = State(
                id=state_id,
                label=label,
                location=key_location,
                queue=queue,
                with_=with_,
                pay=pay,
                final=final,
                outcome=cast(Any, outcome),
            )
        return states

    def transitions(
        self,
        node: Node | None,
        states: dict[str, State],
        roles: list[str],
        pages: list[Page],
        documents: list[Document],
    ) -> list[Transition]:
        seq = self.r.expect_sequence(node, "transitions")
        if seq is None:
            return []
        result = []
        seen: dict[tuple[str, str], Location] = {}
        for item in seq.items:
            transition = self.transition(item, states, roles, pages, documents)
            if transition is None:
                continue
            for source in transition.from_:
                key = (transition.action, source)
                if key in seen:
                    self.d.error(
                        transition.location,
                        f"action '{transition.action}' from state '{source}' is defined twice"
                        f" (first at line {seen[key].line})",
                    )
                seen.setdefault(key, transition.location)
            result.append(transition)
        return result

    def transition(
        self,
        node: Node,
        states: dict[str, State],
        roles: list[str],
        pages: list[Page],
        documents: list[Document],
    ) -> Transition | None:
        r = self.r
        mapping = r.expect_mapping(node, "a transition")
        if mapping is None:
            return None
        r.keys(mapping, "a transition", TRANSITION_KEYS, ("action", "from", "to", "by"))
        action = r.identifier(mapping.get("action"), "action")
        label = r.localized(mapping.get("label"), "action label")
        sources: list[str] = []
        for source, location in r.id_list(mapping.get("from"), "from"):
            if source == "*":
                sources.extend(s.id for s in states.values() if not s.final)
            elif source not in states:
                self.d.error(
                    location,
                    f"from names an unknown state '{source}'{did_you_mean(source, states)}",
                )
            else:
                sources.append(source)
        target_node = mapping.get("to")
        target = r.text(target_node, "to")
        if target is not None and target_node is not None and target not in states:
            self.d.error(
                target_node.location,
                f"to names an unknown state '{target}'{did_you_mean(target, states)}",
            )
            target = None
        actors: list[str] = []
        known_roles = (*roles, "applicant", "system")
        for role, location in r.id_list(mapping.get("by"), "by"):
            if role not in known_roles:
                self.d.error(
                    location,
                    f"by names an unknown role '{role}'{did_you_mean(role, known_roles)};"
                    " list staff roles in workflow.roles",
                )
            else:
                actors.append(role)
        condition = self.expr(mapping.get("if"), "if", None)
        comment = "optional"
        if "comment" in mapping:
            comment = (
                r.choice(mapping.get("comment"), "comment", ("required", "optional", "none"))
                or "optional"
            )
        fields = self.transition_fields(mapping.get("fields"))
        edit: list[str] = []
        page_ids = [p.id for p in pages]
        for page_id, location in r.id_list(mapping.get("edit"), "edit"):
            if page_id not in page_ids:
                self.d.error(
                    location,
                    f"edit names an unknown page '{page_id}'{did_you_mean(page_id, page_ids)}",
                )
            else:
                edit.append(page_id)
        sign = r.boolean(mapping.get("sign"), "sign") or False
        document = None
        document_node = mapping.get("document")
        if document_node is not None:
            document = r.text(document_node, "document")
            names = [d.id for d in documents]
            if document is not None and document not in (*names, *BUILTIN_DOCUMENTS):
                self.d.error(
                    document_node.location,
                    f"document names an unknown document '{document}'"
                    f"{did_you_mean(document, names)}; declare it under documents:",
                )
        notify: list[str] = []
        for who, location in r.id_list(mapping.get("notify"), "notify"):
            if who not in ("applicant", *roles):
                self.d.error(
                    location,
                    f"notify names an unknown role '{who}'"
                    + did_you_mean(who, ("applicant", *roles)),
                )
            else:
                notify.append(who)
        on = r.choice(mapping.get("on"), "on", ("paid",)) if "on" in mapping else None
        after = self.timer(mapping.get("after"))
        if (on or after) and actors and actors != ["system"]:
            key = "on" if on else "after"
            self.d.error(mapping.key_location(key), f"a transition with {key}: must be by: system")
        if actors == ["system"] and not (on or after):
            self.d.error(
                mapping.key_location("by"),
                "a transition by: system needs on: paid or an after: timer to fire it",
            )
        if "system" in actors and len(actors) > 1:
            self.d.error(
                mapping.key_location("by"), "system cannot share a transition with other roles"
            )
        if edit and target in states and states[target].with_ != "applicant":
            # Pages can only be reopened while the case waits on the applicant.
            self.d.error(
                mapping.key_location("edit"),
                f"edit: opens pages to the applicant, but '{target}'"
                " is not a with: applicant state",
            )
        if action is None or target is None or not sources or not actors:
            return None
        return Transition(
            action=action,
            label=label,
            from_=tuple(dict.fromkeys(sources)),
            to=target,
            by=tuple(actors),
            if_=condition,
            comment=cast(Any, comment),
            fields=tuple(fields),
            edit=tuple(edit),
            sign=sign,
            document=document,
            notify=tuple(notify),
            on=on,
            after=after,
            location=mapping.location,
        )

    def transition_fields(self, node: Node | None) -> list[Field]:
        seq = self.r.expect_sequence(node, "fields")
        if seq is None:
            return []
        result = []
        seen: set[str] = set()
        for item in seq.items:
            loaded = self.field(item, None, None)
            if loaded is None:
                continue
            if loaded.id in self.field_locations or loaded.id in seen:
                self.d.error(loaded.location, f"duplicate field id '{loaded.id}'")
                continue
            seen.add(loaded.id)
            result.append(loaded)
        return result

    def timer(self, node: Node | None) -> Timer | None:
        mapping = self.r.expect_mapping(node, "after")
        if mapping is None:
            return None
        self.r.keys(mapping, "after", ("days", "business_days"))
        days = self.r.integer(mapping.get("days"), "days", minimum=1) if "days" in mapping else None
        business = (
            self.r.integer(mapping.get("business_days"), "business_days", minimum=1)
            if "business_days" in mapping
            else None
        )
        if ("days" in mapping) == ("business_days" in mapping):
            self.d.error(mapping.location, "after needs exactly one of days or business_days")
            return None
        if days is None and business is None:
            return None
        return Timer(days=days or 0, business_days=business or 0)

    # -- expressions, once every field is known

    def check_expressions(self, pages: list[Page]) -> None:
        top: dict[str, ValueType] = {}
        item_scopes: dict[str, dict[str, ValueType]] = {}
        choice_fields: set[str] = set()
        for page in pages:
            page_types = {}
            for f in page.fields:
                spec = self.field_types.get(f.type)
                page_types[f.id] = spec.value_type if spec else ValueType.ANY
                if f.type == "choice":
                    choice_fields.add(f.id)
            if page.repeat is not None:
                top[page.id] = ValueType.LIST
                item_scopes[page.id] = page_types
            else:
                top.update(page_types)
        for pending in self.pending:
            if pending.item_scope == _UNKNOWN_SCOPE:
                continue  # its `each:` is already reported; its names cannot be judged
            scope = dict(top)
            if pending.item_scope is not None:
                scope.update(item_scopes.get(pending.item_scope, {}))
            errors = pending.expression.check(scope, choice_fields=frozenset(choice_fields))
            for error in errors:
                self.d.error(
                    expression_location(pending.scalar, error.offset),
                    f"{pending.what}: {error.message}",
                )
            if not errors and pending.expect == "number":
                kind = pending.expression.result_type(scope)
                if kind not in (
                    ValueType.INTEGER,
                    ValueType.DECIMAL,
                    ValueType.ANY,
                    ValueType.NULL,
                ):
                    self.d.error(
                        pending.scalar.location,
                        f"{pending.what} must compute a number of yen or items, not {kind.value}",
                    )


def load_procedure_text(
    text: str,
    filename: str,
    *,
    field_types: FieldTypeCatalog,
    offices: MappingABC[str, Office] | None = None,
    template_dirs: Iterable[Path | str] = (),
    payment_methods: Collection[str] = DEFAULT_PAYMENT_METHODS,
) -> LoadResult:
    """Load one procedure from its text; never raises for a bad file."""
    diagnostics = Diagnostics()
    try:
        root = parse_yaml(text, filename)
    except SourceError as exc:
        return LoadResult(filename, None, exc.diagnostics)
    loader = _ProcedureLoader(
        root,
        filename,
        diagnostics,
        field_types=field_types,
        offices=offices,
        template_dirs=tuple(Path(p) for p in template_dirs),
        payment_methods=payment_methods,
    )
    procedure = loader.load()
    return LoadResult(filename, procedure, diagnostics.sorted())


def load_procedure_file(path: Path | str, **options: Any) -> LoadResult:
    filename = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return LoadResult(
            filename,
            None,
            [
                Diagnostic(
                    "error", Location(filename, 1, 1), f"the file is not UTF-8 text ({exc.reason})"
                )
            ],
        )
    except OSError as exc:
        return LoadResult(
            filename,
            None,
            [Diagnostic("error", Location(filename, 1, 1), f"cannot read: {exc.strerror}")],
        )
    return load_procedure_text(text, filename, **options)


def load_procedure(path: Path | str, **options: Any) -> Procedure:
    """Load a procedure that must be valid; raises `ProcedureError` otherwise."""
    result = load_procedure_file(path, **options)
    if not result.ok:
        raise ProcedureError(result.errors)
    assert result.procedure is not None
    return result.procedure


# --- offices ----------------------------------------------------------------


@dataclass
class OfficesResult:
    path: str
    offices: dict[str, Office]
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def load_offices_text(text: str, filename: str) -> OfficesResult:
    diagnostics = Diagnostics()
    try:
        root = parse_yaml(text, filename)
    except SourceError as exc:
        return OfficesResult(filename, {}, exc.diagnostics)
    r = _Reader(diagnostics)
    offices: dict[str, Office] = {}
    codes: dict[str, Location] = {}
    top = r.expect_mapping(root, "offices.yaml")
    if top is not None:
        r.keys(top, "offices.yaml", ("offices",), ("offices",))
        seq = r.expect_sequence(top.get("offices"), "offices")
        for item in seq.items if seq else ():
            mapping = r.expect_mapping(item, "an office")
            if mapping is None:
                continue
            r.keys(
                mapping,
                "an office",
                ("id", "code", "name", "postal_code", "address", "phone", "hours"),
                ("id", "code", "name"),
            )
            office_id = r.identifier(mapping.get("id"), "office id")
            code = r.text(mapping.get("code"), "code")
            name = r.localized(mapping.get("name"), "office name")
            if code is not None and not re.fullmatch(r"\d{5}", code):
                code_node = mapping.get("code")
                assert code_node is not None
                diagnostics.error(
                    code_node.location, f"code '{code}' must be a 5-digit local-government code"
                )
                code = None
            if office_id is None or code is None or name is None:
                continue
            if office_id in offices:
                diagnostics.error(mapping.location, f"duplicate office id '{office_id}'")
                continue
            if code in codes:
                diagnostics.error(
                    mapping.location,
                    f"duplicate office code '{code}' (first at line {codes[code].line})",
                )
                continue
            codes[code] = mapping.location
            offices[office_id] = Office(
                id=office_id,
                code=code,
                name=name,
                location=mapping.location,
                postal_code=r.text(mapping.get("postal_code"), "postal_code"),
                address=r.localized(mapping.get("address"), "address"),
                phone=r.text(mapping.get("phone"), "phone"),
                hours=r.localized(mapping.get("hours"), "hours"),
            )
    return OfficesResult(filename, offices, diagnostics.sorted())


def load_offices_file(path: Path | str) -> OfficesResult:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return OfficesResult(
            str(path),
            {},
            [Diagnostic("error", Location(str(path), 1, 1), f"cannot read offices: {exc}")],
        )
    return load_offices_text(text, str(path))
