"""The state machine running a loaded procedure: who may do what, and when timers fire.

The procedure below follows the contract's workflow example (a correction
loop, a supervisor's approval with a signed decision, payment after
approval) and adds the two kinds of timer.  Every expected date was worked
out by hand from `calendar.month(...)` and the list of Japanese holidays.
"""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from forms.registry import REGISTRY
from workflow.loader import load_offices_file, load_procedure_text
from workflow.machine import Event, StateMachine, TransitionError
from workflow.model import Procedure, Transition

PROJECT_ROOT = Path(__file__).resolve().parents[2]
JST = datetime.timezone(datetime.timedelta(hours=9))

PROCEDURE = textwrap.dedent(
    """\
    procedure: road-permit
    version: 1
    title: {ja: 道路占用許可申請, en: Road occupancy permit}
    office: city-hall
    standard_processing_days: 10
    retention_years: 5
    fee:
      when: after_approval
      methods: [card]
      lines:
        - label: {ja: 占用料, en: Occupancy fee}
          unit: 1000
          quantity: copies
    pages:
      - id: request
        title: {ja: 申請内容, en: Request}
        fields:
          - {id: copies, type: integer, label: {ja: 部数, en: Copies}, required: true, min: 1}
          - {id: purpose, type: text, label: {ja: 目的, en: Purpose}}
    workflow:
      roles: [clerk, supervisor]
      initial: received
      states:
        received:   {label: {ja: 受付, en: Received}, queue: clerk}
        reviewing:  {label: {ja: 審査中, en: Under review}, queue: clerk}
        correction: {label: {ja: 補正依頼中, en: Correction requested}, with: applicant}
        approval:   {label: {ja: 決裁待ち, en: Awaiting approval}, queue: supervisor}
        payment:    {label: {ja: 支払待ち, en: Awaiting payment}, with: applicant, pay: true}
        issued:     {label: {ja: 交付済, en: Issued}, final: true, outcome: approved}
        rejected:   {label: {ja: 却下, en: Rejected}, final: true, outcome: rejected}
        withdrawn:  {label: {ja: 取下げ, en: Withdrawn}, final: true, outcome: withdrawn}
      transitions:
        - {action: start_review, from: received, to: reviewing, by: clerk}
        - action: request_correction
          label: {ja: 補正を依頼, en: Request correction}
          from: reviewing
          to: correction
          by: clerk
          comment: required
          edit: [request]
          notify: applicant
        - {action: resubmit, from: correction, to: reviewing, by: applicant}
        - {action: recommend, from: reviewing, to: approval, by: clerk, if: "copies <= 10"}
        - action: approve
          from: approval
          to: payment
          by: supervisor
          sign: true
          document: decision
          notify: applicant
          fields:
            - {id: decision_no, type: text, label: 決定番号, required: true}
            - {id: remarks, type: textarea, label: 備考}
        - {action: paid, from: payment, to: issued, by: system, on: paid}
        - action: reject
          from: [reviewing, approval]
          to: rejected
          by: [clerk, supervisor]
          comment: required
          document: rejection
          notify: applicant
        - {action: send_back, from: approval, to: reviewing, by: supervisor, comment: required}
        - action: withdraw
          from: [received, reviewing, correction]
          to: withdrawn
          by: applicant
          comment: none
        - {action: expire, from: correction, to: withdrawn, by: system, after: {business_days: 30}}
        - {action: lapse, from: payment, to: withdrawn, by: system, after: {days: 7}}
    documents:
      decision:  {title: {ja: 占用許可書, en: Permit}, template: decision.html}
      rejection: {title: {ja: 却下通知書, en: Notice of rejection}, template: rejection.html}
    """
)

AT = datetime.datetime(2026, 6, 10, 10, 0, tzinfo=JST)
VALUES = {"copies": 3, "purpose": "工事"}


