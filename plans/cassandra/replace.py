"""The replace plan of one node: ``replace-node-<i>``, built while its intent exists.

``POST /v1/clusters/{c}/nodes/{node}/replace`` stores a ``NodeReplace`` naming the task being
replaced, its agent and its address. Serial phases:

``kill-old-task``  kill the old task if it still runs. A task on an agent that is unreachable,
                   lost or gone is not waited for: if the agent comes back, its task is not the
                   node's current one and the reconciler kills it then.
``launch``         launch the node on ANOTHER agent with a fresh reservation and volume,
                   ``auto_bootstrap`` and ``replace_address_first_boot`` = the old address, in the
                   old node's Cassandra rack; it takes over the old node's tokens and streams their
                   data. The new record replaces the old one, so the old reservation and volume are
                   referenced by no record any more: orphan cleanup destroys and unreserves them if
                   the old agent ever offers them again. COMPLETE once the node is UN and CQL-ready.
``finish``         delete the intent: the plan disappears.

This plan is ordered before deploy and recovery, so it owns the node while it works.
"""

from __future__ import annotations

from dataclasses import replace

from model.errors import CorruptRecord
from model.intents import PlanIntents
from model.operations import NodeReplace
from model.records import TaskRecord
from plans.actions import DeleteIntent, KillNode, WaitForNode
from plans.cassandra.node_block import launch_action, node_block
from plans.cassandra.state import ClusterState, genesis_nodes
from plans.intents import apply_intents
from plans.model import Block, Plan, Status, Strategy, new_block, new_phase, new_plan

KILL = "kill-old-task"
LAUNCH = "launch"
FINISH = "finish"
FINISH_BLOCK = "delete-request"
REASON = "replace"


def _is_old(request: NodeReplace, record: TaskRecord | None) -> bool:
    if record is None:
        return False
    if request.old_task_id is not None:
        return record.task_id == request.old_task_id
    return record.agent_id == request.old_agent_id


def _kill_block(plan: str, request: NodeReplace, record: TaskRecord | None) -> Block:
    node = request.node
    if record is None or not _is_old(request, record):
        return new_block(plan, KILL, node, Status.COMPLETE, "old task no longer current", asset=node)
    st = record.state
    if st == "TASK_KILLING":
        return new_block(
            plan,
            KILL,
            node,
            Status.STARTING,
            "old task is being killed",
            action=WaitForNode(node, st),
            asset=node,
        )
    if st in ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"):
        return new_block(
            plan,
            KILL,
            node,
            Status.PENDING,
            f"killing the old task ({st})",
            action=KillNode(node, record.task_id, "replaced"),
            asset=node,
        )
    return new_block(plan, KILL, node, Status.COMPLETE, f"old task is {st}: not waiting for it", asset=node)


def build_replace_plan(state: ClusterState, intents: PlanIntents) -> Plan:
    name = intents.plan
    try:
        request = NodeReplace.from_json(intents.parameters, f"intents of plan {name}")
    except CorruptRecord as exc:
        return new_plan(name, Strategy.SERIAL, [], errors=(str(exc),))
    node = request.node
    record = state.records.get(node)
    genesis = genesis_nodes(state)
    kill = _kill_block(name, request, record)
    if record is None or _is_old(request, record):
        base = launch_action(state, node, genesis=genesis, in_place=False, reason=REASON, record=None)
        action = replace(
            base,
            bootstrap=True,
            initial_tokens=(),
            replace_address=request.replace_address,
            avoid_agent=request.old_agent_id,
        )
        where = f"another agent than {request.old_agent_id}" if request.old_agent_id else "an agent"
        launch = new_block(
            name,
            LAUNCH,
            node,
            Status.PENDING,
            f"will launch on {where} replacing {request.old_hostname or 'the old node'}",
            action=action,
            asset=node,
        )
    else:
        launch = node_block(
            state,
            name,
            LAUNCH,
            node,
            genesis=genesis,
            restart_mark=None,
            reason=REASON,
            relaunch_reason=REASON,
            follow_config=False,
        )
    if launch.status is Status.COMPLETE:
        finish = new_block(
            name,
            FINISH,
            FINISH_BLOCK,
            Status.PENDING,
            "replaced: removing the request",
            action=DeleteIntent(name),
        )
    else:
        finish = new_block(name, FINISH, FINISH_BLOCK, Status.PENDING, "waiting for the new node")
    phases = [
        new_phase(name, KILL, Strategy.SERIAL, [kill]),
        new_phase(name, LAUNCH, Strategy.SERIAL, [launch]),
        new_phase(name, FINISH, Strategy.SERIAL, [finish]),
    ]
    return apply_intents(new_plan(name, Strategy.SERIAL, phases), intents)
