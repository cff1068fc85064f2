"""The uninstall plan: remove a cluster from Mesos and from the store.

Built only while the cluster has an ``uninstall`` intent (``DELETE /v1/clusters/{c}``); while it
exists it is the cluster's only plan, so nothing relaunches what it kills. Serial phases:

``kill-tasks``         a block per recorded node: kill its task, wait until it is terminal.
                       A task on an unreachable agent stays STARTING (the kill is retried) until
                       the agent comes back or an operator forces the block complete.
``release-resources``  a block per recorded node: on the next offer from the node's agent,
                       DESTROY every volume and UNRESERVE every reservation labelled with the
                       cluster, then delete the node's task record (the block completes). A node
                       whose agent is gone for good (TASK_GONE) has nothing to release: its record
                       is deleted at once.
``forget``             one block: delete the cluster (target, configs, intents) from the store.
"""

from __future__ import annotations

from model.intents import PlanIntents
from model.node import is_node_name, node_index
from model.records import ACTIVE_STATES, TaskRecord
from plans.actions import ForgetCluster, KillNode, ReleaseNode
from plans.cassandra.state import GONE_STATES, ClusterState
from plans.intents import apply_intents
from plans.model import Block, Plan, Status, Strategy, new_block, new_phase, new_plan

PLAN = "uninstall"
KILL = "kill-tasks"
RELEASE = "release-resources"
FORGET = "forget"
FORGET_BLOCK = "cluster"
REASON = "uninstall"


def _ordered(state: ClusterState) -> list[TaskRecord]:
    def key(rec: TaskRecord) -> tuple[int, str]:
        return (node_index(rec.node) if is_node_name(rec.node) else 1 << 30, rec.node)

    return sorted(state.records.values(), key=key)


def _kill_block(rec: TaskRecord) -> Block:
    if rec.is_terminal:
        return new_block(PLAN, KILL, rec.node, Status.COMPLETE, f"task ended: {rec.state}", asset=rec.node)
    kill = KillNode(rec.node, rec.task_id, REASON)
    if rec.state == "TASK_KILLING":
        return new_block(
            PLAN, KILL, rec.node, Status.STARTING, "task is being killed", action=kill, asset=rec.node
        )
    if rec.state in ACTIVE_STATES:
        return new_block(
            PLAN, KILL, rec.node, Status.PENDING, f"killing task ({rec.state})", action=kill, asset=rec.node
        )
    # Unreachable or otherwise unknown: keep asking; the agent may come back.
    return new_block(
        PLAN,
        KILL,
        rec.node,
        Status.STARTING,
        f"task is {rec.state}: waiting until it is terminal (force-complete to give up on it)",
        action=kill,
        asset=rec.node,
    )


def _release_block(rec: TaskRecord) -> Block:
    if rec.state in GONE_STATES:
        return new_block(
            PLAN,
            RELEASE,
            rec.node,
            Status.PENDING,
            "agent gone for good: nothing to release, forgetting the node",
            action=ReleaseNode(rec.node, rec.task_id, rec.agent_id, await_offer=False),
            asset=rec.node,
        )
    return new_block(
        PLAN,
        RELEASE,
        rec.node,
        Status.PENDING,
        f"waiting for an offer from agent {rec.agent_id} to destroy the volume and unreserve",
        action=ReleaseNode(rec.node, rec.task_id, rec.agent_id),
        asset=rec.node,
    )


def build_uninstall_plan(state: ClusterState, intents: PlanIntents) -> Plan:
    records = _ordered(state)
    kills = [_kill_block(r) for r in records]
    # Released nodes have no record any more: their blocks are shown complete while others remain.
    releases = [_release_block(r) for r in records]
    if records:
        forget = new_block(PLAN, FORGET, FORGET_BLOCK, Status.PENDING, "waiting for the nodes to be released")
    else:
        forget = new_block(
            PLAN,
            FORGET,
            FORGET_BLOCK,
            Status.PENDING,
            "deleting the cluster from the store",
            action=ForgetCluster(),
        )
    if not records:
        kills = [new_block(PLAN, KILL, KILL, Status.COMPLETE, "no task left")]
        releases = [new_block(PLAN, RELEASE, RELEASE, Status.COMPLETE, "every node released")]
    phases = [
        new_phase(PLAN, KILL, Strategy.PARALLEL, kills),
        new_phase(PLAN, RELEASE, Strategy.PARALLEL, releases),
        new_phase(PLAN, FORGET, Strategy.SERIAL, [forget]),
    ]
    plan = new_plan(PLAN, Strategy.SERIAL, phases)
    return apply_intents(plan, intents)
