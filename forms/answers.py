"""An application's answers: what expressions see, what is shown, what is kept.

The answers of one application are a plain dict:

* field id → value, for the fields of ordinary pages;
* repeating page id → list of items, each a dict field id → value.

Values are `str`, `int`, `Decimal`, `date`, `bool`, `list[str]`
(multi_choice) or a list of file dicts ``{name, size, sha256, mime, key}``.

The contract says a hidden field's value is null and a field that is not
shown is not kept.  Whether a field is shown depends on other answers,
which may themselves be hidden, on this page or on others, so visibility is
resolved lazily (`Resolver`): an expression asks for a name, the name's
field is checked for visibility first (recursively), and a hidden field
answers null.  Cycles (a field shown if another is, which is shown if the
first is) are cut by treating the field under evaluation as shown.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from forms.registry import REGISTRY
from workflow.expressions import Expression, ExpressionError
from workflow.model import Field, Page, Procedure

__all__ = [
    "Resolver",
    "choice_amounts",
    "expression_values",
    "from_json",
    "input_fields",
    "is_visible",
    "prune_hidden",
    "to_json",
    "visible_pages",
    "with_page_values",
    "without_item",
]

log = logging.getLogger(__name__)


def input_fields(page: Page) -> list[Field]:
    """The fields of `page` that take an answer (not notes)."""
    result = []
    for field in page.fields:
        spec = REGISTRY.get(field.type)
        if spec is not None and spec.takes_input:
            result.append(field)
    return result


def choice_amounts(procedure: Procedure) -> dict[str, dict[str, int]]:
    """choice field id → {value: amount}, for `amount_of()` (choices without an amount left out)."""
    amounts: dict[str, dict[str, int]] = {}
    for field in procedure.all_fields():
        if field.type != "choice":
            continue
        priced = {c.value: c.amount for c in field.choices if c.amount is not None}
        if priced:
            amounts[field.id] = priced
    return amounts


def _items(answers: Mapping[str, Any], page: Page) -> list[Mapping[str, Any]]:
    value = answers.get(page.id)
    if not isinstance(value, list | tuple):
        return []
    return [item if isinstance(item, Mapping) else {} for item in value]


def expression_values(
    procedure: Procedure,
    answers: Mapping[str, Any],
    item: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The names an expression sees, read straight from `answers`.

    Top-level fields by id, each repeating page's id as the list of its
    items, and, inside an item, that item's fields shadowing the rest.
    Visibility is not applied: give it `prune_hidden(...)` answers for the
    contract's "a hidden field is null" (or use `Resolver.scope`).
    """
    values: dict[str, Any] = {}
    for page in procedure.pages:
        if page.repeat is not None:
            values[page.id] = [dict(entry) for entry in _items(answers, page)]
        else:
            for field in input_fields(page):
                values[field.id] = answers.get(field.id)
    if item is not None:
        values.update(item)
    return values


