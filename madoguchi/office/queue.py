"""The queue: filters, views, paging, counts; "next application"; bulk actions; CSV export."""

from __future__ import annotations

import datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from madoguchi import db
from madoguchi.i18n import current_language
from madoguchi.office.common import me
from madoguchi.services import exports, queues, transitions
from madoguchi.services.staff import staff_required
from workflow.model import Procedure, Transition, today_in_japan


def _bulk_actions(procedures: list[Procedure], roles: set[str]) -> list[tuple[str, str]]:
    """(action id, label) of staff actions one comment is enough for, across `procedures`."""
    found: dict[str, str] = {}
    language = current_language()
    for procedure in procedures:
        for transition in procedure.workflow.transitions:
            if _bulk_capable(transition, roles):
                found.setdefault(transition.action, transition.display_label(language))
    return sorted(found.items(), key=lambda item: item[1])


def _bulk_capable(transition: Transition, roles: set[str]) -> bool:
    if transition.on or transition.after or not set(transition.by) & roles:
        return False
    return not any(f.required or f.required_if for f in transition.fields)


@staff_required
def queue() -> ResponseReturnValue:
    staff = me()
    session = db.session()
    filters = queues.QueueFilters.from_args(request.args)
    today = today_in_japan()
    page = queues.queue_page(session, staff, filters, today=today)
    all_roles = {r for roles in queues.roles_by_office(staff).values() for r in roles}
    procedures = list({id(r.procedure): r.procedure for r in page.rows}.values())
    return render_template(
        "office/queue.html",
        page=page,
        filters=filters,
        today=today,
        bulk_actions=_bulk_actions(procedures, all_roles),
        export_args=filters.query_args(page=None),
    )


@staff_required
def export_csv() -> ResponseReturnValue:
    staff = me()
    session = db.session()
    filters = queues.QueueFilters.from_args(request.args)
    scope = queues.queue_scope(session, staff)
    applications = session.scalars(
        queues.most_urgent_first(queues.filtered_select(scope, filters, staff))
    )
    text = exports.export_csv(session, staff, applications, scope.versions, lang=current_language())
    db.commit()
    stamp = datetime.datetime.now(queues.TOKYO).strftime("%Y%m%d-%H%M")
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="madoguchi-queue-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@staff_required
def next_application() -> ResponseReturnValue:
    staff = me()
    office = request.form.get("office") or None
    if office is not None and office not in staff.office_ids:
        office = None
    application = queues.next_application(db.session(), staff, office=office)
    db.commit()
    if application is None:
        flash(_("No unclaimed application is waiting in your queue."), "info")
        return redirect(url_for("office.queue"))
    flash(_("You took %(receipt)s.", receipt=application.receipt_number), "success")
    return redirect(url_for("office.application", public_id=application.public_id))


@staff_required
def bulk() -> ResponseReturnValue:
    staff = me()
    session = db.session()
    selected = request.form.getlist("selected")
    operation = request.form.get("operation")
    if not selected:
        flash(_("Select at least one application first."), "error")
        return redirect(url_for("office.queue"))
    if operation == "claim":
        report = queues.bulk_claim(session, staff, selected)
        title = _("Claim selected")
    elif operation == "action" and request.form.get("action"):
        action = request.form["action"]
        report = queues.bulk_action(
            session, staff, selected, action, comment=request.form.get("comment")
        )
        title = _("Apply an action to selected")
        for application_id, event, kind in report.documents:
            transitions.document_after_commit(application_id, event.id, kind)
    else:
        flash(_("Choose what to do with the selected applications."), "error")
        return redirect(url_for("office.queue"))
    db.commit()
    return render_template("office/bulk_report.html", report=report, title=title)