@pytest.fixture(scope="module")
def procedure(tmp_path_factory: pytest.TempPathFactory) -> Procedure:
    templates = tmp_path_factory.mktemp("templates")
    (templates / "decision.html").write_text("<p>{{ decision_no }}</p>", encoding="utf-8")
    (templates / "rejection.html").write_text("<p>却下</p>", encoding="utf-8")
    offices = load_offices_file(PROJECT_ROOT / "offices.yaml")
    assert offices.errors == []
    result = load_procedure_text(
        PROCEDURE,
        "road-permit.yaml",
        field_types=REGISTRY,
        offices=offices.offices,
        template_dirs=[templates],
    )
    assert result.errors == [], "\n".join(map(str, result.errors))
    assert result.procedure is not None
    return result.procedure


@pytest.fixture(scope="module")
def machine(procedure: Procedure) -> StateMachine:
    return StateMachine(procedure)


def actions(machine: StateMachine, state: str, roles: set[str], values: object = None) -> list[str]:
    found = machine.allowed(
        state,
        roles,
        VALUES if values is None else values,
        today=datetime.date(2026, 6, 10),
    )
    return [t.action for t in found]


def refused(machine: StateMachine, state: str, action: str, roles: set[str], **kw: object) -> str:
    values = kw.pop("values", VALUES)
    with pytest.raises(TransitionError) as caught:
        machine.apply(state, action, roles, values, at=AT, **kw)
    return caught.value.code


# --- what each role is offered ---------------------------------------------


def test_a_clerk_is_offered_only_the_clerk_actions_of_the_state(machine: StateMachine) -> None:
    assert actions(machine, "received", {"clerk"}) == ["start_review"]
    assert actions(machine, "reviewing", {"clerk"}) == ["request_correction", "recommend", "reject"]
    # In the supervisor's queue a clerk can still reject, but not approve.
    assert actions(machine, "approval", {"clerk"}) == ["reject"]
    assert actions(machine, "correction", {"clerk"}) == []


def test_a_supervisor_is_offered_only_the_supervisor_actions_of_the_state(
    machine: StateMachine,
) -> None:
    assert actions(machine, "approval", {"supervisor"}) == ["approve", "reject", "send_back"]
    assert actions(machine, "received", {"supervisor"}) == []
    assert actions(machine, "reviewing", {"supervisor"}) == ["reject"]


def test_the_applicant_is_offered_resubmit_and_withdraw_but_no_staff_action(
    machine: StateMachine,
) -> None:
    assert actions(machine, "received", {"applicant"}) == ["withdraw"]
    assert actions(machine, "correction", {"applicant"}) == ["resubmit", "withdraw"]
    assert actions(machine, "approval", {"applicant"}) == []


def test_an_actor_with_several_roles_gets_each_action_once_in_file_order(
    machine: StateMachine,
) -> None:
    assert actions(machine, "approval", {"clerk", "supervisor"}) == [
        "approve",
        "reject",
        "send_back",
    ]


def test_system_transitions_are_never_offered_to_people(machine: StateMachine) -> None:
    everyone = {"clerk", "supervisor", "applicant"}
    assert actions(machine, "payment", everyone) == []
    assert actions(machine, "correction", everyone) == ["resubmit", "withdraw"]
    # Not even to the system itself: timers and events fire on their own.
    assert actions(machine, "payment", {"system"}) == []
    assert actions(machine, "correction", {"system"}) == []


def test_an_action_whose_if_does_not_hold_is_not_offered(machine: StateMachine) -> None:
    assert "recommend" not in actions(machine, "reviewing", {"clerk"}, {"copies": 11})
    # A hidden or missing answer is null, and null <= 10 does not hold.
    assert "recommend" not in actions(machine, "reviewing", {"clerk"}, {})
    assert "recommend" in actions(machine, "reviewing", {"clerk"}, {"copies": 10})


def test_nothing_is_offered_in_a_final_state(machine: StateMachine) -> None:
    for state in ("issued", "rejected", "withdrawn"):
        assert actions(machine, state, {"clerk", "supervisor", "applicant"}) == []


def test_an_unknown_state_is_refused(machine: StateMachine) -> None:
    with pytest.raises(TransitionError) as caught:
        machine.allowed("nowhere", {"clerk"}, VALUES)
    assert caught.value.code == "unknown_state"


