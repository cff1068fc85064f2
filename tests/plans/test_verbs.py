"""Operator verbs at plan, phase and block level, and how the rebuilt plan reflects them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from model.errors import Conflict, InvalidInput, NotFound
from model.intents import PlanIntents
from plans import verbs
from plans.intents import apply_intents
from plans.model import Plan, Status, Strategy, new_phase
from plans.status import phase_status, plan_status
from plans.strategy import plan_candidates
from tests.plans.factories import blk, phase_of, plan_of

P, C, SD, E = Status.PENDING, Status.COMPLETE, Status.STARTED, Status.ERROR


def raw_plan() -> Plan:
    return plan_of(
        [
            phase_of([C, SD, P], Strategy.SERIAL, "seeds"),
            phase_of([P, E], Strategy.PARALLEL, "nodes"),
        ]
    )


def view(intents: PlanIntents) -> Plan:
    """What the next cycle builds: the raw plan with the intents applied."""
    return apply_intents(raw_plan(), intents)


def run(verb: Callable[..., verbs.VerbResult], intents: PlanIntents, **kw: str) -> PlanIntents:
    return verb(view(intents), intents, **kw).intents


EMPTY = PlanIntents("p")


def test_plan_interrupt_then_continue() -> None:
    i = run(verbs.interrupt, EMPTY)
    assert view(i).interrupted
    assert plan_status(view(i)) is Status.ERROR  # a paused plan still shows its error
    assert plan_candidates(view(i)) == []
    i = run(verbs.continue_, i)
    assert i == EMPTY
    assert plan_candidates(view(i)) != []


def test_phase_interrupt_by_name_and_by_id() -> None:
    by_name = run(verbs.interrupt, EMPTY, phase="seeds")
    by_id = run(verbs.interrupt, EMPTY, phase=view(EMPTY).phases[0].id)
    assert by_name == by_id
    assert phase_status(view(by_name).phases[0]) is Status.WAITING
    assert run(verbs.continue_, by_name, phase="seeds") == EMPTY


def test_plan_continue_also_clears_phase_interrupts() -> None:
    i = run(verbs.interrupt, EMPTY, phase="seeds")
    assert run(verbs.continue_, i) == EMPTY


def test_block_interrupt_shows_waiting_and_halts_serial() -> None:
    i = run(verbs.interrupt, EMPTY, phase="seeds", block="node-1")
    seeds = view(i).phases[0]
    assert seeds.blocks[1].status is Status.WAITING
    assert "interrupted" in seeds.blocks[1].message
    assert plan_candidates(view(i)) == []
    assert run(verbs.continue_, i, phase="seeds", block="node-1") == EMPTY


def test_block_found_by_name_without_phase_when_unique() -> None:
    plan = plan_of(
        [phase_of([P], Strategy.SERIAL, "a"), new_phase("p", "b", Strategy.SERIAL, [blk("x", P, phase="b")])]
    )
    i = verbs.interrupt(plan, EMPTY, block="x").intents
    assert i.interrupted_blocks == {plan.phases[1].blocks[0].id}


def test_ambiguous_block_name_needs_a_phase() -> None:
    with pytest.raises(InvalidInput, match="several phases"):
        verbs.force_complete(view(EMPTY), EMPTY, block="node-0")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"phase": "nope"}, "no phase 'nope'"),
        ({"phase": "seeds", "block": "node-9"}, "no block 'node-9'"),
        ({"block": "node-9"}, "no block 'node-9'"),
        ({"phase": "nope", "block": "node-0"}, "no phase 'nope'"),
    ],
)
@pytest.mark.parametrize("verb", [verbs.interrupt, verbs.continue_, verbs.force_complete, verbs.restart])
def test_unknown_phase_or_block_is_not_found(
    verb: Callable[..., verbs.VerbResult], kw: dict, match: str
) -> None:
    with pytest.raises(NotFound, match=match):
        verb(view(EMPTY), EMPTY, **kw)


@pytest.mark.parametrize(
    ("verb", "kw", "match"),
    [
        (verbs.continue_, {}, "neither interrupted"),
        (verbs.continue_, {"phase": "seeds"}, "neither interrupted"),
        (verbs.continue_, {"phase": "seeds", "block": "node-1"}, "not interrupted"),
        (verbs.force_complete, {"phase": "seeds", "block": "node-0"}, "already complete"),
        (verbs.restart, {"phase": "seeds", "block": "node-2"}, "nothing to restart"),
    ],
)
def test_verbs_that_change_nothing_conflict(
    verb: Callable[..., verbs.VerbResult], kw: dict, match: str
) -> None:
    with pytest.raises(Conflict, match=match):
        verb(view(EMPTY), EMPTY, **kw)


@pytest.mark.parametrize(
    "kw", [{}, {"phase": "seeds"}, {"phase": "seeds", "block": "node-1"}], ids=["plan", "phase", "block"]
)
def test_interrupting_twice_conflicts(kw: dict) -> None:
    once = run(verbs.interrupt, EMPTY, **kw)
    with pytest.raises(Conflict, match="already interrupted"):
        verbs.interrupt(view(once), once, **kw)


def test_force_complete_block_phase_plan() -> None:
    i = run(verbs.force_complete, EMPTY, phase="nodes", block="node-1")
    nodes = view(i).phases[1]
    assert nodes.blocks[1].status is Status.COMPLETE and nodes.blocks[1].forced
    assert nodes.blocks[1].action is None
    assert "forced" in nodes.blocks[1].message
    i = run(verbs.force_complete, EMPTY, phase="seeds")
    assert phase_status(view(i).phases[0]) is Status.COMPLETE
    assert view(i).phases[0].blocks[0].forced is False  # was complete already: not marked forced
    i = run(verbs.force_complete, EMPTY)
    assert plan_status(view(i)) is Status.COMPLETE
    with pytest.raises(Conflict, match="already complete"):
        verbs.force_complete(view(i), i)


def test_restart_records_the_generation_and_clears_force() -> None:
    forced = run(verbs.force_complete, EMPTY, phase="nodes", block="node-1")
    i = run(verbs.restart, forced, phase="nodes", block="node-1")
    block = view(i).phases[1].blocks[1]
    assert block.id not in i.forced_complete
    assert i.restarts == {block.id: block.generation}
    assert block.status is Status.ERROR  # back to what the store says


def test_restart_phase_marks_every_started_block() -> None:
    i = run(verbs.restart, EMPTY, phase="seeds")
    seeds = view(i).phases[0]
    assert set(i.restarts) == {seeds.blocks[0].id, seeds.blocks[1].id}  # node-2 never started
    with pytest.raises(Conflict, match="restart already pending"):
        verbs.restart(view(i), i, phase="seeds")


def test_restart_refuses_blocks_that_redo_themselves() -> None:
    block = blk("reconciliation", C, phase="r")
    plan = plan_of([new_phase("p", "r", Strategy.SERIAL, [replace(block, restartable=False)])])
    with pytest.raises(Conflict, match="cannot be restarted"):
        verbs.restart(plan, EMPTY, phase="r", block="reconciliation")


def test_canary_continue_and_restart_rearms_it() -> None:
    raw = plan_of([phase_of([C, P, P], Strategy.CANARY, "roll")])
    held = apply_intents(raw, EMPTY)
    assert [b.status for b in held.phases[0].blocks] == [C, Status.WAITING, Status.WAITING]
    assert plan_status(held) is Status.WAITING
    assert plan_candidates(held) == []
    i = verbs.continue_(held, EMPTY).intents  # plan-level continue accepts the canary
    assert i == verbs.continue_(held, EMPTY, phase="roll").intents
    after = apply_intents(raw, i)
    assert [w.block.name for w in plan_candidates(after)] == ["node-1"]
    i2 = verbs.restart(after, i, phase="roll").intents
    assert i2.canary_continued == frozenset()


def test_verbs_refuse_intents_of_another_plan() -> None:
    with pytest.raises(ValueError, match="intents of plan"):
        verbs.interrupt(view(EMPTY), PlanIntents("other"))
