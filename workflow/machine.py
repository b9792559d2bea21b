"""The state machine that runs a procedure's `workflow:`.

Given where a case stands, who is acting (their roles at the case's office)
and the answers, it lists the actions allowed now and applies one, returning
the new state and an event record.  It knows nothing of storage: the
application layer loads the case, calls `apply`, and stores the `Event` in
the same transaction as the new state.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workflow.calendar import BusinessCalendar, default_calendar
from workflow.expressions import ExpressionError
from workflow.model import Procedure, State, Transition, japan_date
from workflow.model import today_in_japan as _today


class TransitionError(Exception):
    """An action cannot be taken; `code` says why, for the UI and the API."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field_errors: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_errors = dict(field_errors or {})


@dataclass(frozen=True)
class Event:
    """What happened: stored as the case's history and audit record."""

    action: str
    from_state: str
    to_state: str
    by_role: str
    at: datetime.datetime
    actor: str | None = None
    comment: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    document: str | None = None
    sign: bool = False
    notify: tuple[str, ...] = ()
    edit: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "from": self.from_state,
            "to": self.to_state,
            "by_role": self.by_role,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "comment": self.comment,
            "fields": dict(self.fields),
            "document": self.document,
            "sign": self.sign,
            "notify": list(self.notify),
            "edit": list(self.edit),
        }


@dataclass(frozen=True)
class DueTimer:
    transition: Transition
    due: datetime.date


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, tuple, dict)) and not value)


class StateMachine:
    def __init__(self, procedure: Procedure, *, calendar: BusinessCalendar | None = None) -> None:
        self.procedure = procedure
        self.workflow = procedure.workflow
        self.calendar = calendar or default_calendar()

    def state(self, state_id: str) -> State:
        try:
            return self.workflow.states[state_id]
        except KeyError:
            raise TransitionError("unknown_state", f"unknown state '{state_id}'") from None

    def _condition_holds(
        self,
        transition: Transition,
        values: Mapping[str, Any],
        today: datetime.date,
        amounts: Mapping[str, Mapping[str, int]] | None,
    ) -> bool:
        if transition.if_ is None:
            return True
        try:
            return transition.if_.truthy(values, today=today, amounts=amounts)
        except ExpressionError:
            # A condition that cannot be evaluated on these answers does not hold.
            return False

    def candidates(self, state_id: str, roles: Collection[str]) -> list[Transition]:
        """Transitions out of `state_id` that one of `roles` may take, conditions aside."""
        self.state(state_id)
        return [
            t
            for t in self.workflow.outgoing(state_id)
            if any(role in t.by for role in roles) and (t.by != ("system",) or "system" in roles)
        ]

    def allowed(
        self,
        state_id: str,
        roles: Collection[str],
        values: Mapping[str, Any],
        *,
        today: datetime.date | None = None,
        amounts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> list[Transition]:
        """The actions an actor holding `roles` may take now, in file order.

        System transitions (timers, payment events) are never offered to a
        person; they are fired by `timers_due` and `on_event`.
        """
        today = today or _today()
        return [
            t
            for t in self.candidates(state_id, roles)
            if not (t.on or t.after) and self._condition_holds(t, values, today, amounts)
        ]

    def find(self, state_id: str, action: str) -> Transition:
        for transition in self.workflow.outgoing(state_id):
            if transition.action == action:
                return transition
        if any(t.action == action for t in self.workflow.transitions):
            state = self.state(state_id)
            raise TransitionError(
                "wrong_state",
                f"'{action}' cannot be taken while the case is '{state.label.get()}'",
            )
        raise TransitionError("unknown_action", f"unknown action '{action}'")

    def apply(
        self,
        state_id: str,
        action: str,
        roles: Collection[str],
        values: Mapping[str, Any],
        *,
        at: datetime.datetime,
        actor: str | None = None,
        comment: str | None = None,
        fields: Mapping[str, Any] | None = None,
        amounts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Event:
        """Take `action` from `state_id`, or raise `TransitionError` saying why not.

        `fields` holds the transition's extra inputs, already converted by
        the form engine; here only their presence is checked.
        """
        state = self.state(state_id)
        if state.final:
            raise TransitionError("final", "the case is closed; no action can be taken")
        transition = self.find(state_id, action)
        role = next((r for r in transition.by if r in roles), None)
        if role is None:
            raise TransitionError(
                "forbidden",
                f"'{transition.display_label()}' needs the role {' or '.join(transition.by)}",
            )
        if role == "system" and not (transition.on or transition.after):
            raise TransitionError("forbidden", "the system takes only timer and event actions")
        if not self._condition_holds(transition, values, japan_date(at), amounts):
            raise TransitionError(
                "condition",
                f"'{transition.display_label()}' is not possible for this case"
                f" (needs {transition.if_.source if transition.if_ else ''})",
            )
        text = (comment or "").strip() or None
        if transition.comment == "required" and text is None:
            raise TransitionError(
                "comment_required",
                "a comment is required",
                field_errors={"comment": "a comment is required"},
            )
        if transition.comment == "none":
            text = None
        given = dict(fields or {})
        known = {f.id for f in transition.fields}
        unknown = sorted(set(given) - known)
        if unknown:
            raise TransitionError("fields", f"unknown fields: {', '.join(unknown)}")
        missing = {
            f.id: "this field is required"
            for f in transition.fields
            if f.required and _blank(given.get(f.id))
        }
        if missing:
            raise TransitionError("fields", "required fields are missing", field_errors=missing)
        return Event(
            action=transition.action,
            from_state=state_id,
            to_state=transition.to,
            by_role=role,
            at=at,
            actor=actor,
            comment=text,
            fields=MappingProxyType({k: v for k, v in given.items() if not _blank(v)}),
            document=transition.document,
            sign=transition.sign,
            notify=transition.notify,
            edit=transition.edit,
        )

    def timer_due(self, transition: Transition, entered_at: datetime.datetime) -> datetime.date:
        """The day an `after:` timer fires for a case that entered its state at `entered_at`."""
        assert transition.after is not None
        return self.calendar.deadline(
            japan_date(entered_at),
            days=transition.after.days,
            business_days=transition.after.business_days,
        )

    def timers(self, state_id: str) -> list[Transition]:
        return [t for t in self.workflow.outgoing(state_id) if t.after is not None]

    def timers_due(
        self,
        state_id: str,
        entered_at: datetime.datetime,
        *,
        now: datetime.datetime,
        values: Mapping[str, Any] | None = None,
    ) -> list[DueTimer]:
        """Timers of this state that have come due by `now`, earliest first."""
        due = []
        for transition in self.timers(state_id):
            day = self.timer_due(transition, entered_at)
            if day <= japan_date(now) and self._condition_holds(
                transition, values or {}, japan_date(now), None
            ):
                due.append(DueTimer(transition, day))
        return sorted(due, key=lambda d: d.due)

    def on_event(self, state_id: str, event: str) -> Transition | None:
        """The transition a system event (`paid`) takes from this state, if any."""
        return next((t for t in self.workflow.outgoing(state_id) if t.on == event), None)

    def editable_pages(self, event_history: Iterable[Event]) -> tuple[str, ...]:
        """Pages the applicant may change now: those opened by the last event."""
        last = None
        for last in event_history:  # noqa: B007 - only the last one matters
            pass
        return last.edit if last else ()