# --- applying an action ------------------------------------------------------


def test_a_plain_action_returns_an_event_with_the_new_state_and_the_role(
    machine: StateMachine,
) -> None:
    event = machine.apply("received", "start_review", {"clerk"}, VALUES, at=AT, actor="clerk-7")
    assert event == Event(
        action="start_review",
        from_state="received",
        to_state="reviewing",
        by_role="clerk",
        at=AT,
        actor="clerk-7",
    )
    assert event.as_dict()["to"] == "reviewing"
    assert event.as_dict()["at"] == "2026-06-10T10:00:00+09:00"


def test_requesting_a_correction_carries_the_comment_the_pages_to_edit_and_who_to_notify(
    machine: StateMachine,
) -> None:
    event = machine.apply(
        "reviewing",
        "request_correction",
        {"clerk"},
        VALUES,
        at=AT,
        comment="  図面が不鮮明です。  ",
    )
    assert event.to_state == "correction"
    assert event.by_role == "clerk"
    assert event.comment == "図面が不鮮明です。"
    assert event.edit == ("request",)
    assert event.notify == ("applicant",)
    assert event.document is None
    assert machine.editable_pages([event]) == ("request",)


def test_the_correction_loop_goes_back_to_review(machine: StateMachine) -> None:
    event = machine.apply("correction", "resubmit", {"applicant"}, VALUES, at=AT)
    assert (event.from_state, event.to_state, event.by_role) == (
        "correction",
        "reviewing",
        "applicant",
    )
    assert event.edit == ()
    assert machine.editable_pages([event]) == ()


def test_approving_signs_issues_the_document_and_keeps_the_filled_fields(
    machine: StateMachine,
) -> None:
    event = machine.apply(
        "approval",
        "approve",
        {"supervisor"},
        VALUES,
        at=AT,
        fields={"decision_no": "大建第123号", "remarks": ""},
    )
    assert event.to_state == "payment"
    assert event.by_role == "supervisor"
    assert event.sign is True
    assert event.document == "decision"
    assert event.notify == ("applicant",)
    # An empty optional field is not recorded.
    assert dict(event.fields) == {"decision_no": "大建第123号"}


def test_rejecting_issues_the_rejection_document(machine: StateMachine) -> None:
    event = machine.apply(
        "approval", "reject", {"supervisor"}, VALUES, at=AT, comment="基準を満たしません"
    )
    assert event.to_state == "rejected"
    assert event.document == "rejection"
    assert event.comment == "基準を満たしません"
    assert event.notify == ("applicant",)


def test_a_comment_is_dropped_where_the_transition_takes_none(machine: StateMachine) -> None:
    event = machine.apply("received", "withdraw", {"applicant"}, VALUES, at=AT, comment="やめます")
    assert event.to_state == "withdrawn"
    assert event.comment is None


def test_an_optional_comment_is_kept_and_a_blank_one_is_none(machine: StateMachine) -> None:
    kept = machine.apply("received", "start_review", {"clerk"}, VALUES, at=AT, comment="確認")
    blank = machine.apply("received", "start_review", {"clerk"}, VALUES, at=AT, comment="  ")
    assert kept.comment == "確認"
    assert blank.comment is None


def test_an_action_of_another_role_is_forbidden(machine: StateMachine) -> None:
    assert refused(machine, "approval", "approve", {"clerk"}) == "forbidden"
    assert refused(machine, "received", "start_review", {"applicant"}) == "forbidden"
    assert refused(machine, "correction", "resubmit", {"clerk", "supervisor"}) == "forbidden"


def test_people_cannot_take_system_actions(machine: StateMachine) -> None:
    assert refused(machine, "payment", "paid", {"applicant"}) == "forbidden"
    assert refused(machine, "payment", "lapse", {"clerk", "supervisor"}) == "forbidden"


def test_the_system_cannot_take_a_person_action(machine: StateMachine) -> None:
    assert refused(machine, "received", "start_review", {"system"}) == "forbidden"


