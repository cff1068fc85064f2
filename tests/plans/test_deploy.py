"""The deploy plan over many store snapshots: statuses, strategies and the action of each block."""

from __future__ import annotations

from model.cluster import config_id, parse_spec
from model.intents import PlanIntents
from model.node import NodeHealth, datacenter_token_offset, initial_tokens
from plans import verbs
from plans.actions import KillNode, LaunchNode, Reconcile, SyncDatacenter, WaitForNode
from plans.cassandra.deploy import build_deploy_plan
from plans.coordinator import next_work
from plans.model import Plan, Status, Strategy
from plans.status import phase_status, plan_status
from plans.strategy import plan_candidates
from tests.plans.factories import JOINING, READY, cluster_state, ready_records, record

NO_INTENTS = PlanIntents("deploy")


def build(state, intents: PlanIntents = NO_INTENTS) -> Plan:  # type: ignore[no-untyped-def]
    return build_deploy_plan(state, intents)


def phases(plan: Plan) -> dict[str, tuple[Strategy, list[Status]]]:
    return {p.name: (p.strategy, [b.status for b in p.blocks]) for p in plan.phases}


def acting(plan: Plan) -> list[tuple[str, object]]:
    return [(w.block.name, w.action) for w in plan_candidates(plan)]


def test_new_cluster_starts_its_seeds_together_with_balanced_tokens() -> None:
    state = cluster_state({"nodes": 5, "seeds": 2, "racks": ["r1", "r2"]})
    plan = build(state)
    assert [p.name for p in plan.phases] == ["reconciliation", "seeds", "nodes"]
    assert phases(plan)["seeds"] == (Strategy.PARALLEL, [Status.PENDING] * 2)
    assert phases(plan)["nodes"] == (Strategy.PARALLEL, [Status.PENDING] * 3)
    work = acting(plan)
    assert [name for name, _ in work] == ["node-0", "node-1"]
    tokens = initial_tokens(5, 16, datacenter_token_offset("dc1"))
    for i, (name, action) in enumerate(work):
        assert isinstance(action, LaunchNode)
        assert action.node == name and not action.in_place and not action.bootstrap and action.seed
        assert action.initial_tokens == tuple(tokens[i])
        assert action.genesis_nodes == 5 and action.config_id == state.config_id
        assert action.rack == ["r1", "r2"][i]
        assert action.record_extra()["genesis_nodes"] == 5


def test_the_other_original_nodes_start_together_once_the_seeds_are_up() -> None:
    spec = parse_spec({"nodes": 5})
    recs, health = ready_records(spec, 2, genesis=5)
    plan = build(cluster_state(spec, recs, health))
    assert phases(plan)["seeds"] == (Strategy.PARALLEL, [Status.COMPLETE] * 2)
    work = acting(plan)
    assert [name for name, _ in work] == ["node-2", "node-3", "node-4"]
    assert all(isinstance(a, LaunchNode) and not a.bootstrap and not a.seed for _, a in work)


def test_a_seed_that_is_not_ready_holds_the_other_nodes() -> None:
    spec = parse_spec({"nodes": 3})
    recs = [record("node-0", config=spec), record("node-1", config=spec)]
    plan = build(cluster_state(spec, recs, {"node-0": READY, "node-1": JOINING}))
    assert phases(plan)["seeds"][1] == [Status.COMPLETE, Status.STARTED]
    assert plan.phases[1].blocks[1].message == "TASK_RUNNING, mode JOINING, CQL not ready"
    assert acting(plan) == [("node-1", WaitForNode("node-1", "Cassandra starting"))]
    assert plan_status(plan) is Status.PREPARED


