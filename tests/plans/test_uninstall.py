"""The uninstall plan: kill every task, release every node's resources, then forget the cluster."""

from __future__ import annotations

from model.cluster import parse_spec
from model.intents import PlanIntents
from plans.actions import ForgetCluster, KillNode, ReleaseNode
from plans.cassandra.uninstall import build_uninstall_plan
from plans.model import Plan, Status
from plans.status import plan_status
from plans.strategy import plan_candidates
from tests.plans.factories import cluster_state, record

SPEC = parse_spec({"nodes": 3})
NO_INTENTS = PlanIntents("uninstall")


def actions(plan: Plan) -> list[object]:
    return [w.action for w in plan_candidates(plan)]


def test_running_tasks_are_all_killed_first_and_nothing_is_released_meanwhile() -> None:
    recs = [record("node-0"), record("node-1", "TASK_KILLING"), record("node-2", "TASK_FAILED")]
    plan = build_uninstall_plan(cluster_state(SPEC, recs), NO_INTENTS)
    assert [p.name for p in plan.phases] == ["kill-tasks", "release-resources", "forget"]
    kills = {b.name: b.status for b in plan.phases[0].blocks}
    assert kills == {"node-0": Status.PENDING, "node-1": Status.STARTING, "node-2": Status.COMPLETE}
    acts = actions(plan)
    assert {type(a) for a in acts} == {KillNode}
    assert {a.node for a in acts if isinstance(a, KillNode)} == {"node-0", "node-1"}


def test_unreachable_task_blocks_the_release_until_terminal_or_forced() -> None:
    recs = [record("node-0", "TASK_UNREACHABLE"), record("node-1", "TASK_KILLED")]
    plan = build_uninstall_plan(cluster_state(SPEC, recs), NO_INTENTS)
    assert {type(a) for a in actions(plan)} == {KillNode}
    forced = PlanIntents("uninstall", forced_complete=frozenset({plan.phases[0].blocks[0].id}))
    plan = build_uninstall_plan(cluster_state(SPEC, recs), forced)
    assert all(isinstance(a, ReleaseNode) for a in actions(plan)) and len(actions(plan)) == 2


def test_once_every_task_ended_each_node_is_released_on_its_agent_gone_agents_at_once() -> None:
    recs = [record("node-0", "TASK_KILLED"), record("node-1", "TASK_GONE")]
    plan = build_uninstall_plan(cluster_state(SPEC, recs), NO_INTENTS)
    rel = {a.node: a for a in actions(plan) if isinstance(a, ReleaseNode)}
    assert rel["node-0"].await_offer and rel["node-0"].agent_id == "agent-node-0"
    assert not rel["node-1"].await_offer
    assert plan_status(plan) is not Status.COMPLETE


def test_with_every_node_released_the_cluster_is_forgotten() -> None:
    plan = build_uninstall_plan(cluster_state(SPEC, []), NO_INTENTS)
    assert actions(plan) == [ForgetCluster()]
    assert plan.phases[0].blocks[0].status is Status.COMPLETE
