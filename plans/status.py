"""Status aggregation: the one pure function that turns children's statuses into a parent's.

Rules, first match wins (tests/plans/test_status.py holds the table):

1. the parent has errors of its own, or any child is ERROR       -> ERROR
2. no children, or every child COMPLETE                          -> COMPLETE
3. the parent is interrupted                                      -> WAITING
4. no child in progress (PREPARED/STARTING/STARTED) and some
   child WAITING                                                  -> WAITING
5. every child PENDING                                            -> PENDING
6. otherwise the least advanced child, where PENDING and WAITING
   children count as PREPARED (work has begun on the parent)      -> PREPARED/STARTING/STARTED

Rule 6 makes a parent exactly as far as its least advanced child, so aggregation is monotone:
a child moving forward never moves its parent backward.
"""

from __future__ import annotations

from collections.abc import Sequence

from plans.model import IN_PROGRESS, PROGRESS_ORDER, Phase, Plan, Status


def aggregate_status(
    children: Sequence[Status], *, interrupted: bool = False, has_errors: bool = False
) -> Status:
    if has_errors or Status.ERROR in children:
        return Status.ERROR
    if all(c is Status.COMPLETE for c in children):
        return Status.COMPLETE
    if interrupted:
        return Status.WAITING
    running = any(c in IN_PROGRESS for c in children)
    if not running and Status.WAITING in children:
        return Status.WAITING
    if all(c is Status.PENDING for c in children):
        return Status.PENDING
    lifted = [Status.PREPARED if c in (Status.PENDING, Status.WAITING) else c for c in children]
    return min(lifted, key=PROGRESS_ORDER.__getitem__)


def phase_status(phase: Phase) -> Status:
    return aggregate_status([b.status for b in phase.blocks], interrupted=phase.interrupted)


def plan_status(plan: Plan) -> Status:
    return aggregate_status(
        [phase_status(p) for p in plan.phases], interrupted=plan.interrupted, has_errors=bool(plan.errors)
    )