def test_complete_only_when_running_normal_and_answering_cql() -> None:
    spec = parse_spec({"nodes": 1})
    cases = [
        (record("node-0", "TASK_STAGING", config=spec), None, Status.STARTING),
        (record("node-0", "TASK_STARTING", config=spec), None, Status.STARTING),
        (record("node-0", "TASK_RUNNING", config=spec), None, Status.STARTED),
        (record("node-0", "TASK_RUNNING", config=spec), NodeHealth("NORMAL", False), Status.STARTED),
        (record("node-0", "TASK_RUNNING", config=spec), NodeHealth("JOINING", True), Status.STARTED),
        (record("node-0", "TASK_RUNNING", config=spec), NodeHealth("NORMAL", True), Status.COMPLETE),
        (record("node-0", "TASK_STARTING", config=spec), NodeHealth("NORMAL", True), Status.STARTING),
        # An observation of an older task never completes the block.
        (
            record("node-0", "TASK_RUNNING", config=spec),
            NodeHealth("NORMAL", True, task_id="demo__node-0__old"),
            Status.STARTED,
        ),
    ]
    for rec, health, expected in cases:
        plan = build(cluster_state(spec, [rec], {"node-0": health} if health else {}))
        assert plan.phases[1].blocks[0].status is expected, (rec.state, health)
    done = build(cluster_state(spec, [cases[5][0]], {"node-0": READY}))
    assert plan_status(done) is Status.COMPLETE
    assert acting(done) == []


def test_reconciliation_comes_first() -> None:
    plan = build(cluster_state({"nodes": 3}, reconciled=False))
    assert phases(plan)["reconciliation"] == (Strategy.SERIAL, [Status.STARTING])
    assert acting(plan) == [("reconciliation", Reconcile())]


def test_datacenter_sync_gates_the_nodes_until_each_peer_answered_once() -> None:
    peers = ["http://dc2:9000", "http://dc3:9000"]
    state = cluster_state({"nodes": 3, "peers": peers}, synced_peers=frozenset({peers[0]}))
    plan = build(state)
    assert [p.name for p in plan.phases] == ["reconciliation", "sync-datacenter", "seeds", "nodes"]
    assert phases(plan)["sync-datacenter"][1] == [Status.COMPLETE, Status.PENDING]
    assert acting(plan) == [(peers[1], SyncDatacenter(peers[1]))]
    # A peer that is down for good: the operator forces its block and the nodes proceed.
    forced = verbs.force_complete(plan, NO_INTENTS, phase="sync-datacenter", block=peers[1]).intents
    assert [name for name, _ in acting(build(state, forced))] == ["node-0", "node-1"]


def test_scaling_or_reseeding_restarts_no_running_node() -> None:
    old = parse_spec({"nodes": 3, "seeds": 2})
    recs, health = ready_records(old, 3)
    for change in ({"nodes": 4}, {"nodes": 3, "seeds": 3}, {"nodes": 3, "placement": ""}):
        plan = build(cluster_state({**old.to_json(), **change}, recs, health))
        assert not any(isinstance(a, KillNode) for _, a in acting(plan)), change
        assert [b.status for p in plan.phases[1:3] for b in p.blocks] == [Status.COMPLETE] * 3


def test_scale_out_joins_one_node_at_a_time_with_bootstrap() -> None:
    spec = parse_spec({"nodes": 5})
    recs, health = ready_records(spec, 3)
    plan = build(cluster_state(spec, recs, health))
    assert [p.name for p in plan.phases] == ["reconciliation", "seeds", "nodes", "join"]
    assert phases(plan)["join"] == (Strategy.SERIAL, [Status.PENDING, Status.PENDING])
    ((name, action),) = acting(plan)
    assert name == "node-3"
    assert isinstance(action, LaunchNode) and action.bootstrap and action.initial_tokens == ()
    assert action.genesis_nodes == 3 and not action.seed
    # node-3 is joining: node-4 waits.
    joining = [*recs, record("node-3", config=spec, bootstrap=True)]
    plan = build(cluster_state(spec, joining, {**health, "node-3": JOINING}))
    assert acting(plan) == [("node-3", WaitForNode("node-3", "Cassandra starting"))]
    # node-3 is UN and answers CQL: node-4 goes.
    plan = build(cluster_state(spec, joining, {**health, "node-3": READY}))
    ((name, action),) = acting(plan)
    assert name == "node-4" and isinstance(action, LaunchNode) and action.bootstrap


