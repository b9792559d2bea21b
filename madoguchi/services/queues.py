"""The office room's queues: who sees what, claiming work, and bulk actions.

An application waits in a queue when its state has `queue: <role>`; a staff
member sees it when they hold that role at the application's office.  The
rule is evaluated per stored procedure version (an application keeps the
version it was filed on), and becomes one SQL condition, so that filtering,
sorting, counting and paging all happen in the database.

Claiming is a compare-and-set in one UPDATE: two clerks clicking "claim" at
once get one winner and one "already taken by ...", on PostgreSQL and on
SQLite alike.  "Next application" picks the most urgent unclaimed row with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that twenty clerks pressing it
at once get twenty different applications.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from madoguchi.catalogue import catalogue
from madoguchi.models import Application, ApplicationEvent, ProcedureVersion, Staff
from madoguchi.services import audit, transitions
from workflow.calendar import default_calendar
from workflow.machine import TransitionError
from workflow.model import Procedure, today_in_japan

__all__ = [
    "PER_PAGE",
    "BulkItem",
    "ClaimResult",
    "QueueError",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "QueueScope",
    "bulk_action",
    "bulk_claim",
    "claim",
    "due_text",
    "filtered_select",
    "handoff",
    "next_application",
    "queue_page",
    "queue_scope",
    "reassign",
    "release",
]

PER_PAGE = 50
TOKYO = datetime.timezone(datetime.timedelta(hours=9))
#: roles that may release anyone's claim and reassign work at their office
SUPERVISOR = "supervisor"


class QueueError(Exception):
    """A queue operation that cannot be done; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- who sees what ----------------------------------------------------------------


def roles_by_office(staff: Staff) -> dict[str, set[str]]:
    """office id → the roles the (active) staff member holds there."""
    found: dict[str, set[str]] = {}
    if not staff.active:
        return found
    for role in staff.roles:
        found.setdefault(role.office_id, set()).add(role.role)
    return found


@dataclass(frozen=True)
class QueueScope:
    """The staff member's queue as one SQL condition, and what the filters can offer."""

    condition: ColumnElement[bool]
    #: state id → its label (the first procedure that has it), for the state filter
    states: dict[str, Any]
    #: procedure id → its title, for the procedure filter
    procedures: dict[str, Any]
    #: version id → procedure, for labelling rows
    versions: dict[int, Procedure]
    offices: list[str]


def queue_scope(session: Session, staff: Staff, *, office: str | None = None) -> QueueScope:
    """Every application of the staff member's offices waiting for one of their roles there."""
    by_office = roles_by_office(staff)
    if office is not None:
        by_office = {k: v for k, v in by_office.items() if k == office}
    clauses: list[ColumnElement[bool]] = []
    states: dict[str, Any] = {}
    procedures: dict[str, Any] = {}
    versions: dict[int, Procedure] = {}
    for version in session.scalars(select(ProcedureVersion).order_by(ProcedureVersion.id)):
        procedure = catalogue().procedure_of(version)
        versions[version.id] = procedure
        grouped: dict[tuple[str, ...], list[str]] = {}
        for office_id, roles in by_office.items():
            waiting = tuple(
                sorted(s.id for s in procedure.workflow.states.values() if s.queue in roles)
            )
            if waiting:
                grouped.setdefault(waiting, []).append(office_id)
        for waiting, offices in grouped.items():
            procedures.setdefault(procedure.id, procedure.title)
            for state_id in waiting:
                states.setdefault(state_id, procedure.workflow.states[state_id].label)
            clauses.append(
                and_(
                    Application.procedure_version_id == version.id,
                    Application.state.in_(waiting),
                    Application.office_id.in_(sorted(offices)),
                )
            )
    return QueueScope(
        condition=or_(*clauses) if clauses else false(),
        states=states,
        procedures=procedures,
        versions=versions,
        offices=sorted(roles_by_office(staff)),
    )


