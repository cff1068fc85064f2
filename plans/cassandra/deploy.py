"""The deploy plan of a cluster: bring every node to the target config, Up/Normal and CQL-ready.

Phases, in order (the plan is serial over phases):

``reconciliation``   one block, COMPLETE once the recorded tasks were reconciled with Mesos.
``sync-datacenter``  (only with peers) one block per peer URL, COMPLETE after the first
                     successful exchange; the reconciler retries with backoff (no busy loop).
                     Force-complete a block to deploy without a peer that is down.
``seeds``            nodes 0 .. seeds-1.
``nodes``            the other nodes the cluster was first formed with.
``join``             nodes added later (scale out); they bootstrap.

How nodes start. A brand-new cluster forms with all its nodes unbootstrapped, each with balanced
initial tokens (``model.node.initial_tokens``): the seeds start together, then the other
original nodes together. A node added to a cluster that holds data bootstraps alone: ``join`` is
serial, and the next node starts only when the previous one is UN and answers CQL.

Safety. A block that would stop a running node (config update, restart) or bootstrap a new node
waits while any other launched node is not UN and CQL-ready: two nodes down can lose quorum,
and Cassandra refuses a bootstrap while a replica is down. Force-complete the down node's block
to proceed without it.

Strategies. ``seeds`` and ``nodes`` are parallel only while their remaining work is forming the
cluster; as soon as a phase would touch a node that was already launched with another config or
that an operator restarted, the phase is serial, so config updates and restarts roll one node at
a time. ``join`` is always serial.
"""

from __future__ import annotations

from dataclasses import replace

from model.intents import PlanIntents
from model.node import node_index, node_name
from plans.actions import KillNode, LaunchNode, Reconcile, SyncDatacenter, WaitForNode
from plans.cassandra.node_block import node_block
from plans.cassandra.state import ClusterState, genesis_nodes
from plans.intents import apply_intents
from plans.model import Block, Phase, Plan, Status, Strategy, block_id, new_block, new_phase, new_plan

PLAN = "deploy"
RECONCILIATION = "reconciliation"
SYNC_DATACENTER = "sync-datacenter"
SEEDS = "seeds"
NODES = "nodes"
JOIN = "join"


def _reconciliation_phase(state: ClusterState) -> Phase:
    if state.reconciled:
        blk = new_block(
            PLAN,
            RECONCILIATION,
            RECONCILIATION,
            Status.COMPLETE,
            "reconciliation complete",
            restartable=False,
        )
    else:
        blk = new_block(
            PLAN,
            RECONCILIATION,
            RECONCILIATION,
            Status.STARTING,
            "reconciling tasks with Mesos",
            action=Reconcile(),
            restartable=False,
        )
    return new_phase(PLAN, RECONCILIATION, Strategy.SERIAL, [blk])


def _sync_phase(state: ClusterState) -> Phase:
    blocks = []
    for url in state.spec.peers:
        if url in state.synced_peers:
            blocks.append(
                new_block(
                    PLAN,
                    SYNC_DATACENTER,
                    url,
                    Status.COMPLETE,
                    f"exchanged seeds with {url}",
                    restartable=False,
                )
            )
        else:
            blocks.append(
                new_block(
                    PLAN,
                    SYNC_DATACENTER,
                    url,
                    Status.PENDING,
                    f"waiting for a first exchange with {url}",
                    action=SyncDatacenter(url),
                    restartable=False,
                )
            )
    return new_phase(PLAN, SYNC_DATACENTER, Strategy.PARALLEL, blocks)


def _forming(block: Block) -> bool:
    """True while a block's remaining work is a first launch of the cluster (parallel-safe)."""
    if block.status is Status.COMPLETE:
        return True
    act = block.action
    if isinstance(act, KillNode):
        return False
    if isinstance(act, LaunchNode):
        return act.reason in ("deploy", "relaunch") and not act.bootstrap
    return isinstance(act, WaitForNode) or act is None


def _node_phase(state: ClusterState, intents: PlanIntents, name: str, indexes: range, genesis: int) -> Phase:
    blocks = [
        node_block(
            state,
            PLAN,
            name,
            node_name(i),
            genesis=genesis,
            restart_mark=intents.restart_mark(block_id(PLAN, name, node_name(i))),
            reason="deploy",
        )
        for i in indexes
    ]
    if name == JOIN:
        strategy = Strategy.SERIAL
    else:
        restarted = any(
            intents.restart_mark(b.id) is not None and b.status is not Status.COMPLETE for b in blocks
        )
        strategy = (
            Strategy.PARALLEL if not restarted and all(_forming(b) for b in blocks) else Strategy.SERIAL
        )
    return new_phase(PLAN, name, strategy, blocks)


def build_deploy_plan(state: ClusterState, intents: PlanIntents) -> Plan:
    spec = state.spec
    genesis = genesis_nodes(state)
    seeds = min(spec.seeds, spec.nodes)
    phases = [_reconciliation_phase(state)]
    if spec.peers:
        phases.append(_sync_phase(state))
    phases.append(_node_phase(state, intents, SEEDS, range(seeds), genesis))
    original_end = max(seeds, min(genesis, spec.nodes))
    if original_end > seeds:
        phases.append(_node_phase(state, intents, NODES, range(seeds, original_end), genesis))
    if spec.nodes > original_end:
        phases.append(_node_phase(state, intents, JOIN, range(original_end, spec.nodes), genesis))
    phases = _hold_while_degraded(state, intents, phases)
    plan = new_plan(PLAN, Strategy.SERIAL, phases, errors=state.errors)
    return apply_intents(plan, intents)


def _down_nodes(state: ClusterState, phases: list[Phase], intents: PlanIntents) -> set[str]:
    """Launched nodes that are not UN + CQL-ready, except those an operator forced complete."""
    forced = {b.asset for p in phases for b in p.blocks if b.id in intents.forced_complete}
    down = set()
    for p in phases:
        for b in p.blocks:
            if b.asset is None or b.asset in forced or b.asset not in state.records:
                continue
            health = state.health_of(b.asset)
            if state.records[b.asset].state != "TASK_RUNNING" or health is None or not health.is_ready:
                down.add(b.asset)
    return down


def _disturbs(block: Block) -> bool:
    act = block.action
    return isinstance(act, KillNode) or (isinstance(act, LaunchNode) and act.bootstrap and not act.in_place)


def _hold_while_degraded(state: ClusterState, intents: PlanIntents, phases: list[Phase]) -> list[Phase]:
    """Stopping a running node or bootstrapping a new one waits while another node is down: two
    nodes down can lose quorum, and Cassandra refuses a bootstrap whose replicas are not all up."""
    down = _down_nodes(state, phases, intents)
    out = []
    for p in phases:
        blocks = []
        for b in p.blocks:
            others = sorted(down - {b.asset}, key=node_index) if down and _disturbs(b) else []
            if others:
                names = ", ".join(others)
                b = replace(
                    b,
                    message=f"{b.message}; waiting until {names} is up (UN and CQL-ready) "
                    "or its block is forced complete",
                    action=WaitForNode(b.asset or b.name, f"waiting for {names}"),
                )
            blocks.append(b)
        out.append(replace(p, blocks=tuple(blocks)))
    return out
