"""Operator verbs: interrupt, continue, force-complete, restart - pure functions intents -> intents.

Each verb takes the plan as currently built (with intents applied, so statuses are what the
operator sees), the stored intents, and an optional phase and block, each given by id or by
name. It returns the new intents for the store to write (compare-and-set) and a message for the
operator. It never acts: the reconciler's next cycle rebuilds the plan with the new intents.

Errors: an unknown phase or block is ``NotFound`` (404); a block name found in several phases
without ``phase`` is ``InvalidInput`` (400); a verb that would change nothing, such as continuing
something that is not held or force-completing something complete, is ``Conflict`` (409), so a
mistyped target never looks like success.

Scope:
- interrupt: plan / phase / block -> that element offers no work until continued. Work already
  running is not killed (a node that is starting keeps starting).
- continue: clears the interrupt of the element. For a phase that is not interrupted but holds
  after its canary, accepts the canary. At plan level it clears the plan's and its phases'
  interrupts, or, if none is set, accepts every held canary of the plan.
- force-complete: marks the targeted blocks (one, all of a phase, all of the plan) COMPLETE.
- restart: redoes the targeted blocks (a node block relaunches its node in place), clears their
  forced-complete marks, and re-arms the canary of a restarted canary phase. On a serial phase a
  phase-level restart is a rolling restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.errors import Conflict, InvalidInput, NotFound
from model.intents import PlanIntents
from plans.model import Block, Phase, Plan, Status
from plans.strategy import canary_held


@dataclass(frozen=True)
class VerbResult:
    intents: PlanIntents
    message: str


def find_phase(plan: Plan, ref: str) -> Phase:
    for phase in plan.phases:
        if ref in (phase.id, phase.name):
            return phase
    raise NotFound(f"plan {plan.name} has no phase {ref!r}")


def find_block(plan: Plan, phase_ref: str | None, block_ref: str) -> tuple[Phase, Block]:
    phases = [find_phase(plan, phase_ref)] if phase_ref is not None else list(plan.phases)
    found = [(p, b) for p in phases for b in p.blocks if block_ref in (b.id, b.name)]
    if not found:
        where = (
            f"phase {phases[0].name} of plan {plan.name}" if phase_ref is not None else f"plan {plan.name}"
        )
        raise NotFound(f"{where} has no block {block_ref!r}")
    if len(found) > 1:
        names = ", ".join(p.name for p, _ in found)
        raise InvalidInput(
            f"block {block_ref!r} is in several phases of plan {plan.name} ({names}); name the phase"
        )
    return found[0]


def _check_intents(plan: Plan, intents: PlanIntents) -> None:
    if intents.plan != plan.name:
        raise ValueError(f"intents of plan {intents.plan!r} used with plan {plan.name!r}")


def _targets(plan: Plan, phase: str | None, block: str | None) -> tuple[str, list[tuple[Phase, Block]]]:
    if block is not None:
        p, b = find_block(plan, phase, block)
        return f"block {b.name} of phase {p.name}", [(p, b)]
    if phase is not None:
        p = find_phase(plan, phase)
        return f"phase {p.name}", [(p, b) for b in p.blocks]
    return f"plan {plan.name}", [(p, b) for p in plan.phases for b in p.blocks]


def interrupt(
    plan: Plan, intents: PlanIntents, phase: str | None = None, block: str | None = None
) -> VerbResult:
    _check_intents(plan, intents)
    if block is not None:
        p, b = find_block(plan, phase, block)
        if b.id in intents.interrupted_blocks:
            raise Conflict(f"block {b.name} of phase {p.name} is already interrupted")
        new = intents.with_changes(interrupted_blocks=intents.interrupted_blocks | {b.id})
        return VerbResult(new, f"interrupted block {b.name} of phase {p.name} of plan {plan.name}")
    if phase is not None:
        p = find_phase(plan, phase)
        if p.id in intents.interrupted_phases:
            raise Conflict(f"phase {p.name} of plan {plan.name} is already interrupted")
        new = intents.with_changes(interrupted_phases=intents.interrupted_phases | {p.id})
        return VerbResult(new, f"interrupted phase {p.name} of plan {plan.name}")
    if intents.interrupted:
        raise Conflict(f"plan {plan.name} is already interrupted")
    return VerbResult(intents.with_changes(interrupted=True), f"interrupted plan {plan.name}")


def continue_(
    plan: Plan, intents: PlanIntents, phase: str | None = None, block: str | None = None
) -> VerbResult:
    _check_intents(plan, intents)
    if block is not None:
        p, b = find_block(plan, phase, block)
        if b.id not in intents.interrupted_blocks:
            raise Conflict(f"block {b.name} of phase {p.name} is not interrupted")
        new = intents.with_changes(interrupted_blocks=intents.interrupted_blocks - {b.id})
        return VerbResult(new, f"continued block {b.name} of phase {p.name} of plan {plan.name}")
    if phase is not None:
        p = find_phase(plan, phase)
        if p.id in intents.interrupted_phases:
            new = intents.with_changes(interrupted_phases=intents.interrupted_phases - {p.id})
            return VerbResult(new, f"continued phase {p.name} of plan {plan.name}")
        if canary_held(p):
            new = intents.with_changes(canary_continued=intents.canary_continued | {p.id})
            return VerbResult(new, f"canary of phase {p.name} accepted; the rest of the phase proceeds")
        raise Conflict(
            f"phase {p.name} of plan {plan.name} is neither interrupted nor waiting after a canary"
        )
    phase_ids = {p.id for p in plan.phases}
    paused = intents.interrupted_phases & phase_ids
    if intents.interrupted or paused:
        new = intents.with_changes(interrupted=False, interrupted_phases=intents.interrupted_phases - paused)
        return VerbResult(new, f"continued plan {plan.name}")
    held = [p for p in plan.phases if canary_held(p)]
    if held:
        new = intents.with_changes(canary_continued=intents.canary_continued | {p.id for p in held})
        names = ", ".join(p.name for p in held)
        return VerbResult(new, f"canary accepted in plan {plan.name} (phases {names}); the rest proceeds")
    raise Conflict(f"plan {plan.name} is neither interrupted nor waiting after a canary")


def force_complete(
    plan: Plan, intents: PlanIntents, phase: str | None = None, block: str | None = None
) -> VerbResult:
    _check_intents(plan, intents)
    what, targets = _targets(plan, phase, block)
    todo = {b.id for _, b in targets if b.status is not Status.COMPLETE}
    if not todo:
        raise Conflict(f"{what} of plan {plan.name} is already complete")
    new = intents.with_changes(forced_complete=intents.forced_complete | todo)
    return VerbResult(new, f"forced {what} of plan {plan.name} complete ({len(todo)} block(s))")


def restart(
    plan: Plan, intents: PlanIntents, phase: str | None = None, block: str | None = None
) -> VerbResult:
    _check_intents(plan, intents)
    what, targets = _targets(plan, phase, block)
    if block is not None and not targets[0][1].restartable and not targets[0][1].forced:
        raise Conflict(f"{what} cannot be restarted: it redoes its work by itself")
    restarts = dict(intents.restarts)
    forced = set(intents.forced_complete)
    changed = 0
    for _, b in targets:
        if b.forced:
            forced.discard(b.id)
            changed += 1
        if not b.restartable:
            continue
        if b.status is Status.PENDING and b.generation == 0:
            continue  # never started: nothing to redo
        if restarts.get(b.id) == b.generation:
            continue  # this restart is already asked for
        restarts[b.id] = b.generation
        changed += 1
    if not changed:
        raise Conflict(
            f"{what} of plan {plan.name} has nothing to restart (not started, or restart already pending)"
        )
    # Restarting a whole phase (or plan) re-arms its canaries; restarting one block does not.
    rearmed = {p.id for p, _ in targets} if block is None else set()
    new = intents.with_changes(
        restarts=restarts,
        forced_complete=frozenset(forced),
        canary_continued=intents.canary_continued - rearmed,
    )
    return VerbResult(new, f"restarting {what} of plan {plan.name}")
