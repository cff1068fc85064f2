"""The recovery plan: a block per node whose task ended, relaunched in place."""

from __future__ import annotations

from model.cluster import config_id, parse_spec
from model.intents import PlanIntents
from plans.actions import LaunchNode, WaitForNode
from plans.cassandra.recovery import build_recovery_plan
from plans.model import Plan, Status, Strategy
from plans.status import plan_status
from plans.strategy import plan_candidates
from tests.plans.factories import JOINING, READY, cluster_state, ready_records, record

NO_INTENTS = PlanIntents("recovery")
SPEC = parse_spec({"nodes": 4})
CID = config_id(SPEC)


def blocks(plan: Plan) -> list[tuple[str, Status]]:
    return [(b.name, b.status) for b in plan.phases[0].blocks]


def test_healthy_cluster_has_nothing_to_recover() -> None:
    recs, health = ready_records(SPEC, 4)
    plan = build_recovery_plan(cluster_state(SPEC, recs, health), NO_INTENTS)
    assert plan.name == "recovery" and plan.strategy is Strategy.PARALLEL
    assert [p.name for p in plan.phases] == ["recovery"]
    assert blocks(plan) == [] and plan_status(plan) is Status.COMPLETE


def test_every_ended_task_gets_an_in_place_relaunch_in_parallel() -> None:
    recs, health = ready_records(SPEC, 4)
    recs[1] = record("node-1", "TASK_FAILED", config=SPEC, bootstrap=False, genesis=4)
    recs[3] = record("node-3", "TASK_LOST", config=SPEC, bootstrap=False, genesis=4, launch_count=4)
    plan = build_recovery_plan(cluster_state(SPEC, recs, health), NO_INTENTS)
    assert blocks(plan) == [("node-1", Status.PREPARED), ("node-3", Status.PREPARED)]
    work = plan_candidates(plan)
    assert [w.block.name for w in work] == ["node-1", "node-3"]
    for w in work:
        action = w.action
        assert isinstance(action, LaunchNode)
        assert action.in_place and not action.bootstrap and action.reason == "recovery"
    assert plan.phases[0].blocks[1].generation == 4


def test_a_recovered_node_stays_visible_until_ready() -> None:
    recs, health = ready_records(SPEC, 4)
    recs[2] = record("node-2", "TASK_RUNNING", config=SPEC, reason="recovery", launch_count=2)
    state = cluster_state(SPEC, recs, {**health, "node-2": JOINING})
    plan = build_recovery_plan(state, NO_INTENTS)
    assert blocks(plan) == [("node-2", Status.STARTED)]
    assert plan_candidates(plan)[0].action == WaitForNode("node-2", "Cassandra starting")
    ready = build_recovery_plan(cluster_state(SPEC, recs, {**health, "node-2": READY}), NO_INTENTS)
    assert blocks(ready) == [] and plan_status(ready) is Status.COMPLETE


def test_gone_agent_and_invalid_task_are_errors_not_loops() -> None:
    recs, health = ready_records(SPEC, 4)
    recs[0] = record("node-0", "TASK_GONE", config=SPEC)
    recs[1] = record("node-1", "TASK_ERROR", config=SPEC)
    plan = build_recovery_plan(cluster_state(SPEC, recs, health), NO_INTENTS)
    assert blocks(plan) == [("node-0", Status.ERROR), ("node-1", Status.ERROR)]
    assert "replace the node" in plan.phases[0].blocks[0].message
    assert plan_candidates(plan) == []
    assert plan_status(plan) is Status.ERROR


def test_nodes_outside_the_spec_are_not_recovered() -> None:
    recs, health = ready_records(SPEC, 4)
    extra = record("node-7", "TASK_FAILED", config=SPEC)
    plan = build_recovery_plan(cluster_state(SPEC, [*recs, extra], health), NO_INTENTS)
    assert blocks(plan) == []


def test_recovery_block_can_be_interrupted() -> None:
    recs, health = ready_records(SPEC, 4)
    recs[1] = record("node-1", "TASK_FAILED", config=SPEC)
    state = cluster_state(SPEC, recs, health)
    plan = build_recovery_plan(state, NO_INTENTS)
    intents = PlanIntents("recovery", interrupted_blocks=frozenset({plan.phases[0].blocks[0].id}))
    paused = build_recovery_plan(state, intents)
    assert blocks(paused) == [("node-1", Status.WAITING)] and plan_candidates(paused) == []


def test_recovery_never_stops_a_running_node_for_a_config_change() -> None:
    new = parse_spec({"nodes": 4, "cassandra_yaml": {"concurrent_writes": 64}})
    recs, health = ready_records(SPEC, 4)
    recs[1] = record("node-1", "TASK_RUNNING", config=SPEC, reason="recovery", launch_count=2)
    recs[2] = record("node-2", "TASK_FAILED", config=SPEC)
    plan = build_recovery_plan(cluster_state(new, recs, {**health, "node-1": JOINING}), NO_INTENTS)
    assert blocks(plan) == [("node-1", Status.STARTED), ("node-2", Status.PREPARED)]
    work = plan_candidates(plan)
    assert isinstance(work[0].action, WaitForNode)
    relaunch = work[1].action
    assert isinstance(relaunch, LaunchNode) and relaunch.config_id == config_id(new)