def test_an_action_that_does_not_leave_the_current_state_is_wrong_state(
    machine: StateMachine,
) -> None:
    assert refused(machine, "reviewing", "start_review", {"clerk"}) == "wrong_state"
    assert refused(machine, "received", "approve", {"supervisor"}) == "wrong_state"


def test_an_action_the_procedure_does_not_have_is_unknown(machine: StateMachine) -> None:
    assert refused(machine, "reviewing", "approve_all", {"clerk"}) == "unknown_action"


def test_an_action_whose_if_does_not_hold_is_refused_as_condition(
    machine: StateMachine,
) -> None:
    assert refused(machine, "reviewing", "recommend", {"clerk"}, values={"copies": 11}) == (
        "condition"
    )
    assert refused(machine, "reviewing", "recommend", {"clerk"}, values={}) == "condition"
    event = machine.apply("reviewing", "recommend", {"clerk"}, {"copies": 10}, at=AT)
    assert event.to_state == "approval"


def test_a_missing_required_comment_is_refused(machine: StateMachine) -> None:
    with pytest.raises(TransitionError) as caught:
        machine.apply("reviewing", "request_correction", {"clerk"}, VALUES, at=AT, comment="   ")
    assert caught.value.code == "comment_required"
    assert set(caught.value.field_errors) == {"comment"}
    assert refused(machine, "approval", "send_back", {"supervisor"}) == "comment_required"


def test_a_missing_required_field_is_refused_with_the_field_named(
    machine: StateMachine,
) -> None:
    with pytest.raises(TransitionError) as caught:
        machine.apply(
            "approval", "approve", {"supervisor"}, VALUES, at=AT, fields={"remarks": "急ぎ"}
        )
    assert caught.value.code == "fields"
    assert set(caught.value.field_errors) == {"decision_no"}
    blank = refused(machine, "approval", "approve", {"supervisor"}, fields={"decision_no": ""})
    assert blank == "fields"


def test_a_field_the_transition_does_not_have_is_refused(machine: StateMachine) -> None:
    code = refused(
        machine,
        "approval",
        "approve",
        {"supervisor"},
        fields={"decision_no": "1", "amount": 5},
    )
    assert code == "fields"


def test_no_action_is_taken_on_a_closed_case(machine: StateMachine) -> None:
    assert refused(machine, "issued", "reject", {"supervisor"}) == "final"
    assert refused(machine, "withdrawn", "resubmit", {"applicant"}) == "final"


# --- system events and timers ------------------------------------------------


def test_the_paid_event_leaves_the_pay_state_for_issued(machine: StateMachine) -> None:
    transition = machine.on_event("payment", "paid")
    assert transition is not None
    assert (transition.action, transition.to, transition.by) == ("paid", "issued", ("system",))
    assert machine.on_event("reviewing", "paid") is None
    assert machine.on_event("payment", "refunded") is None


def test_the_system_applies_the_paid_event(machine: StateMachine) -> None:
    event = machine.apply("payment", "paid", {"system"}, VALUES, at=AT)
    assert (event.to_state, event.by_role) == ("issued", "system")


def timer(machine: StateMachine, action: str) -> Transition:
    found = [t for t in machine.workflow.transitions if t.action == action]
    assert len(found) == 1
    return found[0]


def test_timers_of_a_state_are_its_after_transitions(machine: StateMachine) -> None:
    assert [t.action for t in machine.timers("correction")] == ["expire"]
    assert [t.action for t in machine.timers("payment")] == ["lapse"]
    assert machine.timers("reviewing") == []


def test_a_days_timer_ending_on_a_saturday_fires_on_the_next_monday(
    machine: StateMachine,
) -> None:
    lapse = timer(machine, "lapse")
    # Saturday 6 June 2026 + 7 days = Saturday 13 June -> Monday 15 June.
    entered = datetime.datetime(2026, 6, 6, 11, 0, tzinfo=JST)
    assert machine.timer_due(lapse, entered) == datetime.date(2026, 6, 15)
    # Wednesday 3 June + 7 = Wednesday 10 June, an open day.
    entered = datetime.datetime(2026, 6, 3, 11, 0, tzinfo=JST)
    assert machine.timer_due(lapse, entered) == datetime.date(2026, 6, 10)


