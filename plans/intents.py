"""Applying operator intents (``model.intents.PlanIntents``) to a freshly built plan.

Builders derive every block from the store; ``apply_intents`` then layers what operators said:

- forced-complete blocks become COMPLETE with no action (sticky until a restart of the block);
- interrupted plan, phases and blocks get their flags; an interrupted block that is not complete
  shows WAITING and offers no action;
- a canary phase whose canary is done and not yet continued shows its remaining pending blocks
  as WAITING ("waiting for continue").

Restart marks are read by the builders themselves (``PlanIntents.restart_mark``), because only
they know what "redo this block" means for their work.
"""

from __future__ import annotations

from dataclasses import replace

from model.intents import PlanIntents
from plans.model import Block, Phase, Plan, Status
from plans.strategy import canary_held


def _apply_block(block: Block, intents: PlanIntents) -> Block:
    if block.id in intents.forced_complete:
        block = replace(
            block, status=Status.COMPLETE, action=None, forced=True, message="forced complete by an operator"
        )
    if block.id in intents.interrupted_blocks:
        block = replace(block, interrupted=True)
        if block.status is not Status.COMPLETE:
            was = f" (was {block.status.value}: {block.message})" if block.message else ""
            block = replace(block, status=Status.WAITING, message=f"interrupted by an operator{was}")
    return block


def _apply_phase(phase: Phase, intents: PlanIntents) -> Phase:
    interrupted = phase.id in intents.interrupted_phases
    blocks = tuple(_apply_block(b, intents) for b in phase.blocks)
    phase = replace(
        phase, blocks=blocks, interrupted=interrupted, canary_continued=phase.id in intents.canary_continued
    )
    if canary_held(phase):
        held = tuple(
            replace(b, status=Status.WAITING, message="waiting for an operator to continue after the canary")
            if i > 0 and b.status is Status.PENDING
            else b
            for i, b in enumerate(phase.blocks)
        )
        phase = replace(phase, blocks=held)
    return phase


def apply_intents(plan: Plan, intents: PlanIntents) -> Plan:
    if intents.plan != plan.name:
        raise ValueError(f"intents of plan {intents.plan!r} applied to plan {plan.name!r}")
    return replace(
        plan,
        phases=tuple(_apply_phase(p, intents) for p in plan.phases),
        interrupted=intents.interrupted,
    )