# --- filters, sorting, paging -----------------------------------------------------


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class QueueFilters:
    office: str | None = None
    procedure: str | None = None
    state: str | None = None
    #: "me" | "unassigned" | None
    assigned: str | None = None
    overdue: bool = False
    #: "overdue" | "due_soon" | None
    view: str | None = None
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        """Filters from a query string; anything unrecognised is ignored, never an error."""
        try:
            page = max(1, int(args.get("page") or 1))
        except ValueError:
            page = 1
        assigned = args.get("assigned") or None
        view = args.get("view") or None
        return cls(
            office=args.get("office") or None,
            procedure=args.get("procedure") or None,
            state=args.get("state") or None,
            assigned=assigned if assigned in ("me", "unassigned") else None,
            overdue=args.get("overdue") in ("1", "y", "yes", "on", "true"),
            view=view if view in ("overdue", "due_soon") else None,
            received_from=_date(args.get("received_from")),
            received_to=_date(args.get("received_to")),
            page=page,
        )

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filters as query-string arguments (for links and the export), with changes."""
        values: dict[str, Any] = {
            "office": self.office,
            "procedure": self.procedure,
            "state": self.state,
            "assigned": self.assigned,
            "overdue": "1" if self.overdue else None,
            "view": self.view,
            "received_from": self.received_from.isoformat() if self.received_from else None,
            "received_to": self.received_to.isoformat() if self.received_to else None,
            "page": str(self.page) if self.page > 1 else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def due_soon_limit(today: datetime.date) -> datetime.date:
    """The last due date counted as "due within 2 business days"."""
    return default_calendar().add_business_days(today, 2)


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), TOKYO)


def filtered_select(
    scope: QueueScope,
    filters: QueueFilters,
    staff: Staff,
    *,
    today: datetime.date | None = None,
    with_state: bool = True,
) -> Select[tuple[Application]]:
    """The staff member's queue, narrowed by `filters` (the state filter only if `with_state`)."""
    today = today or today_in_japan()
    conditions: list[ColumnElement[bool]] = [scope.condition]
    if filters.office:
        conditions.append(Application.office_id == filters.office)
    if filters.procedure:
        conditions.append(Application.procedure_id == filters.procedure)
    if filters.state and with_state:
        conditions.append(Application.state == filters.state)
    if filters.assigned == "me":
        conditions.append(Application.assigned_to_id == staff.id)
    elif filters.assigned == "unassigned":
        conditions.append(Application.assigned_to_id.is_(None))
    if filters.overdue or filters.view == "overdue":
        conditions.append(Application.due_date < today)
    if filters.view == "due_soon":
        conditions.append(Application.due_date >= today)
        conditions.append(Application.due_date <= due_soon_limit(today))
    if filters.received_from:
        conditions.append(Application.filed_at >= _start_of(filters.received_from))
    if filters.received_to:
        end = _start_of(filters.received_to + datetime.timedelta(days=1))
        conditions.append(Application.filed_at < end)
    return select(Application).where(*conditions)


def most_urgent_first(query: Select[Any]) -> Select[Any]:
    """Due date ascending (no due date last), then the oldest filing first."""
    return query.order_by(
        Application.due_date.asc().nulls_last(), Application.filed_at.asc(), Application.id.asc()
    )


@dataclass(frozen=True)
class QueueRow:
    application: Application
    procedure: Procedure
    state_label: Any
    assignee: str | None
    #: business days left (>= 0) or None when overdue / no due date
    days_left: int | None
    #: business days overdue (> 0), else 0
    overdue_days: int


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    #: (state id, label, count), for every state of the queue under the other filters
    counts: list[tuple[str, Any, int]]
    scope: QueueScope


def due_text(due: datetime.date | None, today: datetime.date) -> tuple[int | None, int]:
    """(business days left, business days overdue) for a due date."""
    if due is None:
        return None, 0
    calendar = default_calendar()
    if due < today:
        return None, max(calendar.business_days_between(due, today), 1)
    return calendar.business_days_between(today, due), 0


def staff_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all())


def queue_page(
    session: Session,
    staff: Staff,
    filters: QueueFilters,
    *,
    per_page: int = PER_PAGE,
    today: datetime.date | None = None,
) -> QueuePage:
    today = today or today_in_japan()
    scope = queue_scope(session, staff)
    query = filtered_select(scope, filters, staff, today=today)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    applications = list(
        session.scalars(most_urgent_first(query).limit(per_page).offset((page - 1) * per_page))
    )
    names = staff_names(session, (a.assigned_to_id for a in applications))
    rows = []
    for application in applications:
        procedure = scope.versions[application.procedure_version_id]
        left, overdue = due_text(application.due_date, today)
        rows.append(
            QueueRow(
                application=application,
                procedure=procedure,
                state_label=procedure.workflow.states[application.state].label,
                assignee=names.get(application.assigned_to_id or 0),
                days_left=left,
                overdue_days=overdue,
            )
        )
    unstated = filtered_select(scope, filters, staff, today=today, with_state=False).subquery()
    counted = dict(
        session.execute(select(unstated.c.state, func.count()).group_by(unstated.c.state)).all()
    )
    counts = [
        (state_id, label, counted[state_id])
        for state_id, label in scope.states.items()
        if counted.get(state_id)
    ]
    return QueuePage(rows, total, page, pages, counts, scope)