class Resolver:
    """Visibility of pages and fields, and expression scopes where hidden means null.

    One resolver answers for one state of the answers; build a new one when
    they change.  `today` is given, never read from the clock, so that a
    result can be reproduced.
    """

    def __init__(
        self, procedure: Procedure, answers: Mapping[str, Any], today: datetime.date
    ) -> None:
        self.procedure = procedure
        self.answers = answers
        self.today = today
        self.amounts = choice_amounts(procedure)
        self._page_of: dict[str, Page] = {}
        self._top_fields: dict[str, Field] = {}
        self._item_fields: dict[str, dict[str, Field]] = {}
        self._repeating: dict[str, Page] = {}
        for page in procedure.pages:
            fields = input_fields(page)
            for field in page.fields:
                self._page_of[field.id] = page
            if page.repeat is not None:
                self._repeating[page.id] = page
                self._item_fields[page.id] = {f.id: f for f in fields}
            else:
                self._top_fields.update((f.id, f) for f in fields)
        self._page_memo: dict[str, bool] = {}
        self._field_memo: dict[tuple[str, int | None], bool] = {}
        self._busy: set[tuple[str, int | None]] = set()

    # --- visibility -----------------------------------------------------------

    def truthy(self, expression: Expression, scope: Mapping[str, Any], *, default: bool) -> bool:
        """Evaluate a condition; `default` when it cannot be evaluated."""
        try:
            return expression.truthy(scope, today=self.today, amounts=self.amounts)
        except ExpressionError as error:
            # The loader has checked the expression, so this is a value it did
            # not foresee; the page must still work, and the log tells why.
            log.warning(
                "%s: cannot evaluate %r: %s", self.procedure.id, expression.source, error.message
            )
            return default

    def page_visible(self, page: Page) -> bool:
        if page.show_if is None:
            return True
        if page.id in self._page_memo:
            return self._page_memo[page.id]
        key = (f"page:{page.id}", None)
        if key in self._busy:
            return True
        self._busy.add(key)
        try:
            # A page's own condition is evaluated outside any item, even on a repeating page.
            result = self.truthy(page.show_if, self.scope(), default=True)
        finally:
            self._busy.discard(key)
        self._page_memo[page.id] = result
        return result

    def field_visible(self, field: Field, item_index: int | None = None) -> bool:
        page = self._page_of.get(field.id)
        if page is not None and not self.page_visible(page):
            return False
        if field.show_if is None:
            return True
        key = (field.id, item_index if page is not None and page.repeat else None)
        if key in self._field_memo:
            return self._field_memo[key]
        if key in self._busy:
            return True
        self._busy.add(key)
        try:
            if page is not None and page.repeat is not None:
                scope = self.scope(page, item_index)
            else:
                scope = self.scope()
            result = self.truthy(field.show_if, scope, default=True)
        finally:
            self._busy.discard(key)
        self._field_memo[key] = result
        return result

    def required(self, field: Field, item_index: int | None = None) -> bool:
        """`required`, or `required_if` holding; only meaningful for a visible field."""
        if field.required:
            return True
        if field.required_if is None:
            return False
        page = self._page_of.get(field.id)
        if page is not None and page.repeat is not None:
            scope = self.scope(page, item_index)
        else:
            scope = self.scope()
        return self.truthy(field.required_if, scope, default=False)

    # --- values ---------------------------------------------------------------

    def items(self, page: Page) -> list[Mapping[str, Any]]:
        """The items of a repeating page as stored (hidden fields not yet nulled)."""
        return _items(self.answers, page)

    def item_values(self, page: Page, index: int) -> dict[str, Any]:
        """One item as expressions see it: its hidden fields are null."""
        items = self.items(page)
        stored = items[index] if 0 <= index < len(items) else {}
        return {
            field.id: stored.get(field.id) if self.field_visible(field, index) else None
            for field in self._item_fields[page.id].values()
        }

    def top_value(self, name: str) -> Any:
        """The value of a top-level name; `KeyError` if the procedure has no such name."""
        if name in self._top_fields:
            field = self._top_fields[name]
            return self.answers.get(name) if self.field_visible(field) else None
        if name in self._repeating:
            page = self._repeating[name]
            if not self.page_visible(page):
                return []
            return [self.item_values(page, i) for i in range(len(self.items(page)))]
        raise KeyError(name)

    def scope(self, page: Page | None = None, item_index: int | None = None) -> Scope:
        """The names an expression sees: top level, or inside item `item_index` of `page`."""
        if page is not None and page.repeat is not None:
            if item_index is None:
                raise ValueError(f"page '{page.id}' repeats: give the item's index")
            return Scope(self, page, item_index)
        return Scope(self, None, None)

    def item_field_value(self, page: Page, item_index: int, name: str) -> Any:
        field = self._item_fields[page.id][name]
        items = self.items(page)
        stored = items[item_index] if 0 <= item_index < len(items) else {}
        return stored.get(name) if self.field_visible(field, item_index) else None

    def names(self, page: Page | None) -> list[str]:
        names = [*self._top_fields, *self._repeating]
        if page is not None and page.repeat is not None:
            names.extend(n for n in self._item_fields[page.id] if n not in names)
        return names

    def is_item_field(self, page: Page | None, name: str) -> bool:
        return page is not None and name in self._item_fields.get(page.id, {})


class Scope(Mapping[str, Any]):
    """A lazy mapping of names to values, resolving visibility only for the names used."""

    def __init__(self, resolver: Resolver, page: Page | None, item_index: int | None) -> None:
        self._resolver = resolver
        self._page = page
        self._index = item_index

    def __getitem__(self, name: str) -> Any:
        if (
            self._page is not None
            and self._index is not None
            and self._resolver.is_item_field(self._page, name)
        ):
            return self._resolver.item_field_value(self._page, self._index, name)
        return self._resolver.top_value(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolver.names(self._page))

    def __len__(self) -> int:
        return len(self._resolver.names(self._page))