def test_nodes_added_before_the_cluster_formed_still_form_it() -> None:
    # Launches recorded genesis=3; the user scaled to 4 before node-2 was placed.
    spec = parse_spec({"nodes": 4})
    recs = [record("node-0", config=spec, genesis=3), record("node-1", config=spec, genesis=3)]
    plan = build(cluster_state(spec, recs, {"node-0": READY, "node-1": READY}))
    node2 = plan.phases[2].blocks[0]
    assert plan.phases[2].name == "nodes" and isinstance(node2.action, LaunchNode)
    assert not node2.action.bootstrap and node2.action.initial_tokens == tuple(
        initial_tokens(3, 16, datacenter_token_offset("dc1"))[2]
    )
    assert plan.phases[3].name == "join" and [b.name for b in plan.phases[3].blocks] == ["node-3"]


def test_records_without_genesis_count_every_recorded_node_as_original() -> None:
    spec = parse_spec({"nodes": 4})
    recs = [record(f"node-{i}", genesis=None) for i in range(3)]
    plan = build(cluster_state(spec, recs, {f"node-{i}": READY for i in range(3)}))
    assert [b.name for b in plan.phases[-1].blocks] == ["node-3"]
    assert plan.phases[-1].name == "join"


def test_config_update_rolls_one_node_at_a_time() -> None:
    old = parse_spec({"nodes": 3})
    new = parse_spec({"nodes": 3, "cassandra_yaml": {"concurrent_writes": 64}})
    recs, health = ready_records(old, 3)
    plan = build(cluster_state(new, recs, health))
    assert phases(plan)["seeds"][0] is Strategy.SERIAL
    ((name, action),) = acting(plan)
    assert name == "node-0" and action == KillNode(
        "node-0", recs[0].task_id, f"config {config_id(old)} -> {config_id(new)}"
    )
    # The old task is dying, then dead: relaunch in place with the new config.
    killing = [record("node-0", "TASK_KILLING", config=old), *recs[1:]]
    assert acting(build(cluster_state(new, killing, health)))[0][1] == WaitForNode("node-0", "old task dying")
    dead = [record("node-0", "TASK_KILLED", config=old, bootstrap=False), *recs[1:]]
    plan = build(cluster_state(new, dead, health))
    ((name, action),) = acting(plan)
    assert isinstance(action, LaunchNode) and action.in_place and action.config_id == config_id(new)
    assert action.reason == "config-update" and not action.bootstrap
    assert plan.phases[1].blocks[0].status is Status.PREPARED
    # node-0 back on the new config and ready: node-1 is next; node-2 untouched.
    back = [record("node-0", config=new, launch_count=2), *recs[1:]]
    ((name, action),) = acting(build(cluster_state(new, back, health)))
    assert name == "node-1" and isinstance(action, KillNode)


def test_operator_restart_of_a_phase_is_a_rolling_restart() -> None:
    spec = parse_spec({"nodes": 3})
    recs, health = ready_records(spec, 3)
    state = cluster_state(spec, recs, health)
    plan = build(state)
    intents = verbs.restart(plan, NO_INTENTS, phase="seeds").intents
    plan = build(state, intents)
    assert phases(plan)["seeds"] == (Strategy.SERIAL, [Status.PENDING, Status.PENDING])
    assert phases(plan)["nodes"][1] == [Status.COMPLETE]
    ((name, action),) = acting(plan)
    assert name == "node-0" and isinstance(action, KillNode) and "restart" in action.reason
    relaunched = [record("node-0", config=spec, launch_count=2), *recs[1:]]
    plan = build(cluster_state(spec, relaunched, health), intents)
    assert [b.status for b in plan.phases[1].blocks] == [Status.COMPLETE, Status.PENDING]
    assert [name for name, _ in acting(plan)] == ["node-1"]


def test_failed_task_relaunches_in_place_with_its_first_boot_choices() -> None:
    spec = parse_spec({"nodes": 3})
    recs, health = ready_records(spec, 3)
    recs[2] = record("node-2", "TASK_FAILED", config=spec, bootstrap=False, message="OOM")
    plan = build(cluster_state(spec, recs, health))
    block = plan.phases[2].blocks[0]
    assert block.status is Status.PREPARED and block.message == "TASK_FAILED (OOM): relaunching in place"
    assert isinstance(block.action, LaunchNode) and block.action.in_place and not block.action.bootstrap
    assert block.action.initial_tokens == tuple(initial_tokens(3, 16, datacenter_token_offset("dc1"))[2])


