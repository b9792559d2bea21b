"""Forms per page, and the server-side check of what was posted.

`page_form_class` builds a wtforms class for rendering a page (labels,
hints, widgets, choices) once per procedure version, page and language.

`validate_page` is the check itself.  It does not go through wtforms'
``validate()``: whether a field is shown, and so whether it is required
and kept, depends on answers of other pages and on values posted on the
same page, which a wtforms validator cannot see.  Because visibility is
evaluated here against the posted values, a page with ``show_if`` works
without JavaScript: every field is rendered, and the ones whose condition
does not hold are dropped on the server.

Nothing here knows Flask: form data is anything with ``getlist`` (or a
plain mapping), files are upload objects with ``filename`` and ``read``
(werkzeug's `FileStorage`) or `forms.registry.Upload`.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import wtforms

from forms.answers import Resolver, input_fields, with_page_values
from forms.messages import Invalid, message
from forms.registry import REGISTRY
from forms.types.base import RESERVED_FIELD_IDS, FieldType, raw_of
from forms.types.files import FileType
from workflow.model import Field, LocalizedText, Page, Procedure, Transition

__all__ = [
    "RESERVED_FIELD_IDS",
    "PageForm",
    "PageResult",
    "Problem",
    "bind_page_form",
    "check_answers",
    "fields_to_render",
    "page_form_class",
    "repeat_errors",
    "transition_page",
    "validate_page",
]


class PageForm(wtforms.Form):  # type: ignore[misc]  # wtforms has no type hints
    """Base of the generated page forms; its fields are named by field id.

    Render-only: `validate_page` is the check.  Ids with a hyphen are not
    Python names, so templates reach every field as ``form[field_id]``.
    """

    _procedure_key: tuple[str, int] = ("", 0)
    _page_id: str = ""
    _language: str = ""


# --- the form classes ---------------------------------------------------------

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str, str], type[PageForm]] = OrderedDict()
_cache_lock = threading.Lock()


def _page(procedure: Procedure, page: Page | str) -> Page:
    return procedure.page(page) if isinstance(page, str) else page


def page_form_class(procedure: Procedure, page: Page | str, language: str) -> type[PageForm]:
    """The wtforms class of `page` in `language`, built once per procedure version."""
    page = _page(procedure, page)
    key = (procedure.fingerprint, page.id, language)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    # Unbound fields keep their creation order, which is the order of the page.
    attributes: dict[str, Any] = {
        f.id: REGISTRY.for_field(f).build_field(f, language) for f in page.fields
    }
    attributes.update(
        _procedure_key=procedure.key,
        _page_id=page.id,
        _language=language,
        __module__=__name__,
        __doc__=f"Page '{page.id}' of {procedure.id} v{procedure.version} ({language}).",
    )
    form_class = type(f"PageForm_{procedure.id}_{page.id}_{language}", (PageForm,), attributes)
    with _cache_lock:
        # Another thread may have built it meanwhile; keep the first so callers agree.
        form_class = _cache.setdefault(key, form_class)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return form_class


def transition_page(transition: Transition) -> Page:
    """The extra inputs of a workflow action (`fields:`) as a page of their own.

    The result works with `page_form_class`, `bind_page_form` and
    `validate_page` like any page; its id (``action:<action>``) cannot
    clash with a page id, which never contains a colon.
    """
    return Page(
        id=f"action:{transition.action}",
        title=transition.label or LocalizedText.plain(transition.action),
        fields=transition.fields,
        location=transition.location,
    )


def fields_to_render(
    procedure: Procedure,
    page: Page | str,
    answers: Mapping[str, Any],
    *,
    today: datetime.date,
    item_index: int | None = None,
) -> list[Field]:
    """The fields of `page` to put in the HTML, in order.

    A field whose `show_if` looks at fields of this same page is always
    rendered: without JavaScript the applicant must be able to fill it in,
    and `validate_page` drops it if its condition does not hold once posted.
    A field whose condition depends only on other pages is rendered only if
    it holds for the answers so far.
    """
    page = _page(procedure, page)
    same_page = {f.id for f in page.fields}
    resolver = Resolver(procedure, answers, today)
    shown = []
    for f in page.fields:
        if f.show_if is None or f.show_if.names & same_page:
            shown.append(f)
        elif page.repeat is not None and item_index is None:
            # A new item: its own fields are empty, so the other pages decide.
            if resolver.truthy(f.show_if, resolver.scope(page, -1), default=True):
                shown.append(f)
        elif resolver.field_visible(f, item_index):
            shown.append(f)
    return shown


def bind_page_form(
    procedure: Procedure,
    page: Page | str,
    language: str,
    *,
    values: Mapping[str, Any] | None = None,
    raw: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> PageForm:
    """A form to render: filled from `raw` (a failed post) or stored `values`, else defaults."""
    page = _page(procedure, page)
    data: dict[str, Any] = {}
    if raw is not None:
        data.update(raw)
    elif values is not None:
        for f in input_fields(page):
            if f.id in values:
                data[f.id] = REGISTRY.for_field(f).to_raw(f, values[f.id])
    form = page_form_class(procedure, page, language)(data=data)
    for field_id, text in (errors or {}).items():
        if field_id in form:
            form[field_id].errors = [text]
    return form


# --- checking a post ------------------------------------------------------------


@dataclass
class PageResult:
    """What `validate_page` found."""

    page_id: str
    #: the item of a repeating page (None for an ordinary page)
    item_index: int | None
    #: field id → stored value, for every visible field whose answer is valid
    values: dict[str, Any] = field(default_factory=dict)
    #: field id → message, in page order
    errors: dict[str, str] = field(default_factory=dict)
    #: field id → what was posted, as wtforms data (files: their stored dicts),
    #: to fill the form again so that nothing typed is lost
    raw: dict[str, Any] = field(default_factory=dict)
    #: problems of the page as a whole (too many items)
    page_errors: list[str] = field(default_factory=list)
    #: storage key → bytes of each newly accepted upload, for the caller to store
    uploads: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.page_errors


class _Empty:
    """Marks an answer left empty (distinct from a stored None)."""


_EMPTY = _Empty()


def _existing(answers: Mapping[str, Any], page: Page, item_index: int | None) -> Mapping[str, Any]:
    if page.repeat is None:
        return answers
    items = answers.get(page.id)
    if isinstance(items, list | tuple) and item_index is not None and item_index < len(items):
        item = items[item_index]
        return item if isinstance(item, Mapping) else {}
    return {}


def validate_page(
    procedure: Procedure,
    page: Page | str,
    formdata: Any,
    *,
    answers: Mapping[str, Any],
    language: str,
    today: datetime.date,
    files: Any = None,
    item_index: int | None = None,
) -> PageResult:
    """Check the post of one page (or one item of a repeating page).

    `answers` are all answers so far, for conditions that look at other
    pages.  A file field with no new upload keeps the files already stored
    for it; a new upload replaces them.
    """
    page = _page(procedure, page)
    if (page.repeat is None) != (item_index is None):
        raise ValueError(
            f"page '{page.id}' "
            + ("repeats: give item_index" if page.repeat else "does not repeat: no item_index")
        )
    result = PageResult(page.id, item_index)
    if page.repeat is not None and item_index is not None and item_index >= page.repeat.max:
        result.page_errors.append(message("repeat.too_many", language, max=page.repeat.max))

    existing = _existing(answers, page, item_index)
    outcomes: dict[str, Any] = {}
    new_uploads: dict[str, list[tuple[dict[str, Any], bytes]]] = {}
    for f in input_fields(page):
        spec = REGISTRY.for_field(f)
        posted_raw = spec.read_raw(f, formdata, files)
        if isinstance(spec, FileType):
            outcome, new_uploads[f.id] = _read_files(spec, f, posted_raw, existing.get(f.id))
            # A file input cannot be filled in again: show what is attached instead.
            result.raw[f.id] = None if isinstance(outcome, _Empty | Invalid) else outcome
        else:
            outcome = _clean(spec, f, posted_raw, today)
            result.raw[f.id] = posted_raw
        outcomes[f.id] = outcome

    # Conditions see this page's answers as posted (refused ones as null).
    posted = {
        f.id: _posted_value(REGISTRY.for_field(f), outcomes[f.id]) for f in input_fields(page)
    }
    items = answers.get(page.id)
    count = len(items) if isinstance(items, list | tuple) else 0
    # An index past the end (a client that skipped ahead) adds one item.
    index = item_index if item_index is None or item_index <= count else count
    merged = with_page_values(procedure, page, answers, posted, item_index=index)
    resolver = Resolver(procedure, merged, today)

    for f in input_fields(page):
        if not resolver.field_visible(f, index):
            continue
        spec = REGISTRY.for_field(f)
        outcome = outcomes[f.id]
        if isinstance(outcome, _Empty):
            if resolver.required(f, index):
                result.errors[f.id] = message(spec.required_key, language)
            else:
                result.values[f.id] = spec.empty()
        elif isinstance(outcome, Invalid):
            result.errors[f.id] = outcome.text(language)
        else:
            result.values[f.id] = outcome
            for described, data in new_uploads.get(f.id, ()):
                result.uploads[described["key"]] = data
    return result


def _clean(spec: FieldType, field: Field, raw: Any, today: datetime.date) -> Any:
    """The stored value, `_EMPTY`, or the `Invalid` refusal."""
    if spec.is_empty(raw):
        return _EMPTY
    try:
        return spec.clean(field, raw, today=today)
    except Invalid as problem:
        return problem


def _read_files(
    spec: FileType, field: Field, uploads: Any, stored: Any
) -> tuple[Any, list[tuple[dict[str, Any], bytes]]]:
    """(outcome as in `_clean`, accepted uploads with their bytes)."""
    if spec.is_empty(uploads):
        # Nothing chosen this time: the files attached before stay attached.
        return (stored if stored else _EMPTY), []
    try:
        accepted = spec.clean_uploads(field, uploads)
    except Invalid as problem:
        return problem, []
    return [described for described, _ in accepted], accepted


def _posted_value(spec: FieldType, outcome: Any) -> Any:
    if isinstance(outcome, _Empty | Invalid):
        return spec.empty()
    return outcome


def repeat_errors(
    procedure: Procedure,
    page: Page | str,
    answers: Mapping[str, Any],
    *,
    language: str,
    today: datetime.date,
) -> list[str]:
    """Messages when a shown repeating page has fewer or more items than `repeat:` allows."""
    page = _page(procedure, page)
    if page.repeat is None:
        return []
    resolver = Resolver(procedure, answers, today)
    if not resolver.page_visible(page):
        return []
    count = len(resolver.items(page))
    if count < page.repeat.min:
        return [message("repeat.too_few", language, min=page.repeat.min)]
    if count > page.repeat.max:
        return [message("repeat.too_many", language, max=page.repeat.max)]
    return []


# --- checking a whole application --------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something to fix before filing: where, and the message."""

    page_id: str
    item_index: int | None
    #: None for a problem of the page as a whole
    field_id: str | None
    message: str


