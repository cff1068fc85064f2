"""Choosing this cycle's work across all plans of a cluster: pure, deterministic.

Plans are given in priority order (deploy before recovery before operations). Each plan offers
the blocks its strategies allow (``plans.strategy.plan_candidates``); a block is skipped when an
earlier plan already claimed its node, so two plans never act on one node in the same cycle
(dcos-commons' "dirty assets"). A plan claims the nodes of the blocks it offers and of its blocks
in progress, unless it is interrupted: an interrupted deploy lets recovery relaunch a failed node.
"""

from __future__ import annotations

from collections.abc import Sequence

from plans.model import IN_PROGRESS, Plan, Work
from plans.strategy import plan_candidates


def next_work(plans: Sequence[Plan]) -> list[Work]:
    claimed: set[str] = set()
    out: list[Work] = []
    for plan in plans:
        offered = plan_candidates(plan)
        for work in offered:
            asset = work.block.asset
            if work.action is None or (asset is not None and asset in claimed):
                continue
            out.append(work)
        if plan.interrupted:
            continue
        claimed.update(w.block.asset for w in offered if w.block.asset is not None)
        for phase in plan.phases:
            if phase.interrupted:
                continue
            claimed.update(b.asset for b in phase.blocks if b.asset is not None and b.status in IN_PROGRESS)
    return out
