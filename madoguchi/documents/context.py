"""What document templates see: plain values, already localized and formatted.

Templates are written by administrators and run in a sandbox, so they get
small frozen records rather than database rows: no lazy loading, no way to
reach the session, and every value already in the applicant's language.
`display_rows` is also what the check-your-answers page shows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from forms.answers import Resolver, from_json, input_fields
from forms.fees import FeeError, compute_fee
from forms.normalise import ERAS
from forms.registry import REGISTRY
from madoguchi.documents.render import DocumentError
from madoguchi.models import Application, ApplicationEvent
from workflow.model import Field, LocalizedText, Office, Procedure, Transition, today_in_japan

__all__ = [
    "TOKYO",
    "ActionInfo",
    "ApplicationInfo",
    "AttachmentInfo",
    "DisplayRow",
    "FeeRow",
    "HistoryEntry",
    "OfficeInfo",
    "ProcedureInfo",
    "action_info",
    "display_rows",
    "display_value",
    "document_context",
    "format_date",
    "localizer",
    "mask",
]

#: Japan has kept +09:00 all year since 1951, so a fixed offset is exact
#: and needs no time zone database on the server.
TOKYO = datetime.timezone(datetime.timedelta(hours=9), "JST")

MASK = "●●●●"

_WORDS: dict[str, dict[str, str]] = {
    "item": {"ja": "{title} {n}", "en": "{title} {n}"},
    "filed": {"ja": "申請", "en": "Filed"},
    "applicant": {"ja": "申請者", "en": "Applicant"},
    "system": {"ja": "システム", "en": "System"},
}


def _word(key: str, lang: str) -> str:
    texts = _WORDS[key]
    return texts.get(lang) or texts["ja"]


def localizer(lang: str) -> Callable[[Any], str]:
    """`t(x)` for templates: a LocalizedText, a {lang: text} mapping or a plain value."""

    def t(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, LocalizedText):
            return value.get(lang)
        if isinstance(value, Mapping):
            found = value.get(lang) or value.get("ja") or next(iter(value.values()), "")
            return str(found)
        return str(value)

    return t


# --- values for people -------------------------------------------------------------


def format_date(value: datetime.date, lang: str) -> str:
    """令和8年11月25日 in Japanese (元年 for an era's first year), 2026-11-25 otherwise."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if lang == "ja":
        for era in ERAS:
            if value >= era.start:
                year = value.year - era.start.year + 1
                return f"{era.name}{'元' if year == 1 else year}年{value.month}月{value.day}日"
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def mask(text: str) -> str:
    """●●●● and the last four characters (nothing of a value that short)."""
    compact = "".join(text.split())
    return MASK + compact[-4:] if len(compact) > 4 else MASK


def is_sensitive(field: Field) -> bool:
    spec = REGISTRY.get(field.type)
    return field.sensitive or bool(spec is not None and spec.always_sensitive)


def display_value(field: Field, value: Any, *, lang: str, mask_sensitive: bool = True) -> str:
    """One stored answer as people read it; empty text for no answer."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, datetime.date):
        text = format_date(value, lang)
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    elif isinstance(value, Decimal):
        text = f"{value.normalize():,f}"
    else:
        text = REGISTRY.for_field(field).display(field, value, lang)
    if mask_sensitive and is_sensitive(field):
        return mask(text)
    return text


@dataclass(frozen=True)
class DisplayRow:
    #: the page title, or "title n" for item n of a repeating page (one group per item)
    page: str
    label: str
    value: str
    page_id: str
    field_id: str
    #: the item of a repeating page, from 0 (None on an ordinary page)
    item_index: int | None = None


def display_rows(
    procedure: Procedure,
    answers: Mapping[str, Any],
    *,
    lang: str,
    mask_sensitive: bool = True,
    today: datetime.date | None = None,
) -> list[DisplayRow]:
    """The answers as rows for people, page by page, leaving out what is not shown.

    `answers` are stored values (`forms.answers.from_json` of the JSON).
    Visibility is judged as of `today` (the filing date for a filed
    application), since conditions such as `age(...)` depend on it.
    """
    resolver = Resolver(procedure, answers, today or today_in_japan())
    rows: list[DisplayRow] = []
    for page in procedure.pages:
        if not resolver.page_visible(page):
            continue
        title = page.title.get(lang)
        fields = [f for f in input_fields(page) if f.label is not None]
        if page.repeat is None:
            for field_ in fields:
                if resolver.field_visible(field_):
                    value = display_value(
                        field_, answers.get(field_.id), lang=lang, mask_sensitive=mask_sensitive
                    )
                    rows.append(DisplayRow(title, _label(field_, lang), value, page.id, field_.id))
            continue
        for index, item in enumerate(resolver.items(page)):
            group = _word("item", lang).format(title=title, n=index + 1)
            for field_ in fields:
                if resolver.field_visible(field_, index):
                    value = display_value(
                        field_, item.get(field_.id), lang=lang, mask_sensitive=mask_sensitive
                    )
                    rows.append(
                        DisplayRow(group, _label(field_, lang), value, page.id, field_.id, index)
                    )
    return rows


def _label(field_: Field, lang: str) -> str:
    return field_.label.get(lang) if field_.label else field_.id


# --- the records templates get -------------------------------------------------------


@dataclass(frozen=True)
class ProcedureInfo:
    id: str
    version: int
    title: str


@dataclass(frozen=True)
class OfficeInfo:
    name: str
    address: str
    postal_code: str
    phone: str


@dataclass(frozen=True)
class AttachmentInfo:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime.datetime
    label: str
    actor: str
    comment: str | None


@dataclass(frozen=True)
class FeeRow:
    label: str
    #: yen per unit
    unit: int
    quantity: int
    amount: int


@dataclass(frozen=True)
class ApplicationInfo:
    receipt_number: str
    #: in Japan time
    filed_at: datetime.datetime
    state_label: str
    answers: tuple[DisplayRow, ...]
    attachments: tuple[AttachmentInfo, ...]
    history: tuple[HistoryEntry, ...]
    fee_lines: tuple[FeeRow, ...]
    fee_total: int
    applicant_name: str
    due_date: datetime.date | None


@dataclass(frozen=True)
class ActionInfo:
    """The decision a document is issued for (empty when there is none)."""

    label: str = ""
    comment: str | None = None
    #: the action's own fields: dates as dates, numbers as numbers, choices by label
    fields: Mapping[str, Any] = field(default_factory=dict)
    actor_name: str = ""
    at: datetime.datetime | None = None
    action: str = ""
    #: field id → the field's label in the document's language
    labels: Mapping[str, str] = field(default_factory=dict)


def in_tokyo(moment: datetime.datetime) -> datetime.datetime:
    # SQLite hands back the stored UTC time without its zone.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(TOKYO)


def _transition(procedure: Procedure, action: str) -> Transition | None:
    return next(procedure.transition(action), None)


def _action_label(procedure: Procedure, action: str, lang: str) -> str:
    if action == "file":
        return _word("filed", lang)
    transition = _transition(procedure, action)
    return transition.display_label(lang) if transition else action


def _actor(event: ApplicationEvent, lang: str) -> str:
    if event.actor:
        return event.actor
    if event.by_role in ("applicant", "system"):
        return _word(event.by_role, lang)
    return event.by_role or ""


def _action_field_value(field_: Field | None, value: Any, lang: str) -> Any:
    """Typed values for the template's own formatting (dates, yen); choices by their label."""
    if field_ is None or value is None:
        return value
    spec = REGISTRY.for_field(field_)
    try:
        typed = spec.from_json(field_, value)
    except (TypeError, ValueError):
        return value
    if field_.type in ("choice", "multi_choice", "boolean", "file"):
        return spec.display(field_, typed, lang)
    return typed


def action_info(
    procedure: Procedure, event: ApplicationEvent | ActionInfo | None, *, lang: str
) -> ActionInfo:
    """The action a document is issued for; an `ActionInfo` (a preview) is taken as it is."""
    if event is None:
        return ActionInfo()
    if isinstance(event, ActionInfo):
        return event
    transition = _transition(procedure, event.action)
    by_id = {f.id: f for f in transition.fields} if transition else {}
    fields = {
        key: _action_field_value(by_id.get(key), value, lang)
        for key, value in (event.fields or {}).items()
    }
    return ActionInfo(
        label=_action_label(procedure, event.action, lang),
        comment=event.comment,
        fields=fields,
        actor_name=event.actor or "",
        at=in_tokyo(event.at) if event.at else None,
        action=event.action,
        labels={f.id: f.label.get(lang) for f in by_id.values() if f.label is not None},
    )


def _fee(
    procedure: Procedure, answers: Mapping[str, Any], filed_on: datetime.date, lang: str
) -> tuple[tuple[FeeRow, ...], int]:
    try:
        quote = compute_fee(procedure, answers, filed_on)
    except FeeError as error:
        raise DocumentError(f"the fee cannot be computed: {error}") from None
    rows = tuple(FeeRow(q.label.get(lang), q.unit, q.quantity, q.amount) for q in quote.lines)
    return rows, quote.total


def document_context(
    application: Application,
    procedure: Procedure,
    office: Office,
    *,
    lang: str,
    action: ApplicationEvent | ActionInfo | None = None,
    issued_on: datetime.date | None = None,
    mask_sensitive: bool = True,
) -> dict[str, Any]:
    """Everything a document template uses, in `lang`.

    `action` is the event of the decision the document is issued for (or an
    `ActionInfo`, to preview a document before the decision is recorded).
    Sensitive answers are masked unless `mask_sensitive` is False (only for
    the back office's own copy).  The fee is recomputed from the answers as
    of the filing date, so its lines and total always agree.
    """
    t = localizer(lang)
    filed_at = in_tokyo(application.filed_at)
    answers = from_json(procedure, application.answers or {})
    state = procedure.workflow.states.get(application.state)
    fee_lines, fee_total = _fee(procedure, answers, filed_at.date(), lang)
    info = ApplicationInfo(
        receipt_number=application.receipt_number,
        filed_at=filed_at,
        state_label=state.label.get(lang) if state else application.state,
        answers=tuple(
            display_rows(
                procedure,
                answers,
                lang=lang,
                mask_sensitive=mask_sensitive,
                today=filed_at.date(),
            )
        ),
        attachments=tuple(
            AttachmentInfo(f.name, f.size, f.sha256) for f in (application.files or [])
        ),
        history=tuple(
            HistoryEntry(
                at=in_tokyo(e.at),
                label=_action_label(procedure, e.action, lang),
                actor=_actor(e, lang),
                comment=e.comment,
            )
            for e in (application.events or [])
        ),
        fee_lines=fee_lines,
        fee_total=fee_total,
        applicant_name=application.applicant_name or "",
        due_date=application.due_date,
    )
    return {
        "lang": lang,
        "t": t,
        "procedure": ProcedureInfo(procedure.id, procedure.version, t(procedure.title)),
        "office": OfficeInfo(
            name=t(office.name),
            address=t(office.address),
            postal_code=office.postal_code or "",
            phone=office.phone or "",
        ),
        "application": info,
        "action": action_info(procedure, action, lang=lang),
        "issued_on": issued_on or today_in_japan(),
    }
