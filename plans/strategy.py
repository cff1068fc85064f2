"""Strategies: which blocks may act now. Pure functions of a plan whose intents are applied.

- serial: the first incomplete block, unless it is in ERROR, WAITING or interrupted (then none:
  a rolling change stops at the first problem instead of spreading it).
- parallel: every incomplete block that is not in ERROR, WAITING or interrupted.
- canary: the first block alone; once it is COMPLETE the phase holds until an operator continues
  it; then the remaining blocks follow ``canary_then`` (serial unless the builder chose otherwise).

Plans order their phases the same way, serial or parallel (a plan is never a canary: canaries
are per phase). An interrupted plan or phase offers no blocks. Blocks already in progress stay
candidates so the reconciler can keep watching them (their action is usually WaitForNode), and
relaunch them if their task dies.
"""

from __future__ import annotations

from collections.abc import Sequence

from plans.model import Block, Phase, Plan, Status, Strategy, Work
from plans.status import phase_status


def _may_act(block: Block) -> bool:
    return not block.interrupted and block.status not in (Status.COMPLETE, Status.ERROR, Status.WAITING)


def select_blocks(blocks: Sequence[Block], strategy: Strategy) -> list[Block]:
    incomplete = [b for b in blocks if b.status is not Status.COMPLETE]
    if not incomplete:
        return []
    if strategy is Strategy.PARALLEL:
        return [b for b in incomplete if _may_act(b)]
    if strategy is Strategy.SERIAL:
        return [incomplete[0]] if _may_act(incomplete[0]) else []
    raise ValueError("canary needs a phase (select_blocks takes serial or parallel)")


def canary_held(phase: Phase) -> bool:
    """True when the canary is done and the rest of the phase waits for an explicit continue."""
    return (
        phase.strategy is Strategy.CANARY
        and not phase.canary_continued
        and len(phase.blocks) > 1
        and phase.blocks[0].status is Status.COMPLETE
        and any(b.status is not Status.COMPLETE for b in phase.blocks[1:])
    )


def phase_candidates(phase: Phase) -> list[Block]:
    if phase.interrupted or not phase.blocks:
        return []
    if phase.strategy is Strategy.CANARY:
        canary, rest = phase.blocks[0], phase.blocks[1:]
        if canary.status is not Status.COMPLETE:
            return [canary] if _may_act(canary) else []
        if not phase.canary_continued:
            return []
        return select_blocks(rest, phase.canary_then)
    return select_blocks(phase.blocks, phase.strategy)


def active_phases(plan: Plan) -> list[Phase]:
    """The phases the plan's strategy lets work now."""
    if plan.interrupted:
        return []
    incomplete = [p for p in plan.phases if phase_status(p) is not Status.COMPLETE]
    if not incomplete:
        return []
    if plan.strategy is Strategy.PARALLEL:
        return incomplete
    if plan.strategy is Strategy.SERIAL:
        return incomplete[:1]
    raise ValueError(f"plan {plan.name}: plans are serial or parallel over phases, not {plan.strategy.value}")


def plan_candidates(plan: Plan) -> list[Work]:
    return [
        Work(plan.name, phase, block) for phase in active_phases(plan) for block in phase_candidates(phase)
    ]
