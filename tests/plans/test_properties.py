"""Safety properties of the deploy and recovery plans over random store snapshots."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from model.cluster import ClusterSpec, parse_spec
from model.intents import PlanIntents
from model.node import NodeHealth
from model.records import TaskRecord
from plans.actions import KillNode, LaunchNode
from plans.cassandra.catalog import build_plans
from plans.cassandra.state import ClusterState
from plans.coordinator import next_work
from plans.model import Status
from plans.render import render_plan
from tests.plans.factories import cluster_state, record

OLD = parse_spec({"nodes": 6, "seeds": 2})
NEW = parse_spec({"nodes": 6, "seeds": 2, "cassandra_yaml": {"concurrent_writes": 64}})
STATES = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_GONE",
    "TASK_UNREACHABLE",
]
MODES = ["NORMAL", "JOINING", "UNKNOWN", "LEAVING"]


@st.composite
def snapshots(draw: st.DrawFn) -> ClusterState:
    size = draw(st.integers(1, 8))
    spec = draw(st.sampled_from([OLD, NEW]))
    spec = parse_spec({**spec.to_json(), "nodes": size, "seeds": min(2, size)})
    genesis = draw(st.integers(1, size))
    records: list[TaskRecord] = []
    health: dict[str, NodeHealth] = {}
    for i in range(size):
        if not draw(st.booleans()):
            continue
        node = f"node-{i}"
        cfg: ClusterSpec = draw(st.sampled_from([spec, OLD]))
        records.append(
            record(
                node,
                draw(st.sampled_from(STATES)),
                config=cfg,
                genesis=genesis,
                bootstrap=i >= genesis,
                launch_count=draw(st.integers(1, 3)),
                reason=draw(st.sampled_from(["deploy", "recovery", "relaunch"])),
            )
        )
        if draw(st.booleans()):
            health[node] = NodeHealth(draw(st.sampled_from(MODES)), draw(st.booleans()))
    return cluster_state(spec, records, health)


@settings(max_examples=100, deadline=None)
@given(snapshots(), st.booleans())
def test_one_cycle_never_disturbs_two_nodes_or_acts_twice_on_one(state: ClusterState, paused: bool) -> None:
    intents = {"deploy": PlanIntents("deploy", interrupted=paused)}
    plans = build_plans(state, intents)
    work = next_work(plans)
    nodes = [w.block.asset for w in work if w.block.asset is not None]
    assert len(nodes) == len(set(nodes)), "two plans act on one node"
    kills = [w for w in work if isinstance(w.action, KillNode)]
    assert len(kills) <= 1, "a rolling change stops more than one running node"
    bootstraps = [
        w for w in work if isinstance(w.action, LaunchNode) and w.action.bootstrap and not w.action.in_place
    ]
    assert len(bootstraps) <= 1, "two nodes bootstrap at once"
    if kills or bootstraps:
        # Nothing else in the deploy plan disturbs a node in the same cycle.
        other = [
            w
            for w in work
            if w.plan == "deploy"
            and isinstance(w.action, KillNode | LaunchNode)
            and w not in kills + bootstraps
            and not (isinstance(w.action, LaunchNode) and w.action.in_place)
        ]
        assert not other, [(w.plan, w.block.name, w.action) for w in work]


@settings(max_examples=100, deadline=None)
@given(snapshots())
def test_complete_node_blocks_are_running_ready_nodes(state: ClusterState) -> None:
    for plan in build_plans(state, {}):
        for phase in plan.phases:
            for block in phase.blocks:
                if block.asset is None or block.status is not Status.COMPLETE:
                    continue
                rec = state.records[block.asset]
                health = state.health_of(block.asset)
                assert rec.state == "TASK_RUNNING" and health is not None and health.is_ready


@settings(max_examples=100, deadline=None)
@given(snapshots())
def test_plans_render_to_json_with_unique_ids(state: ClusterState) -> None:
    for plan in build_plans(state, {}):
        doc = render_plan(plan)
        json.dumps(doc)
        ids = [p["id"] for p in doc["phases"]] + [b["id"] for p in doc["phases"] for b in p["blocks"]]
        assert len(ids) == len(set(ids))
        assert all(b["message"] for p in doc["phases"] for b in p["blocks"])