# --- the public helpers -------------------------------------------------------


def visible_pages(
    procedure: Procedure, answers: Mapping[str, Any], today: datetime.date
) -> list[Page]:
    """The pages the applicant goes through, in order, given the answers so far."""
    resolver = Resolver(procedure, answers, today)
    return [page for page in procedure.pages if resolver.page_visible(page)]


def is_visible(
    field: Field,
    procedure: Procedure,
    answers: Mapping[str, Any],
    today: datetime.date,
    *,
    item_index: int | None = None,
) -> bool:
    """Whether `field` is shown (its page is shown and its `show_if` holds)."""
    return Resolver(procedure, answers, today).field_visible(field, item_index)


def prune_hidden(
    procedure: Procedure, answers: Mapping[str, Any], today: datetime.date
) -> dict[str, Any]:
    """The answers without what is not shown: hidden pages, hidden fields, unknown keys."""
    resolver = Resolver(procedure, answers, today)
    kept: dict[str, Any] = {}
    for page in procedure.pages:
        if not resolver.page_visible(page):
            continue
        fields = input_fields(page)
        if page.repeat is not None:
            if page.id not in answers:
                continue
            kept[page.id] = [
                {
                    field.id: item[field.id]
                    for field in fields
                    if field.id in item and resolver.field_visible(field, index)
                }
                for index, item in enumerate(resolver.items(page))
            ]
            continue
        for field in fields:
            if field.id in answers and resolver.field_visible(field):
                kept[field.id] = answers[field.id]
    return kept


def with_page_values(
    procedure: Procedure,
    page: Page,
    answers: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    item_index: int | None = None,
) -> dict[str, Any]:
    """New answers with one page's (or one item's) values replaced by `values`.

    For a repeating page, `item_index` equal to the number of items adds one.
    """
    merged = dict(answers)
    if page.repeat is None:
        if item_index is not None:
            raise ValueError(f"page '{page.id}' does not repeat")
        for field in input_fields(page):
            merged.pop(field.id, None)
        merged.update(values)
        return merged
    if item_index is None:
        raise ValueError(f"page '{page.id}' repeats: give the item's index")
    items = [dict(item) for item in _items(answers, page)]
    if item_index == len(items):
        items.append(dict(values))
    elif 0 <= item_index < len(items):
        items[item_index] = dict(values)
    else:
        raise IndexError(f"page '{page.id}' has {len(items)} items, not {item_index + 1}")
    merged[page.id] = items
    return merged


def without_item(
    procedure: Procedure, page: Page, answers: Mapping[str, Any], item_index: int
) -> dict[str, Any]:
    """New answers with one item of a repeating page removed."""
    if page.repeat is None:
        raise ValueError(f"page '{page.id}' does not repeat")
    items = [dict(item) for item in _items(answers, page)]
    del items[item_index]
    merged = dict(answers)
    merged[page.id] = items
    return merged


def to_json(procedure: Procedure, answers: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe answers: dates as ISO text, decimals as text (exact), files as dicts.

    Only the procedure's fields are written; `from_json` reads them back.
    """
    data: dict[str, Any] = {}
    for page in procedure.pages:
        fields = input_fields(page)
        if page.repeat is not None:
            if page.id in answers:
                data[page.id] = [
                    {
                        field.id: REGISTRY.for_field(field).to_json(field, item[field.id])
                        for field in fields
                        if field.id in item
                    }
                    for item in _items(answers, page)
                ]
            continue
        for field in fields:
            if field.id in answers:
                data[field.id] = REGISTRY.for_field(field).to_json(field, answers[field.id])
    return data


def from_json(procedure: Procedure, data: Mapping[str, Any]) -> dict[str, Any]:
    """Answers from `to_json` output (keys the procedure does not know are dropped)."""
    answers: dict[str, Any] = {}
    for page in procedure.pages:
        fields = input_fields(page)
        if page.repeat is not None:
            if page.id in data:
                answers[page.id] = [
                    {
                        field.id: REGISTRY.for_field(field).from_json(field, item[field.id])
                        for field in fields
                        if field.id in item
                    }
                    for item in _items(data, page)
                ]
            continue
        for field in fields:
            if field.id in data:
                answers[field.id] = REGISTRY.for_field(field).from_json(field, data[field.id])
    return answers
