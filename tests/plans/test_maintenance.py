"""Cleanup and repair plans: one node at a time through the sidecars' jobs; the cleanup offered
after a scale-out; jobs no request wants are stopped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from model.cluster import parse_spec
from model.errors import InvalidInput
from model.intents import PlanIntents
from model.maintenance import JobStatus, MaintenanceRequest, NodeResult, parse_start_body
from model.node import NodeHealth
from plans import verbs
from plans.actions import OfferCleanup, RecordJobResult, StartJob, StopJob
from plans.cassandra.maintenance import build_maintenance_plan, cleanup_offer, orphan_jobs
from plans.model import Plan, Status, Strategy, new_phase, new_plan
from plans.status import plan_status
from plans.strategy import plan_candidates
from tests.plans.factories import READY, cluster_state, ready_records, record, task_id

SPEC = parse_spec({"nodes": 3})
REQUEST = MaintenanceRequest("cleanup", "op1", ("node-0", "node-1", "node-2"), 1.0, ("ks",))


def actions(plan: Plan) -> list[object]:
    return [w.action for w in plan_candidates(plan) if w.action is not None]


def with_jobs(health: NodeHealth, *jobs: JobStatus) -> NodeHealth:
    return replace(health, jobs=jobs)


def statuses(plan: Plan) -> list[Status]:
    return [b.status for p in plan.phases for b in p.blocks]


def test_the_first_node_gets_its_job_and_the_others_wait_their_turn() -> None:
    recs, health = ready_records(SPEC, 3)
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), REQUEST.to_intents())
    assert plan.name == "cleanup" and [p.name for p in plan.phases] == ["nodes"]
    (act,) = actions(plan)
    assert act == StartJob("node-0", task_id("node-0", 1), REQUEST.job("node-0", 1))
    assert act.job.nodetool_commands() == [["cleanup", "--", "ks"]]


def test_a_running_job_holds_the_block_and_a_finished_one_is_recorded_then_complete() -> None:
    recs, health = ready_records(SPEC, 3)
    job = REQUEST.job("node-0", 1)
    health["node-0"] = with_jobs(READY, JobStatus(job.id, "cleanup", "RUNNING", "step 1/1"))
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), REQUEST.to_intents())
    assert statuses(plan)[0] is Status.STARTED and actions(plan) == []
    health["node-0"] = with_jobs(READY, JobStatus(job.id, "cleanup", "SUCCEEDED", "1 done"))
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), REQUEST.to_intents())
    assert actions(plan) == [RecordJobResult("cleanup", "node-0", NodeResult("SUCCEEDED", 1, "1 done"))]
    recorded = REQUEST.with_result("node-0", NodeResult("SUCCEEDED", 1, "1 done"))
    # The sidecar may forget (restart): the recorded result is what counts.
    health["node-0"] = READY
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), recorded.to_intents())
    assert statuses(plan)[0] is Status.COMPLETE
    assert actions(plan) == [StartJob("node-1", task_id("node-1", 1), recorded.job("node-1", 1))]


def test_a_failed_job_is_an_error_until_the_block_is_restarted_as_a_new_attempt() -> None:
    recs, health = ready_records(SPEC, 3)
    failed = REQUEST.with_result("node-0", NodeResult("FAILED", 1, "nodetool exited 2"))
    intents = failed.to_intents()
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), intents)
    assert plan_status(plan) is Status.ERROR and "nodetool exited 2" in plan.phases[0].blocks[0].message
    restarted = verbs.restart(plan, intents, None, "node-0").intents
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), restarted)
    (act,) = actions(plan)
    assert isinstance(act, StartJob) and act.job.id == failed.job("node-0", 2).id


def test_a_node_that_is_not_up_normal_is_waited_for_without_action() -> None:
    recs, health = ready_records(SPEC, 3)
    recs[0] = record("node-0", "TASK_FAILED", config=SPEC, bootstrap=False)
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), REQUEST.to_intents())
    assert statuses(plan)[0] is Status.PENDING and actions(plan) == []
    assert "TASK_FAILED" in plan.phases[0].blocks[0].message


def test_an_offered_cleanup_waits_for_an_operators_continue() -> None:
    recs, health = ready_records(SPEC, 3)
    plan = build_maintenance_plan(cluster_state(SPEC, recs, health), REQUEST.to_intents(interrupted=True))
    assert plan_status(plan) is Status.WAITING and actions(plan) == []
    go = verbs.continue_(plan, REQUEST.to_intents(interrupted=True)).intents
    assert len(actions(build_maintenance_plan(cluster_state(SPEC, recs, health), go))) == 1


def test_jobs_that_no_request_wants_are_stopped() -> None:
    recs, health = ready_records(SPEC, 3)
    wanted = REQUEST.job("node-0", 1)
    health["node-0"] = with_jobs(READY, JobStatus(wanted.id, "cleanup", "RUNNING"))
    health["node-1"] = with_jobs(READY, JobStatus("repair-old-node-1-1", "repair", "RUNNING"))
    health["node-2"] = with_jobs(READY, JobStatus("cleanup-gone-node-2-1", "cleanup", "SUCCEEDED"))
    state = cluster_state(SPEC, recs, health)
    current = {"cleanup": (REQUEST, REQUEST.to_intents())}
    assert orphan_jobs(state, current) == [StopJob("node-1", task_id("node-1", 1), "repair-old-node-1-1")]
    # With no request at all (stopped by an operator), the running cleanup job goes too.
    assert [s.job_id for s in orphan_jobs(state, {})] == [wanted.id, "repair-old-node-1-1"]


def _deploy(status: Status) -> Plan:
    from tests.plans.factories import blk

    return new_plan(
        "deploy", Strategy.SERIAL, [new_phase("deploy", "deploy", Strategy.SERIAL, [blk("node-0", status)])]
    )


def test_after_a_scale_out_the_older_nodes_cleanup_is_offered_once() -> None:
    spec = parse_spec({"nodes": 5})
    recs, health = ready_records(spec, 3, genesis=3)
    recs += [record(f"node-{i}", config=spec, bootstrap=True, reason="deploy") for i in (3, 4)]
    state = cluster_state(spec, recs, {**health, "node-3": READY, "node-4": READY})
    offer = cleanup_offer(state, _deploy(Status.COMPLETE), None, frozenset())
    assert isinstance(offer, OfferCleanup)
    assert offer.request.nodes == ("node-0", "node-1", "node-2", "node-3") and offer.interrupted
    assert offer.offered_for == ("node-3", "node-4") and offer.request.reason == "scale-out"
    assert cleanup_offer(state, _deploy(Status.COMPLETE), None, frozenset({"node-3", "node-4"})) is None
    # Not while the deploy plan is still working.
    assert cleanup_offer(state, _deploy(Status.STARTED), None, frozenset()) is None
    auto = cluster_state(parse_spec({"nodes": 5, "auto_cleanup_after_scale": True}), recs, state.health)
    offer = cleanup_offer(auto, _deploy(Status.COMPLETE), None, frozenset())
    assert offer is not None and not offer.interrupted


def test_no_cleanup_is_offered_for_a_new_cluster_or_a_replacement() -> None:
    recs, health = ready_records(SPEC, 3)
    assert (
        cleanup_offer(cluster_state(SPEC, recs, health), _deploy(Status.COMPLETE), None, frozenset()) is None
    )
    recs[0] = record("node-0", config=SPEC, bootstrap=True, reason="replace", launch_count=2)
    assert (
        cleanup_offer(cluster_state(SPEC, recs, health), _deploy(Status.COMPLETE), None, frozenset()) is None
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"nodes": ["node-9"]}, "node-9"),
        ({"nodes": []}, "non-empty"),
        ({"nodes": ["*", "node-0"]}, "cannot be combined"),
        ({"nodes": ["*"], "key_spaces": ["a", "b"], "column_families": ["t"]}, "exactly one keyspace"),
        ({"nodes": ["*"], "key_spaces": "x y"}, "not a Cassandra name"),
        ({"nodes": ["*"], "bogus": 1}, "unknown fields"),
    ],
)
def test_start_bodies_are_refused_naming_what_is_wrong(body: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        parse_start_body(body, "cleanup", ["node-0", "node-1"], "op", 1.0)


def test_start_bodies_accept_star_and_comma_separated_strings() -> None:
    r = parse_start_body(
        {"nodes": ["*"], "key_spaces": "ks1, ks2"}, "repair", ["node-0", "node-1"], "op", 1.0
    )
    assert r.nodes == ("node-0", "node-1") and r.key_spaces == ("ks1", "ks2")
    again = MaintenanceRequest.from_json(r.to_json())
    assert again == r
    assert PlanIntents.from_json(r.to_intents().to_json()).parameters == r.to_json()


def test_an_operators_cleanup_is_never_replaced_by_an_offer_but_an_untouched_offer_is() -> None:
    spec = parse_spec({"nodes": 4})
    recs, health = ready_records(spec, 3, genesis=3)
    recs.append(record("node-3", config=spec, bootstrap=True))
    state = cluster_state(spec, recs, {**health, "node-3": READY})
    operators = MaintenanceRequest("cleanup", "op", ("node-0",), 1.0)
    asked = (operators, build_maintenance_plan(state, operators.to_intents()))
    assert cleanup_offer(state, _deploy(Status.COMPLETE), asked, frozenset()) is None
    untouched = replace(operators, reason="scale-out")
    offer_only = (untouched, build_maintenance_plan(state, untouched.to_intents(interrupted=True)))
    assert cleanup_offer(state, _deploy(Status.COMPLETE), offer_only, frozenset()) is not None
    done = operators.with_result("node-0", NodeResult("SUCCEEDED", 1))
    finished = (done, build_maintenance_plan(state, done.to_intents()))
    assert cleanup_offer(state, _deploy(Status.COMPLETE), finished, frozenset()) is not None
