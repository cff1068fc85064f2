"""The replace plan of a node: kill the old task if it runs, launch elsewhere replacing its address."""

from __future__ import annotations

from model.cluster import parse_spec
from model.intents import PlanIntents
from model.operations import NodeReplace
from plans.actions import DeleteIntent, KillNode, LaunchNode
from plans.cassandra.replace import build_replace_plan
from plans.model import Plan
from plans.strategy import plan_candidates
from tests.plans.factories import READY, cluster_state, ready_records, record, task_id

SPEC = parse_spec({"nodes": 3})
OLD = NodeReplace("node-0", 1.0, task_id("node-0", 1), "agent-node-0", "10.0.0.7")


def actions(plan: Plan) -> list[object]:
    return [w.action for w in plan_candidates(plan)]


def test_a_still_running_old_task_is_killed_before_anything_is_launched() -> None:
    recs, health = ready_records(SPEC, 3)
    plan = build_replace_plan(cluster_state(SPEC, recs, health), OLD.to_intents())
    assert plan.name == "replace-node-0"
    assert [p.name for p in plan.phases] == ["kill-old-task", "launch", "finish"]
    assert actions(plan) == [KillNode("node-0", OLD.old_task_id or "", "replaced")]


def test_an_unreachable_old_task_is_not_waited_for_and_the_node_launches_elsewhere_replacing_it() -> None:
    recs, health = ready_records(SPEC, 3)
    recs[0] = record("node-0", "TASK_UNREACHABLE", config=SPEC, bootstrap=False)
    (act,) = actions(build_replace_plan(cluster_state(SPEC, recs, health), OLD.to_intents()))
    assert isinstance(act, LaunchNode) and not act.in_place
    assert act.avoid_agent == "agent-node-0" and act.replace_address == "10.0.0.7"
    # It streams the old node's ranges: bootstrap on, no initial tokens of its own.
    assert act.bootstrap and act.initial_tokens == ()


def test_once_the_new_node_is_ready_the_request_is_deleted() -> None:
    recs, health = ready_records(SPEC, 3)
    recs[0] = record(
        "node-0",
        config=SPEC,
        launch_count=2,
        reason="replace",
        bootstrap=True,
        extra={"replace_address": "10.0.0.7"},
    )
    plan = build_replace_plan(cluster_state(SPEC, recs, {**health, "node-0": READY}), OLD.to_intents())
    assert actions(plan) == [DeleteIntent("replace-node-0")]


def test_an_unreadable_request_is_shown_as_the_plans_error() -> None:
    plan = build_replace_plan(cluster_state(SPEC, []), PlanIntents("replace-node-0", parameters={"x": 1}))
    assert plan.errors and "not a replace request" in plan.errors[0]
    assert actions(plan) == []


def test_the_old_node_is_named_with_its_storage_port() -> None:
    """Nodes on one host differ by port; Cassandra must look for the old node's own port in gossip."""
    from dataclasses import replace as with_

    recs, health = ready_records(SPEC, 3)
    recs[0] = record("node-0", "TASK_LOST", config=SPEC, bootstrap=False)
    request = with_(OLD, old_storage_port=23200)
    (act,) = actions(build_replace_plan(cluster_state(SPEC, recs, health), request.to_intents()))
    assert isinstance(act, LaunchNode) and act.replace_address == "10.0.0.7:23200"
    assert NodeReplace.from_json(request.to_json()) == request
