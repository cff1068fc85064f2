"""The plan JSON of API.md: shape, upper-case statuses, ids stable across rebuilds."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from model.intents import PlanIntents
from plans.cassandra.deploy import build_deploy_plan
from plans.model import Status, Strategy, block_id, phase_id
from plans.render import render_plan
from tests.plans.factories import READY, cluster_state, phase_of, plan_of, record


def test_shape_of_api_md() -> None:
    plan = plan_of([phase_of([Status.COMPLETE, Status.STARTED], Strategy.SERIAL, "seeds")], name="deploy")
    doc = render_plan(plan)
    assert list(doc) == ["name", "status", "strategy", "errors", "phases"]
    assert doc["name"] == "deploy" and doc["status"] == "STARTED" and doc["strategy"] == "serial"
    assert doc["errors"] == []
    (phase,) = doc["phases"]
    assert list(phase) == ["id", "name", "status", "strategy", "blocks"]
    assert phase["status"] == "STARTED"
    assert [list(b) for b in phase["blocks"]] == [["id", "name", "status", "message"]] * 2
    assert [b["status"] for b in phase["blocks"]] == ["COMPLETE", "STARTED"]
    json.dumps(doc)  # plain JSON, nothing exotic


def test_plan_errors_are_rendered_and_make_the_plan_error() -> None:
    state = cluster_state({"nodes": 1}, errors=("disk_mb: cannot change (rule disk-size-cannot-change)",))
    doc = render_plan(build_deploy_plan(state, PlanIntents("deploy")))
    assert doc["status"] == "ERROR"
    assert doc["errors"] == ["disk_mb: cannot change (rule disk-size-cannot-change)"]


def test_ids_survive_rebuilds_from_a_changed_store() -> None:
    empty = render_plan(build_deploy_plan(cluster_state({"nodes": 3}), PlanIntents("deploy")))
    state = cluster_state({"nodes": 3}, [record("node-0")], {"node-0": READY})
    later = render_plan(build_deploy_plan(state, PlanIntents("deploy")))

    def ids(doc: dict) -> list[tuple[str, list[str]]]:
        return [(p["id"], [b["id"] for b in p["blocks"]]) for p in doc["phases"]]

    assert ids(empty) == ids(later)
    assert empty["phases"][1]["blocks"][0]["status"] != later["phases"][1]["blocks"][0]["status"]


names = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/"), min_size=1, max_size=12
)


@settings(deadline=None)  # wall-clock deadlines flake on a loaded machine
@given(names, names, names, names)
def test_ids_are_a_function_of_names_only(plan: str, phase: str, block: str, other: str) -> None:
    assert block_id(plan, phase, block) == block_id(plan, phase, block)
    assert phase_id(plan, phase) == phase_id(plan, phase)
    if other != block:
        assert block_id(plan, phase, other) != block_id(plan, phase, block)
    assert block_id(plan, phase, block) != phase_id(plan, phase)
