"""URL map of the resident's room: the catalogue, filing, and my applications."""

from __future__ import annotations

from flask import Blueprint

from madoguchi.resident import applications, auth, filing, views

bp = Blueprint("resident", __name__, template_folder="templates")


def route(rule: str, endpoint: str, view: object, methods: tuple[str, ...] = ("GET",)) -> None:
    bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=list(methods))  # type: ignore[arg-type]


# The catalogue
route("/", "catalogue", views.catalogue)
route("/procedures/<procedure_id>", "procedure", views.procedure)

# Accounts, the card app login and guests
auth.register(bp)

# Filing: drafts, pages, repeating items, check your answers, file
route("/procedures/<procedure_id>/start", "start", filing.start, ("POST",))
route("/drafts", "my_drafts", filing.my_drafts)
route("/drafts/<draft_id>", "draft_next", filing.draft_next)
route("/drafts/<draft_id>/delete", "delete_draft", filing.delete_draft, ("POST",))
route("/drafts/<draft_id>/review", "review", filing.review)
route("/drafts/<draft_id>/file", "file", filing.file, ("POST",))
route("/drafts/<draft_id>/pages/<page_id>", "page", filing.page, ("GET", "POST"))
route("/drafts/<draft_id>/pages/<page_id>/items/<int:index>", "item", filing.item, ("GET", "POST"))
route(
    "/drafts/<draft_id>/pages/<page_id>/items/<int:index>/remove",
    "remove_item",
    filing.remove_item,
    ("POST",),
)

# My applications
route("/applications", "my_applications", applications.my_applications)
route("/applications/<application_id>", "application", applications.detail)
route("/applications/<application_id>/receipt", "receipt", applications.receipt)
route("/applications/<application_id>/receipt.pdf", "receipt_pdf", applications.receipt_pdf)
route("/applications/<application_id>/documents/<document_id>", "document", applications.document)
route("/applications/<application_id>/files/<file_id>", "attachment", applications.attachment)
route("/applications/<application_id>/actions/<action>", "act", applications.act, ("POST",))
route(
    "/applications/<application_id>/correction",
    "correction",
    applications.start_correction,
    ("POST",),
)