# --- claiming ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    #: claimed | mine (already mine) | taken | missing
    status: str
    application_id: int | None = None
    taken_by: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "claimed"


def _expire(session: Session, application_id: int) -> None:
    """Forget a loaded copy of a row changed behind the ORM's back (row_version moved)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Application) and obj.id == application_id:
            session.expire(obj)


def claim(
    session: Session,
    application_id: int,
    *,
    staff_id: int,
    office_ids: Collection[str],
    now: datetime.datetime | None = None,
) -> ClaimResult:
    """Take an unclaimed application: one compare-and-set UPDATE, so exactly one claimer wins.

    The UPDATE is the first statement of the work (no read before it), which
    also keeps SQLite from refusing to turn a stale read snapshot into a write.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    offices = sorted(office_ids) or [""]
    changed = session.execute(
        update(Application)
        .where(
            Application.id == application_id,
            Application.assigned_to_id.is_(None),
            Application.office_id.in_(offices),
        )
        .values(assigned_to_id=staff_id, assigned_at=now, row_version=Application.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    _expire(session, application_id)
    if changed.rowcount == 1:  # type: ignore[attr-defined]
        receipt = session.scalar(
            select(Application.receipt_number).where(Application.id == application_id)
        )
        audit.record(
            session,
            actor=f"staff:{staff_id}",
            action="application.claim",
            subject=f"application:{receipt}",
            data={"assigned_to": staff_id},
            at=now,
        )
        return ClaimResult("claimed", application_id)
    holder = aliased(Staff)
    found = session.execute(
        select(Application.assigned_to_id, holder.name)
        .outerjoin(holder, holder.id == Application.assigned_to_id)
        .where(Application.id == application_id, Application.office_id.in_(offices))
    ).first()
    if found is None:
        return ClaimResult("missing", application_id)
    if found.assigned_to_id == staff_id:
        return ClaimResult("mine", application_id, found.name)
    return ClaimResult("taken", application_id, found.name or "?")


def next_application(
    session: Session,
    staff: Staff,
    *,
    office: str | None = None,
    attempts: int = 5,
) -> Application | None:
    """Claim the most urgent unclaimed application of the staff member's queue, or None.

    On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``:
    concurrent callers skip each other's candidates instead of queueing on
    them.  SQLite serializes writers, and the compare-and-set claim catches
    the rare loser there, who then tries the next candidate.
    """
    scope = queue_scope(session, staff, office=office)
    query = most_urgent_first(
        select(Application.id).where(scope.condition, Application.assigned_to_id.is_(None))
    ).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    office_ids = sorted(staff.office_ids)
    for _attempt in range(attempts):
        candidate = session.scalar(query)
        if candidate is None:
            return None
        if claim(session, candidate, staff_id=staff.id, office_ids=office_ids).ok:
            return session.get(Application, candidate)
    return None


def release(session: Session, application: Application, staff: Staff) -> None:
    """Give an application back to the queue: its assignee, or a supervisor of its office."""
    if application.assigned_to_id is None:
        raise QueueError(_("This application is not assigned to anyone."))
    if application.assigned_to_id != staff.id and SUPERVISOR not in staff.roles_at(
        application.office_id
    ):
        raise QueueError(
            _("Only the assignee or a supervisor of this office can release it."), status=403
        )
    previous = application.assigned_to_id
    application.assigned_to_id = None
    application.assigned_at = None
    session.flush()
    audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="application.release",
        subject=f"application:{application.receipt_number}",
        data={"was_assigned_to": previous},
    )


def colleagues(session: Session, office_id: str) -> list[Staff]:
    """Active staff holding any role at `office_id`, by name."""
    from madoguchi.models import StaffRole

    return list(
        session.scalars(
            select(Staff)
            .where(
                Staff.disabled_at.is_(None),
                Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.office_id == office_id)),
            )
            .order_by(Staff.name, Staff.id)
        )
    )


def reassign(session: Session, application: Application, staff: Staff, to_staff_id: int) -> Staff:
    """Hand an application to another staff member of its office (supervisors only)."""
    if SUPERVISOR not in staff.roles_at(application.office_id):
        raise QueueError(_("Only a supervisor of this office can reassign work."), status=403)
    target = session.get(Staff, to_staff_id)
    if target is None or not target.roles_at(application.office_id):
        raise QueueError(
            _("That person holds no role at this office and cannot be assigned."), status=422
        )
    previous = application.assigned_to_id
    now = datetime.datetime.now(datetime.UTC)
    application.assigned_to_id = target.id
    application.assigned_at = now
    session.flush()
    audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="application.reassign",
        subject=f"application:{application.receipt_number}",
        data={"from": previous, "to": target.id},
        at=now,
    )
    return target