def check_answers(
    procedure: Procedure,
    answers: Mapping[str, Any],
    *,
    language: str,
    today: datetime.date,
) -> list[Problem]:
    """Every problem of the answers as a whole, page by page, before filing.

    Pages are checked one at a time as they are posted, but answers change
    afterwards (a later page shows a field, `today` moves past a date's
    `min: today`), so filing checks everything again: required answers of
    shown fields, stored values against their limits, and repeat counts.
    """
    resolver = Resolver(procedure, answers, today)
    problems: list[Problem] = []
    for page in procedure.pages:
        if not resolver.page_visible(page):
            continue
        if page.repeat is None:
            problems.extend(_check_values(resolver, page, answers, None, language, today))
            continue
        problems.extend(
            Problem(page.id, None, None, text)
            for text in repeat_errors(procedure, page, answers, language=language, today=today)
        )
        for index, item in enumerate(resolver.items(page)):
            problems.extend(_check_values(resolver, page, item, index, language, today))
    return problems


def _check_values(
    resolver: Resolver,
    page: Page,
    values: Mapping[str, Any],
    index: int | None,
    language: str,
    today: datetime.date,
) -> list[Problem]:
    problems = []
    for f in input_fields(page):
        if not resolver.field_visible(f, index):
            continue
        spec = REGISTRY.for_field(f)
        value = values.get(f.id)
        raw = spec.to_raw(f, value) if value is not None else None
        # A file's stored dicts have no raw form; emptiness is "no files".
        empty = not value if isinstance(spec, FileType) else value is None or spec.is_empty(raw)
        if empty:
            if resolver.required(f, index):
                problems.append(Problem(page.id, index, f.id, message(spec.required_key, language)))
            continue
        if isinstance(spec, FileType):
            continue  # checked when uploaded; the bytes are not here
        try:
            spec.clean(f, raw if raw is not None else raw_of(value), today=today)
        except Invalid as problem:
            problems.append(Problem(page.id, index, f.id, problem.text(language)))
    return problems