def test_task_error_and_gone_agents_need_an_operator() -> None:
    spec = parse_spec({"nodes": 1})
    err = build(cluster_state(spec, [record("node-0", "TASK_ERROR", message="bad resources")]))
    assert (
        err.phases[1].blocks[0].status is Status.ERROR and "bad resources" in err.phases[1].blocks[0].message
    )
    assert plan_status(err) is Status.ERROR and acting(err) == []
    gone = build(cluster_state(spec, [record("node-0", "TASK_GONE_BY_OPERATOR")]))
    assert "replace the node" in gone.phases[1].blocks[0].message and acting(gone) == []
    # Restarting the failed block relaunches it in place.
    intents = verbs.restart(err, NO_INTENTS, phase="seeds", block="node-0").intents
    retry = build(cluster_state(spec, [record("node-0", "TASK_ERROR")]), intents)
    ((_, action),) = acting(retry)
    assert isinstance(action, LaunchNode) and action.in_place and action.reason == "restart"


def test_forced_block_does_not_act_and_unblocks_serial_work() -> None:
    spec = parse_spec({"nodes": 4})
    recs, health = ready_records(spec, 3)
    recs[0] = record("node-0", "TASK_ERROR", config=spec, genesis=3)
    plan = build(cluster_state(spec, recs, health))
    assert phase_status(plan.phases[1]) is Status.ERROR
    intents = verbs.force_complete(plan, NO_INTENTS, phase="seeds", block="node-0").intents
    plan = build(cluster_state(spec, recs, health), intents)
    assert [name for name, _ in acting(plan)] == ["node-3"]


def test_one_node_cluster_has_only_a_seed_phase() -> None:
    plan = build(cluster_state({"nodes": 1}))
    assert [p.name for p in plan.phases] == ["reconciliation", "seeds"]


def test_interrupted_deploy_lets_recovery_take_failed_nodes() -> None:
    from plans.cassandra.recovery import build_recovery_plan

    spec = parse_spec({"nodes": 3})
    recs, health = ready_records(spec, 3)
    recs[1] = record("node-1", "TASK_FAILED", config=spec, bootstrap=False)
    state = cluster_state(spec, recs, health)
    recovery = build_recovery_plan(state, PlanIntents("recovery"))
    running = next_work([build(state), recovery])
    assert [(w.plan, w.block.name) for w in running] == [("deploy", "node-1")]
    paused = next_work([build(state, PlanIntents("deploy", interrupted=True)), recovery])
    assert [(w.plan, w.block.name) for w in paused] == [("recovery", "node-1")]


def test_rolling_change_and_joins_wait_while_another_node_is_down() -> None:
    old = parse_spec({"nodes": 3})
    new = parse_spec({"nodes": 4, "cassandra_yaml": {"concurrent_writes": 64}})
    recs, health = ready_records(old, 3)
    health["node-2"] = NodeHealth("UNKNOWN", False)  # running but not answering: down for Cassandra
    plan = build(cluster_state(new, recs, health))
    ((name, action),) = acting(plan)
    assert name == "node-0" and action == WaitForNode("node-0", "waiting for node-2")
    assert "waiting until node-2 is up" in plan.phases[1].blocks[0].message
    assert plan.phases[1].blocks[0].status is Status.PENDING
    # The operator gives up on node-2 for now: the roll proceeds.
    forced = verbs.force_complete(plan, NO_INTENTS, phase="nodes", block="node-2").intents
    ((_, action),) = acting(build(cluster_state(new, recs, health), forced))
    assert isinstance(action, KillNode)
    # A join waits the same way.
    joiner = parse_spec({"nodes": 4})
    recs2, health2 = ready_records(joiner, 3)
    recs2[1] = record("node-1", "TASK_FAILED", config=joiner)
    plan = build(cluster_state(joiner, recs2, health2))
    join = plan.phases[-1].blocks[0]
    assert join.name == "node-3" and join.action == WaitForNode("node-3", "waiting for node-1")
    # ... while the dead node itself is relaunched (it is already down, relaunching disturbs nobody).
    assert plan.phases[1].blocks[1].action is not None and isinstance(
        plan.phases[1].blocks[1].action, LaunchNode
    )
