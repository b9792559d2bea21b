"""What a form page shows, for any room that files: residents online, clerks at the counter.

`page_context` gathers the bound form, the fields to render, files already
uploaded, labels for the error summary and everything else a page template
needs; each room renders it with its own template and URLs.
"""

from __future__ import annotations

from typing import Any

from forms.builder import bind_page_form, fields_to_render
from madoguchi.models import Draft
from madoguchi.services import drafts, proxy
from workflow.model import Page, Procedure, today_in_japan


def page_context(
    procedure: Procedure,
    draft: Draft,
    page: Page,
    *,
    language: str,
    item_index: int | None = None,
    values: dict[str, Any] | None = None,
    raw: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    page_errors: list[str] | None = None,
) -> dict[str, Any]:
    """The template context of one form page (or one item of a repeating page)."""
    owner_procedure = proxy.PROCEDURE if page is proxy.PAGE else procedure
    answers = (
        proxy.from_json(draft.proxy or {})
        if page is proxy.PAGE
        else drafts.answers_of(procedure, draft)
    )
    form = bind_page_form(owner_procedure, page, language, values=values, raw=raw, errors=errors)
    fields = fields_to_render(
        owner_procedure, page, answers, today=today_in_japan(), item_index=item_index
    )
    return {
        "procedure": procedure,
        "draft": draft,
        "page": page,
        "form": form,
        "fields": fields,
        "item_index": item_index,
        "errors": errors or {},
        "page_errors": page_errors or [],
        "existing_files": {
            f.id: (values or {}).get(f.id) or [] for f in fields if f.type == "file"
        },
        "labels": {f.id: f.label.get(language) for f in fields if f.label is not None},
    }