def handoff(session: Session, application: Application, from_state: str | None) -> None:
    """After an action: an application that moved to another queue (or out of every
    queue) is no longer anyone's; one that stays in the same role's queue keeps its assignee.
    """
    if application.assigned_to_id is None or from_state is None:
        return
    states = transitions.procedure_of(session, application).workflow.states
    before, after = states.get(from_state), states.get(application.state)
    if before is not None and after is not None and before.queue == after.queue and after.queue:
        return
    application.assigned_to_id = None
    application.assigned_at = None
    session.flush()


# --- bulk -------------------------------------------------------------------------


@dataclass
class BulkItem:
    public_id: str
    receipt_number: str
    done: bool
    reason: str = ""


@dataclass
class BulkReport:
    items: list[BulkItem] = field(default_factory=list)
    #: (application id, event) of actions whose transition makes a document
    documents: list[tuple[int, ApplicationEvent, str]] = field(default_factory=list)

    @property
    def done(self) -> list[BulkItem]:
        return [i for i in self.items if i.done]

    @property
    def skipped(self) -> list[BulkItem]:
        return [i for i in self.items if not i.done]


def _selected(session: Session, staff: Staff, public_ids: Iterable[str]) -> list[Any]:
    """(public id, Application or None) in the order chosen, duplicates dropped."""
    wanted = list(dict.fromkeys(p for p in public_ids if p))
    found = {
        a.public_id: a
        for a in session.scalars(
            select(Application).where(
                Application.public_id.in_(wanted or [""]),
                Application.office_id.in_(sorted(staff.office_ids) or [""]),
            )
        )
    }
    return [(p, found.get(p)) for p in wanted]


def bulk_claim(session: Session, staff: Staff, public_ids: Iterable[str]) -> BulkReport:
    """Claim each selected application, each in its own SAVEPOINT."""
    report = BulkReport()
    office_ids = sorted(staff.office_ids)
    for public_id, application in _selected(session, staff, public_ids):
        if application is None:
            report.items.append(BulkItem(public_id, public_id, False, _("not found")))
            continue
        receipt = application.receipt_number
        with session.begin_nested():
            result = claim(session, application.id, staff_id=staff.id, office_ids=office_ids)
        if result.ok:
            report.items.append(BulkItem(public_id, receipt, True))
        elif result.status == "mine":
            report.items.append(BulkItem(public_id, receipt, False, _("already yours")))
        else:
            report.items.append(
                BulkItem(
                    public_id,
                    receipt,
                    False,
                    _("already taken by %(name)s", name=result.taken_by or "?"),
                )
            )
    return report


def bulk_action(
    session: Session,
    staff: Staff,
    public_ids: Iterable[str],
    action: str,
    *,
    comment: str | None,
) -> BulkReport:
    """Take `action` with one comment on each selected application, each in its own SAVEPOINT.

    State and permission are checked again per item; an item someone else
    has claimed is skipped rather than taken from them.
    """
    report = BulkReport()
    actor = f"staff:{staff.id}"
    for public_id, application in _selected(session, staff, public_ids):
        if application is None:
            report.items.append(BulkItem(public_id, public_id, False, _("not found")))
            continue
        receipt = application.receipt_number
        if application.assigned_to_id not in (None, staff.id):
            holder = staff_names(session, [application.assigned_to_id])
            report.items.append(
                BulkItem(
                    public_id,
                    receipt,
                    False,
                    _(
                        "assigned to %(name)s",
                        name=holder.get(application.assigned_to_id or 0, "?"),
                    ),
                )
            )
            continue
        try:
            with session.begin_nested():
                event = transitions.take_action(
                    session,
                    application,
                    action,
                    roles=staff.roles_at(application.office_id),
                    actor=actor,
                    comment=comment,
                )
                handoff(session, application, event.from_state)
        except TransitionError as error:
            report.items.append(BulkItem(public_id, receipt, False, error.message))
            continue
        except (transitions.Conflict, StaleDataError):
            session.expire(application)
            report.items.append(
                BulkItem(public_id, receipt, False, _("the application changed meanwhile"))
            )
            continue
        report.items.append(BulkItem(public_id, receipt, True))
        procedure = transitions.procedure_of(session, application)
        transition = next(procedure.transition(action), None)
        if transition is not None and transition.document:
            report.documents.append((application.id, event, transition.document))
    return report
