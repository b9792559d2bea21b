"""Soundness rules of a workflow graph, checked on hand-built workflows.

The workflows are built from model objects directly, so these tests do not
depend on the loader; each state and transition gets its own line so a
problem's location says which object it is about.
"""

from __future__ import annotations

import pytest

from workflow import graph
from workflow.model import LocalizedText, State, Transition, Workflow
from workflow.source import Location

FILE = "wf.yaml"


def state(line: int, state_id: str, **options: object) -> State:
    return State(
        id=state_id,
        label=LocalizedText.plain(state_id),
        location=Location(FILE, line, 5),
        **options,  # type: ignore[arg-type]
    )


def move(
    line: int, action: str, sources: str | tuple[str, ...], target: str, **options: object
) -> Transition:
    return Transition(
        action=action,
        from_=(sources,) if isinstance(sources, str) else sources,
        to=target,
        by=options.pop("by", ("clerk",)),  # type: ignore[arg-type]
        location=Location(FILE, line, 7),
        **options,  # type: ignore[arg-type]
    )


def workflow(initial: str, states: list[State], transitions: list[Transition]) -> Workflow:
    return Workflow(
        roles=("clerk", "supervisor"),
        initial=initial,
        states={s.id: s for s in states},
        transitions=tuple(transitions),
    )


def sound_states() -> list[State]:
    return [
        state(10, "received", queue="clerk"),
        state(11, "reviewing", queue="clerk"),
        state(12, "correction", with_="applicant"),
        state(13, "issued", final=True, outcome="approved"),
        state(14, "rejected", final=True, outcome="rejected"),
    ]


def sound_transitions() -> list[Transition]:
    return [
        move(20, "start_review", "received", "reviewing"),
        move(21, "request_correction", "reviewing", "correction"),
        move(22, "resubmit", "correction", "reviewing", by=("applicant",)),
        move(23, "approve", "reviewing", "issued"),
        move(24, "reject", ("received", "reviewing"), "rejected"),
    ]


def messages(problems: list[graph.Problem]) -> list[str]:
    return [p.message for p in problems]


def test_a_sound_workflow_with_a_correction_loop_has_no_problem() -> None:
    assert graph.check(workflow("received", sound_states(), sound_transitions())) == []


def test_successors_and_reachable_from_follow_every_source_of_a_transition() -> None:
    transitions = sound_transitions()
    edges = graph.successors(transitions)
    assert edges["received"] == {"reviewing", "rejected"}
    assert edges["reviewing"] == {"correction", "issued", "rejected"}
    assert graph.reachable_from("correction", transitions) == {
        "correction",
        "reviewing",
        "issued",
        "rejected",
    }
    assert graph.reachable_from("issued", transitions) == {"issued"}


def test_a_state_not_reachable_from_initial_is_reported_at_the_state() -> None:
    states = [*sound_states(), state(15, "archived", queue="clerk")]
    transitions = [*sound_transitions(), move(25, "close", "archived", "issued")]
    problems = graph.check(workflow("received", states, transitions))
    assert len(problems) == 1
    assert problems[0].location == Location(FILE, 15, 5)
    assert "'archived'" in problems[0].message
    assert "cannot be reached from the initial state 'received'" in problems[0].message


def test_a_non_final_state_with_no_way_out_is_reported_at_the_state() -> None:
    states = [*sound_states(), state(15, "parked", queue="supervisor")]
    transitions = [*sound_transitions(), move(25, "park", "reviewing", "parked")]
    problems = graph.check(workflow("received", states, transitions))
    assert len(problems) == 1
    assert problems[0].location == Location(FILE, 15, 5)
    assert "'parked' is not final and has no way out" in problems[0].message


