"""The recovery plan: relaunch, in place, nodes whose task ended.

One parallel phase ``recovery`` with a block per node that needs recovering: its task is
terminal, or it was relaunched by recovery and is not Up/Normal and CQL-ready yet. A relaunch
is in place: same agent, same reservations, same persistent volume and ports, so the node comes
back with its data and its tokens (no bootstrap). When the node is ready again its block leaves
the plan; a plan with no blocks is COMPLETE.

Recovery relaunches with the target config but never stops a running node: rolling a config
change out is the deploy plan's job, one node at a time.

A task in TASK_GONE (agent removed) cannot come back in place: its block is ERROR and tells the
operator to replace the node. TASK_ERROR (Mesos refused the task) is ERROR too: relaunching the
same task would fail the same way.

While the deploy plan is running it relaunches its own failed nodes; the coordinator gives a node
to the first plan that offers it (deploy before recovery), so the two never act twice on one node.
Recovery acts on its own when deploy is complete or interrupted.
"""

from __future__ import annotations

from model.intents import PlanIntents
from model.node import is_node_name, node_index
from model.records import TERMINAL_STATES
from plans.cassandra.node_block import node_block
from plans.cassandra.state import ClusterState, genesis_nodes, launch_reason
from plans.intents import apply_intents
from plans.model import Plan, Status, Strategy, block_id, new_phase, new_plan

PLAN = "recovery"
PHASE = "recovery"
REASON = "recovery"


def _needs_recovery(state: ClusterState, node: str) -> bool:
    record = state.records[node]
    if record.state in TERMINAL_STATES:
        return True
    if launch_reason(record) != REASON:
        return False
    health = state.health_of(node)
    return not (record.state == "TASK_RUNNING" and health is not None and health.is_ready)


def build_recovery_plan(state: ClusterState, intents: PlanIntents) -> Plan:
    genesis = genesis_nodes(state)
    nodes = sorted(
        (n for n in state.records if is_node_name(n) and node_index(n) < state.spec.nodes),
        key=node_index,
    )
    blocks = []
    for node in nodes:
        if not _needs_recovery(state, node):
            continue
        blk = node_block(
            state,
            PLAN,
            PHASE,
            node,
            genesis=genesis,
            restart_mark=intents.restart_mark(block_id(PLAN, PHASE, node)),
            reason=REASON,
            relaunch_reason=REASON,
            follow_config=False,
        )
        if blk.status is Status.COMPLETE:
            continue
        blocks.append(blk)
    plan = new_plan(PLAN, Strategy.PARALLEL, [new_phase(PLAN, PHASE, Strategy.PARALLEL, blocks)])
    return apply_intents(plan, intents)