def test_a_days_timer_ending_in_golden_week_fires_after_it(machine: StateMachine) -> None:
    lapse = timer(machine, "lapse")
    # Monday 27 April + 7 = Monday 4 May (Greenery Day); 5 May Children's Day,
    # 6 May substitute holiday -> Thursday 7 May.
    entered = datetime.datetime(2026, 4, 27, 9, 0, tzinfo=JST)
    assert machine.timer_due(lapse, entered) == datetime.date(2026, 5, 7)


def test_a_business_days_timer_skips_golden_week(machine: StateMachine) -> None:
    expire = timer(machine, "expire")
    # From Monday 27 April 2026: 28 Apr (1), 29 Apr Showa Day closed, 30 Apr (2),
    # 1 May (3), 4-6 May holidays, 7-8 May (4-5), then five a week:
    # 11-15 May (10), 18-22 May (15), 25-29 May (20), 1-5 June (25), 8-12 June (30).
    entered = datetime.datetime(2026, 4, 27, 15, 0, tzinfo=JST)
    assert machine.timer_due(expire, entered) == datetime.date(2026, 6, 12)


def test_a_business_days_timer_skips_the_year_end_closure_and_coming_of_age_day(
    machine: StateMachine,
) -> None:
    expire = timer(machine, "expire")
    # From Tuesday 15 December 2026: 16-18 Dec (3), 21-25 Dec (8), 28 Dec (9),
    # 29 Dec-3 Jan closed, 4-8 Jan 2027 (14), 11 Jan Coming of Age Day closed,
    # 12-15 Jan (18), 18-22 Jan (23), 25-29 Jan (28), 1 Feb (29), 2 Feb (30).
    entered = datetime.datetime(2026, 12, 15, 10, 0, tzinfo=JST)
    assert machine.timer_due(expire, entered) == datetime.date(2027, 2, 2)


def test_timers_due_lists_a_timer_only_from_its_due_date(machine: StateMachine) -> None:
    entered = datetime.datetime(2026, 4, 27, 15, 0, tzinfo=JST)
    before = datetime.datetime(2026, 6, 11, 23, 59, tzinfo=JST)
    on_the_day = datetime.datetime(2026, 6, 12, 0, 5, tzinfo=JST)
    later = datetime.datetime(2026, 7, 1, 9, 0, tzinfo=JST)
    assert machine.timers_due("correction", entered, now=before) == []
    due = machine.timers_due("correction", entered, now=on_the_day)
    assert [(d.transition.action, d.due) for d in due] == [("expire", datetime.date(2026, 6, 12))]
    assert [d.transition.action for d in machine.timers_due("correction", entered, now=later)] == [
        "expire"
    ]
    # A state without timers never has one due.
    assert machine.timers_due("reviewing", entered, now=later) == []


def test_a_timer_counts_from_the_day_in_japan_when_times_are_stored_in_utc(
    machine: StateMachine,
) -> None:
    """Timestamps are stored in UTC; the first day of a period is Japan's day.

    2026-06-05 16:00 UTC is Saturday 6 June 01:00 in Japan, so the 7-day
    timer counts from Saturday 6 June (due Saturday 13 -> Monday 15 June),
    not from Friday 5 June (due Friday 12 June).
    """
    lapse = timer(machine, "lapse")
    entered = datetime.datetime(2026, 6, 5, 16, 0, tzinfo=datetime.UTC)
    assert machine.timer_due(lapse, entered) == datetime.date(2026, 6, 15)
    # 2026-06-14 15:30 UTC is already Monday 15 June in Japan: the timer is due.
    now = datetime.datetime(2026, 6, 14, 15, 30, tzinfo=datetime.UTC)
    assert [d.transition.action for d in machine.timers_due("payment", entered, now=now)] == [
        "lapse"
    ]