def test_a_cycle_from_which_no_final_state_can_be_reached_is_reported_for_each_of_its_states() -> (
    None
):
    states = [
        *sound_states(),
        state(15, "ping", queue="clerk"),
        state(16, "pong", queue="supervisor"),
    ]
    transitions = [
        *sound_transitions(),
        move(25, "escalate", "reviewing", "ping"),
        move(26, "hand_over", "ping", "pong"),
        move(27, "hand_back", "pong", "ping"),
    ]
    problems = graph.check(workflow("received", states, transitions))
    assert sorted((p.location.line, p.message) for p in problems) == [
        (15, "no final state can be reached from state 'ping'"),
        (16, "no final state can be reached from state 'pong'"),
    ]


def test_a_final_state_with_a_way_out_is_reported_at_the_transition_leaving_it() -> None:
    transitions = [*sound_transitions(), move(25, "reopen", "issued", "reviewing")]
    problems = graph.check(workflow("received", sound_states(), transitions))
    assert len(problems) == 1
    assert problems[0].location == Location(FILE, 25, 7)
    assert "final state 'issued' has a way out (action 'reopen')" in problems[0].message


def test_a_pay_state_with_no_on_paid_way_out_is_reported_at_the_state() -> None:
    states = [*sound_states(), state(15, "payment", with_="applicant", pay=True)]
    transitions = [
        *sound_transitions(),
        move(25, "ask_payment", "reviewing", "payment"),
        # A person can leave the state, but nothing reacts to the payment.
        move(26, "mark_paid", "payment", "issued"),
    ]
    problems = graph.check(workflow("received", states, transitions))
    assert len(problems) == 1
    assert problems[0].location == Location(FILE, 15, 5)
    assert "'payment' has pay: true but no transition with on: paid leaves it" in (
        problems[0].message
    )


def test_a_pay_state_left_on_paid_is_sound() -> None:
    states = [*sound_states(), state(15, "payment", with_="applicant", pay=True)]
    transitions = [
        *sound_transitions(),
        move(25, "ask_payment", "reviewing", "payment"),
        move(26, "paid", "payment", "issued", by=("system",), on="paid"),
    ]
    assert graph.check(workflow("received", states, transitions)) == []


def test_on_paid_leaving_a_state_that_is_not_a_pay_state_is_reported_at_the_transition() -> None:
    transitions = [
        *sound_transitions(),
        move(25, "paid", "reviewing", "issued", by=("system",), on="paid"),
    ]
    problems = graph.check(workflow("received", sound_states(), transitions))
    assert len(problems) == 1
    assert problems[0].location == Location(FILE, 25, 7)
    assert "on: paid leaves state 'reviewing', which is not a pay: true state" in (
        problems[0].message
    )


def test_a_workflow_with_no_final_state_is_reported_at_its_first_state() -> None:
    states = [state(12, "reviewing", queue="clerk"), state(10, "received", queue="clerk")]
    transitions = [
        move(20, "start_review", "received", "reviewing"),
        move(21, "send_back", "reviewing", "received"),
    ]
    problems = graph.check(workflow("received", states, transitions))
    assert (Location(FILE, 10, 5), "the workflow has no final state") in [
        (p.location, p.message) for p in problems
    ]
    # Without an end, no state can finish either.
    assert "no final state can be reached from state 'received'" in messages(problems)
    assert "no final state can be reached from state 'reviewing'" in messages(problems)


def test_a_state_that_is_both_unreachable_and_stuck_gets_both_problems() -> None:
    states = [*sound_states(), state(15, "limbo", queue="clerk")]
    problems = graph.check(workflow("received", states, sound_transitions()))
    assert [p.location.line for p in problems] == [15, 15]
    assert any("cannot be reached" in m for m in messages(problems))
    assert any("has no way out" in m for m in messages(problems))


@pytest.mark.parametrize("initial", ["received", "reviewing"])
def test_every_rule_holds_whatever_the_initial_state_when_all_states_stay_reachable(
    initial: str,
) -> None:
    transitions = [*sound_transitions(), move(25, "restart", "reviewing", "received")]
    assert graph.check(workflow(initial, sound_states(), transitions)) == []
