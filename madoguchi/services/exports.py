"""CSV export of a (filtered) queue, for spreadsheets.

The file is UTF-8 with a byte-order mark (so that Excel opens Japanese
text correctly), one header row, one row per application: receipt number,
procedure, state, office, filed at, due date, assignee, applicant name, then
one column per answer, titled with the field's label (answers of a
repeating page are joined with "; ", item by item).

Sensitive answers (fields with `sensitive: true` and the always-sensitive
types such as `my_number`) are left out unless the exporting staff member
holds the role `admin` or `supervisor` at the row's office: a sensitive
column appears only when at least one exported row may carry it, and stays
empty in the rows of offices where the exporter holds neither role.  Every
export is written to the audit log, with whether sensitive values were in it.

A cell whose text would start a spreadsheet formula (``=``, ``+``, ``-``,
``@``, tab or carriage return; plain signed numbers and phone numbers such
as ``+81...`` excepted) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from forms.answers import from_json
from madoguchi.catalogue import catalogue
from madoguchi.documents.context import display_rows, in_tokyo, is_sensitive
from madoguchi.models import Application, Staff
from madoguchi.services import audit
from madoguchi.services.queues import staff_names
from workflow.model import Procedure

__all__ = ["SENSITIVE_ROLES", "export_csv", "may_see_sensitive"]

#: roles at an office that may export that office's sensitive answers
SENSITIVE_ROLES = frozenset({"admin", "supervisor"})
BOM = "\ufeff"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-][0-9][0-9 ().-]*$")


def may_see_sensitive(staff: Staff, office_id: str) -> bool:
    return bool(staff.roles_at(office_id) & SENSITIVE_ROLES)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA) and not _NUMBER.match(text):
        return "'" + text
    return text


def export_csv(
    session: Session,
    staff: Staff,
    applications: Iterable[Application],
    versions: dict[int, Procedure],
    *,
    lang: str,
) -> str:
    """The CSV text (with BOM) of `applications`, sensitive answers by the rule above."""
    offices = catalogue().offices()
    listed = list(applications)
    names = staff_names(session, (a.assigned_to_id for a in listed))
    columns: list[str] = []
    records: list[tuple[list[str], dict[str, str]]] = []
    sensitive_included = False
    for application in listed:
        procedure = versions[application.procedure_version_id]
        privileged = may_see_sensitive(staff, application.office_id)
        answers = from_json(procedure, application.answers or {})
        filed = in_tokyo(application.filed_at)
        values: dict[str, list[str]] = {}
        for row in display_rows(
            procedure, answers, lang=lang, mask_sensitive=False, today=filed.date()
        ):
            if is_sensitive(procedure.field(row.field_id)):
                if not privileged:
                    continue
                sensitive_included = True
            if row.label not in values and row.label not in columns:
                columns.append(row.label)
            values.setdefault(row.label, []).append(row.value)
        office = offices.get(application.office_id)
        state = procedure.workflow.states.get(application.state)
        fixed = [
            application.receipt_number,
            procedure.title.get(lang),
            state.label.get(lang) if state else application.state,
            office.name.get(lang) if office else application.office_id,
            filed.strftime("%Y-%m-%d %H:%M"),
            application.due_date.isoformat() if application.due_date else "",
            names.get(application.assigned_to_id or 0, ""),
            application.applicant_name or "",
        ]
        records.append((fixed, {k: "; ".join(v) for k, v in values.items()}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("Receipt number"),
            _("Procedure"),
            _("State"),
            _("Office"),
            _("Filed at"),
            _("Due date"),
            _("Assignee"),
            _("Applicant name"),
            *columns,
        ]
    )
    for fixed, answers in records:
        writer.writerow([_cell(v) for v in fixed] + [_cell(answers.get(c, "")) for c in columns])
    audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="applications.export",
        subject=None,
        data={"count": len(listed), "sensitive": sensitive_included},
        at=datetime.datetime.now(datetime.UTC),
    )
    return BOM + out.getvalue()
