"""Builders of test inputs for the plan tests: task records, health, small plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from model.cluster import ClusterSpec, config_id, node_config_id, parse_spec
from model.node import NodeHealth
from model.records import TaskRecord
from plans.actions import LaunchNode, WaitForNode
from plans.cassandra.state import ClusterState
from plans.model import Block, Phase, Plan, Status, Strategy, new_block, new_phase, new_plan

CLUSTER = "demo"


def record(
    node: str,
    state: str | None = "TASK_RUNNING",
    *,
    launch_count: int = 1,
    config: ClusterSpec | None = None,
    genesis: int | None = 3,
    bootstrap: bool | None = None,
    reason: str = "deploy",
    message: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> TaskRecord:
    ext: dict[str, Any] = {"launch_reason": reason}
    if config is not None:
        ext["config_id"] = config_id(config)
        ext["node_config"] = node_config_id(config)
    if genesis is not None:
        ext["genesis_nodes"] = genesis
    if bootstrap is not None:
        ext["bootstrap"] = bootstrap
    ext.update(extra or {})
    status = None
    if state is not None:
        status = {"task_id": {"value": task_id(node, launch_count)}, "state": state}
        if message:
            status["message"] = message
    return TaskRecord(
        cluster=CLUSTER,
        node=node,
        task_info={"task_id": {"value": task_id(node, launch_count)}, "agent_id": {"value": f"agent-{node}"}},
        status=status,
        launch_count=launch_count,
        extra=ext,
    )


def task_id(node: str, launch_count: int) -> str:
    return f"{CLUSTER}__{node}__uuid{launch_count}"


READY = NodeHealth(mode="NORMAL", cql_ready=True)
JOINING = NodeHealth(mode="JOINING", cql_ready=False)


def cluster_state(
    spec: Mapping[str, Any] | ClusterSpec,
    records: Sequence[TaskRecord] = (),
    health: Mapping[str, NodeHealth] | None = None,
    **kw: Any,
) -> ClusterState:
    s = spec if isinstance(spec, ClusterSpec) else parse_spec(dict(spec))
    return ClusterState(
        cluster=CLUSTER,
        spec=s,
        config_id=config_id(s),
        records={r.node: r for r in records},
        health=dict(health or {}),
        **kw,
    )


def ready_records(spec: ClusterSpec, count: int, genesis: int | None = None) -> tuple[list[TaskRecord], dict]:
    """``count`` nodes running the spec's config, all UN and CQL-ready."""
    g = genesis if genesis is not None else count
    recs = [record(f"node-{i}", config=spec, genesis=g, bootstrap=False) for i in range(count)]
    return recs, {r.node: READY for r in recs}


def blk(name: str, status: Status, plan: str = "p", phase: str = "ph", asset: str | None = None) -> Block:
    action = None if status is Status.COMPLETE else WaitForNode(asset or name, "test")
    gen = 0 if status is Status.PENDING else 1
    return new_block(plan, phase, name, status, action=action, asset=asset or name, generation=gen)


def launch_blk(name: str, plan: str = "p", phase: str = "ph") -> Block:
    action = LaunchNode(node=name, in_place=False, bootstrap=False, config_id="c", reason="deploy")
    return new_block(plan, phase, name, Status.PENDING, action=action, asset=name)


def phase_of(statuses: Sequence[Status], strategy: Strategy, name: str = "ph", plan: str = "p") -> Phase:
    blocks = [blk(f"node-{i}", s, plan=plan, phase=name) for i, s in enumerate(statuses)]
    return new_phase(plan, name, strategy, blocks)


def plan_of(phases: Sequence[Phase], strategy: Strategy = Strategy.SERIAL, name: str = "p") -> Plan:
    return new_plan(name, strategy, phases)
