"""Plan -> Phase -> Block: frozen values rebuilt every cycle from the store.

A block is one unit of work, usually one node. Blocks carry their derived status, a message for
people, the node they touch (``asset``) and the next ``action`` (``plans.actions``). Phases and
plans carry a strategy and the operator's interrupt flags; their statuses are not stored but
aggregated by ``plans.status``.

Ids are uuid5 of the element names (``plan/phase/block``), so they are stable across rebuilds and
scheduler failovers, look like the UUIDs of dcos-cassandra-service, and operator intents keyed by
id keep pointing at the same element.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from plans.actions import Action

_ID_NAMESPACE = uuid.UUID("0b7c5a52-8f6e-4a39-9d0e-3c5a6f1e2d40")


class Status(enum.Enum):
    """Progress order: PENDING < PREPARED < STARTING < STARTED < COMPLETE; WAITING, ERROR aside."""

    PENDING = "PENDING"  # nothing done yet
    PREPARED = "PREPARED"  # under way, waiting for resources (an offer) or for the old task to go
    STARTING = "STARTING"  # task launched, not running yet
    STARTED = "STARTED"  # task running, goal not reached yet (e.g. Cassandra JOINING)
    COMPLETE = "COMPLETE"  # goal reached (or forced by an operator)
    WAITING = "WAITING"  # held by an operator: interrupted, or a canary awaiting continue
    ERROR = "ERROR"  # cannot proceed without an operator


PROGRESS_ORDER: dict[Status, int] = {
    Status.PENDING: 0,
    Status.PREPARED: 1,
    Status.STARTING: 2,
    Status.STARTED: 3,
    Status.COMPLETE: 4,
}
IN_PROGRESS = frozenset({Status.PREPARED, Status.STARTING, Status.STARTED})


class Strategy(enum.Enum):
    SERIAL = "serial"  # one block at a time, in order; stops at a block in ERROR
    PARALLEL = "parallel"  # every incomplete block at once; blocks in ERROR are skipped
    CANARY = "canary"  # the first block alone, then wait for continue, then the rest (canary_then)


@functools.lru_cache(maxsize=4096)
def phase_id(plan: str, phase: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{plan}/{phase}"))


# Cached: plans are rebuilt every cycle and the names repeat.
@functools.lru_cache(maxsize=65536)
def block_id(plan: str, phase: str, block: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{plan}/{phase}/{block}"))


@dataclass(frozen=True)
class Block:
    id: str
    name: str
    status: Status
    message: str = ""
    action: Action | None = None
    asset: str | None = None
    # How many times this block's work has been done (a node block: the node's launch count).
    # The restart verb records it; the block is redone until its generation exceeds the mark.
    generation: int = 0
    interrupted: bool = False
    forced: bool = False
    # False for blocks that redo themselves (reconciliation): the restart verb refuses them.
    restartable: bool = True


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    strategy: Strategy
    blocks: tuple[Block, ...]
    interrupted: bool = False
    canary_continued: bool = False
    canary_then: Strategy = Strategy.SERIAL


@dataclass(frozen=True)
class Plan:
    name: str
    strategy: Strategy
    phases: tuple[Phase, ...]
    errors: tuple[str, ...] = ()
    interrupted: bool = False


def new_block(
    plan: str,
    phase: str,
    name: str,
    status: Status,
    message: str = "",
    *,
    action: Action | None = None,
    asset: str | None = None,
    generation: int = 0,
    restartable: bool = True,
) -> Block:
    return Block(
        id=block_id(plan, phase, name),
        name=name,
        status=status,
        message=message,
        action=action,
        asset=asset,
        generation=generation,
        restartable=restartable,
    )


def new_phase(
    plan: str,
    name: str,
    strategy: Strategy,
    blocks: Sequence[Block],
    *,
    canary_then: Strategy = Strategy.SERIAL,
) -> Phase:
    return Phase(
        id=phase_id(plan, name),
        name=name,
        strategy=strategy,
        blocks=tuple(blocks),
        canary_then=canary_then,
    )


def new_plan(name: str, strategy: Strategy, phases: Sequence[Phase], errors: Sequence[str] = ()) -> Plan:
    return Plan(name=name, strategy=strategy, phases=tuple(phases), errors=tuple(errors))


@dataclass(frozen=True)
class Work:
    """One block the strategies let act now, with where it sits."""

    plan: str
    phase: Phase
    block: Block

    @property
    def action(self) -> Action | None:
        return self.block.action
