"""Which blocks may act now: serial, parallel, canary, and plans over phases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from model.intents import PlanIntents
from plans.intents import apply_intents
from plans.model import Status, Strategy
from plans.strategy import active_phases, canary_held, phase_candidates, plan_candidates
from tests.plans.factories import phase_of, plan_of

P, R, SG, SD, C, W, E = (
    Status.PENDING,
    Status.PREPARED,
    Status.STARTING,
    Status.STARTED,
    Status.COMPLETE,
    Status.WAITING,
    Status.ERROR,
)
SER, PAR, CAN = Strategy.SERIAL, Strategy.PARALLEL, Strategy.CANARY

# (strategy, block statuses, canary continued, expected candidate indexes, why)
TABLE = [
    (SER, [P, P, P], False, [0], "serial starts with the first block"),
    (SER, [C, P, P], False, [1], "serial moves to the next block once the previous is complete"),
    (SER, [C, SD, P], False, [1], "serial keeps the running block and holds the rest"),
    (SER, [C, E, P], False, [], "serial stops at an error"),
    (SER, [C, C, C], False, [], "serial, all complete"),
    (SER, [], False, [], "serial, no blocks"),
    (SER, [C, W, P], False, [], "serial stops at a held block"),
    (PAR, [P, P, P], False, [0, 1, 2], "parallel offers every block"),
    (PAR, [C, SD, P], False, [1, 2], "parallel offers every incomplete block"),
    (PAR, [E, P, SG], False, [1, 2], "parallel skips errors"),
    (PAR, [C, C], False, [], "parallel, all complete"),
    (CAN, [P, P, P], False, [0], "canary starts with the canary alone"),
    (CAN, [SD, P, P], False, [0], "canary running"),
    (CAN, [E, P, P], False, [], "canary failed: nothing else starts"),
    (CAN, [C, P, P], False, [], "canary done: hold for continue"),
    (CAN, [C, P, P], True, [1], "continued: the rest serially"),
    (CAN, [C, C, P], True, [2], "continued: the rest serially, next one"),
    (CAN, [C], False, [], "canary only, complete"),
    (CAN, [P], False, [0], "canary only, pending"),
]


@pytest.mark.parametrize(
    ("strategy", "statuses", "continued", "expected", "why"), TABLE, ids=[t[4] for t in TABLE]
)
def test_phase_candidates(
    strategy: Strategy, statuses: list[Status], continued: bool, expected: list[int], why: str
) -> None:
    phase = replace(phase_of(statuses, strategy), canary_continued=continued)
    names = [b.name for b in phase_candidates(phase)]
    assert names == [f"node-{i}" for i in expected], why


def test_canary_then_parallel() -> None:
    phase = replace(phase_of([C, P, P, P], CAN), canary_continued=True, canary_then=PAR)
    assert [b.name for b in phase_candidates(phase)] == ["node-1", "node-2", "node-3"]


def test_canary_held_only_after_the_canary_completes() -> None:
    assert not canary_held(phase_of([P, P], CAN))
    assert canary_held(phase_of([C, P], CAN))
    assert not canary_held(replace(phase_of([C, P], CAN), canary_continued=True))
    assert not canary_held(phase_of([C, C], CAN))
    assert not canary_held(phase_of([C, P], SER))


def test_interrupted_phase_offers_nothing() -> None:
    phase = replace(phase_of([P, P], PAR), interrupted=True)
    assert phase_candidates(phase) == []


def test_interrupted_block_is_skipped_by_parallel_and_stops_serial() -> None:
    par = phase_of([P, P, P], PAR)
    par = replace(par, blocks=(replace(par.blocks[0], interrupted=True), *par.blocks[1:]))
    assert [b.name for b in phase_candidates(par)] == ["node-1", "node-2"]
    ser = replace(par, strategy=SER)
    assert phase_candidates(ser) == []


def test_serial_plan_works_on_the_first_incomplete_phase_only() -> None:
    plan = plan_of([phase_of([C], SER, "a"), phase_of([P, P], PAR, "b"), phase_of([P], SER, "c")])
    assert [p.name for p in active_phases(plan)] == ["b"]
    assert [(w.phase.name, w.block.name) for w in plan_candidates(plan)] == [("b", "node-0"), ("b", "node-1")]


def test_parallel_plan_works_on_every_incomplete_phase() -> None:
    plan = plan_of([phase_of([C], SER, "a"), phase_of([P, P], SER, "b"), phase_of([P], SER, "c")], PAR)
    assert [(w.phase.name, w.block.name) for w in plan_candidates(plan)] == [("b", "node-0"), ("c", "node-0")]


def test_serial_plan_waits_behind_an_interrupted_phase() -> None:
    plan = plan_of([phase_of([P], SER, "a"), phase_of([P], SER, "b")])
    plan = apply_intents(plan, PlanIntents("p", interrupted_phases=frozenset({plan.phases[0].id})))
    assert plan_candidates(plan) == []


def test_interrupted_plan_offers_nothing() -> None:
    plan = apply_intents(plan_of([phase_of([P, P], PAR)]), PlanIntents("p", interrupted=True))
    assert plan_candidates(plan) == []


def test_a_plan_cannot_be_a_canary() -> None:
    with pytest.raises(ValueError, match="serial or parallel"):
        active_phases(plan_of([phase_of([P], SER)], CAN))
