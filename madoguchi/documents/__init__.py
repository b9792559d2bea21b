"""Documents (PDF) of an application: receipts, decisions, the back office's copy.

Importing this package does not import WeasyPrint; the first PDF does.
"""

from madoguchi.documents.context import (
    ActionInfo,
    DisplayRow,
    display_rows,
    display_value,
    document_context,
    format_date,
    mask,
)
from madoguchi.documents.render import (
    DocumentError,
    FetchRefused,
    html_to_pdf,
    render_html,
    render_pdf,
    safe_fetcher,
    template_sha256,
)
from madoguchi.documents.service import (
    application_pdf,
    builtin_templates_dir,
    document_pdf,
    ensure_document,
    receipt_pdf,
    store_document,
    template_for,
)

__all__ = [
    "ActionInfo",
    "DisplayRow",
    "DocumentError",
    "FetchRefused",
    "application_pdf",
    "builtin_templates_dir",
    "display_rows",
    "display_value",
    "document_context",
    "document_pdf",
    "ensure_document",
    "format_date",
    "html_to_pdf",
    "mask",
    "receipt_pdf",
    "render_html",
    "render_pdf",
    "safe_fetcher",
    "store_document",
    "template_for",
    "template_sha256",
]
