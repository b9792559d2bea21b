"""Soundness checks of a workflow seen as a graph of states.

A procedure that can get stuck is worse than one that does not load: a
resident's case would wait forever.  So every state must be reachable from
`initial`, every non-final state needs a way out, a final state must be
reachable from every state, a final state has no way out, and a `pay: true`
state must be left by the system event `paid`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workflow.model import State, Transition, Workflow
from workflow.source import Location


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str


def successors(transitions: Iterable[Transition]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for transition in transitions:
        for source in transition.from_:
            edges.setdefault(source, set()).add(transition.to)
    return edges


def _closure(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def reachable_from(initial: str, transitions: Iterable[Transition]) -> set[str]:
    return _closure([initial], successors(transitions))


def check(workflow: Workflow) -> list[Problem]:
    problems: list[Problem] = []
    states: Mapping[str, State] = workflow.states
    forward = successors(workflow.transitions)
    backward: dict[str, set[str]] = {}
    for source, targets in forward.items():
        for target in targets:
            backward.setdefault(target, set()).add(source)

    reachable = _closure([workflow.initial], forward)
    finals = [s.id for s in states.values() if s.final]
    can_finish = _closure(finals, backward)

    for state in states.values():
        out = [t for t in workflow.transitions if state.id in t.from_]
        if state.id not in reachable:
            problems.append(
                Problem(
                    state.location,
                    f"state '{state.id}' cannot be reached from the initial state"
                    f" '{workflow.initial}'",
                )
            )
        if state.final:
            for transition in out:
                problems.append(
                    Problem(
                        transition.location,
                        f"final state '{state.id}' has a way out (action '{transition.action}');"
                        " a final state ends the case",
                    )
                )
            continue
        if not out:
            problems.append(
                Problem(
                    state.location,
                    f"state '{state.id}' is not final and has no way out;"
                    " add a transition from it or make it final",
                )
            )
        elif state.id not in can_finish:
            problems.append(
                Problem(
                    state.location,
                    f"no final state can be reached from state '{state.id}'",
                )
            )
        if state.pay and not any(t.on == "paid" for t in out):
            problems.append(
                Problem(
                    state.location,
                    f"state '{state.id}' has pay: true but no transition with on: paid leaves it",
                )
            )
    if not finals and states:
        first = min(states.values(), key=lambda s: s.location)
        problems.append(Problem(first.location, "the workflow has no final state"))
    for transition in workflow.transitions:
        if transition.on == "paid":
            for source in transition.from_:
                if source in states and not states[source].pay:
                    problems.append(
                        Problem(
                            transition.location,
                            f"on: paid leaves state '{source}', which is not a pay: true state",
                        )
                    )
    return problems
