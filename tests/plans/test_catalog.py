"""All plans of a cluster from one snapshot, and the cluster status the API shows."""

from __future__ import annotations

import pytest

from model.cluster import parse_spec
from model.errors import NotFound
from model.intents import PlanIntents
from plans.cassandra.catalog import build_plan, build_plans, cluster_status, plan_names
from tests.plans.factories import JOINING, cluster_state, ready_records, record

SPEC = parse_spec({"nodes": 3})


def test_plans_in_priority_order() -> None:
    assert plan_names()[:2] == ["deploy", "recovery"]
    plans = build_plans(cluster_state(SPEC), {})
    assert [p.name for p in plans] == plan_names()


def test_unknown_plan_is_not_found() -> None:
    with pytest.raises(NotFound, match="no plan 'nope'"):
        build_plan("nope", cluster_state(SPEC), {})


def test_stored_intents_are_used() -> None:
    plan = build_plan("deploy", cluster_state(SPEC), {"deploy": PlanIntents("deploy", interrupted=True)})
    assert plan.interrupted


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("empty", "DEPLOYING"),
        ("ready", "RUNNING"),
        ("joining", "DEPLOYING"),
        ("failed", "RECOVERING"),
        ("failed-paused", "WAITING"),
        ("gone", "ERROR"),
    ],
)
def test_cluster_status(scenario: str, expected: str) -> None:
    recs, health = ready_records(SPEC, 3)
    intents: dict[str, PlanIntents] = {}
    if scenario == "empty":
        recs, health = [], {}
    elif scenario == "joining":
        health["node-2"] = JOINING
    elif scenario.startswith("failed"):
        recs[1] = record("node-1", "TASK_FAILED", config=SPEC)
        if scenario == "failed-paused":
            intents["deploy"] = PlanIntents("deploy", interrupted=True)
    elif scenario == "gone":
        recs[1] = record("node-1", "TASK_GONE", config=SPEC)
    assert cluster_status(build_plans(cluster_state(SPEC, recs, health), intents)) == expected


def test_recovered_node_stays_recovering_until_ready() -> None:
    recs, health = ready_records(SPEC, 3)
    recs[0] = record("node-0", config=SPEC, reason="recovery", launch_count=2)
    assert (
        cluster_status(build_plans(cluster_state(SPEC, recs, {**health, "node-0": JOINING}), {}))
        == "RECOVERING"
    )
    assert cluster_status(build_plans(cluster_state(SPEC, recs, health), {})) == "RUNNING"
