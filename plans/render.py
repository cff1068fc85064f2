"""Plans as the JSON of API.md: statuses upper case, strategies lower case, stable ids."""

from __future__ import annotations

from typing import Any

from plans.model import Block, Phase, Plan
from plans.status import phase_status, plan_status


def render_block(block: Block) -> dict[str, Any]:
    return {"id": block.id, "name": block.name, "status": block.status.value, "message": block.message}


def render_phase(phase: Phase) -> dict[str, Any]:
    return {
        "id": phase.id,
        "name": phase.name,
        "status": phase_status(phase).value,
        "strategy": phase.strategy.value,
        "blocks": [render_block(b) for b in phase.blocks],
    }


def render_plan(plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "status": plan_status(plan).value,
        "strategy": plan.strategy.value,
        "errors": list(plan.errors),
        "phases": [render_phase(p) for p in plan.phases],
    }
