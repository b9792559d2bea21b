"""The office room's work: queues, one application, bulk actions, export, counter filing.

    /office/queue                                   the queue (filters, views, paging, bulk form)
    /office/export.csv                              the filtered queue as CSV
    /office/next                                    claim the most urgent unclaimed one (POST)
    /office/bulk                                    claim / act on a selection (POST)
    /office/applications/<id>                       work one application
    /office/applications/<id>/claim|release|reassign                                     (POST)
    /office/applications/<id>/actions/<action>      take a workflow action (POST)
    /office/applications/<id>/notes                 add an internal note (POST)
    /office/applications/<id>/reveal                show one sensitive answer, audited (POST)
    /office/applications/<id>/files/<file>[/preview]  an attachment (download / inline)
    /office/applications/<id>/documents/<doc>       a generated PDF
    /office/applications/<id>/documents/<kind>/make  make a pending decision PDF now (POST)
    /office/counter...                              counter filing (代行入力), see `counter`

The queue lives at /office/queue because /office/ is the room's home page
(`auth`); after login, staff land on the queue.  Every view needs a logged-in
staff member; an application of an office where they hold no role is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from madoguchi.office import counter, queue, work


def register(bp: Blueprint) -> None:
    get, post, both = ["GET"], ["POST"], ["GET", "POST"]
    app_ = "/applications/<public_id>"
    rules: list[tuple[str, str, Any, list[str]]] = [
        ("/queue", "queue", queue.queue, get),
        ("/export.csv", "export_csv", queue.export_csv, get),
        ("/next", "next_application", queue.next_application, post),
        ("/bulk", "bulk", queue.bulk, post),
        (app_, "application", work.application, get),
        (f"{app_}/claim", "claim", work.claim, post),
        (f"{app_}/release", "release", work.release, post),
        (f"{app_}/reassign", "reassign", work.reassign, post),
        (f"{app_}/actions/<action>", "act", work.act, post),
        (f"{app_}/notes", "add_note", work.add_note, post),
        (f"{app_}/reveal", "reveal", work.reveal, post),
        (f"{app_}/files/<file_id>", "attachment", work.attachment, get),
        (f"{app_}/files/<file_id>/preview", "attachment_preview", work.attachment_preview, get),
        (f"{app_}/documents/<document_id>", "document", work.document, get),
        (f"{app_}/documents/<kind>/make", "make_document", work.make_document, post),
        ("/counter", "counter", counter.choose, get),
        ("/counter/start", "counter_start", counter.start, post),
        ("/counter/drafts/<draft_id>", "counter_next", counter.draft_next, get),
        ("/counter/drafts/<draft_id>/delete", "counter_delete", counter.delete, post),
        ("/counter/drafts/<draft_id>/review", "counter_review", counter.review, get),
        ("/counter/drafts/<draft_id>/file", "counter_file", counter.file, post),
        ("/counter/drafts/<draft_id>/pages/<page_id>", "counter_page", counter.page, both),
        (
            "/counter/drafts/<draft_id>/pages/<page_id>/items/<int:index>",
            "counter_item",
            counter.item,
            both,
        ),
        (
            "/counter/drafts/<draft_id>/pages/<page_id>/items/<int:index>/remove",
            "counter_remove_item",
            counter.remove_item,
            post,
        ),
        ("/counter/filed/<public_id>", "counter_filed", counter.filed, get),
    ]
    for rule, endpoint, view, methods in rules:
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=methods)
