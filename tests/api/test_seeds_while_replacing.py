"""Seeds while a seed is being replaced: it is nobody's seed until it is UN and CQL-ready."""

from __future__ import annotations

from model.cluster import parse_spec
from model.node import NodeHealth
from model.records import EXTRA_HOSTNAME, EXTRA_PORTS, TaskRecord
from plans.cassandra.seeds import local_seeds, replacing_nodes

SPEC = parse_spec({"nodes": 3, "seeds": 2})


def rec(node: str, host: str, replace_address: str | None = None, state: str = "TASK_RUNNING") -> TaskRecord:
    tid = f"demo__{node}__x"
    extra = {EXTRA_HOSTNAME: host, EXTRA_PORTS: {"storage": 7000}}
    if replace_address:
        extra["replace_address"] = replace_address
    return TaskRecord(
        cluster="demo",
        node=node,
        task_info={"task_id": {"value": tid}, "agent_id": {"value": "a"}},
        status={"task_id": {"value": tid}, "state": state},
        extra=extra,
    )


def test_a_bootstrapping_replacement_seed_is_left_out_until_ready() -> None:
    tasks = {
        "node-0": rec("node-0", "10.0.0.9", replace_address="10.0.0.1"),
        "node-1": rec("node-1", "10.0.0.2"),
        "node-2": rec("node-2", "10.0.0.3"),
    }
    replacing = replacing_nodes(tasks, {})
    assert replacing == {"node-0"}
    assert local_seeds(SPEC, tasks, replacing) == ["10.0.0.2:7000"]
    ready = {"node-0": NodeHealth("NORMAL", True, "demo__node-0__x")}
    assert replacing_nodes(tasks, ready) == set()
    assert local_seeds(SPEC, tasks, set()) == ["10.0.0.9:7000", "10.0.0.2:7000"]


def test_with_the_only_seed_being_replaced_the_other_running_nodes_stand_in() -> None:
    spec = parse_spec({"nodes": 3, "seeds": 1})
    tasks = {
        "node-0": rec("node-0", "10.0.0.9", replace_address="10.0.0.1"),
        "node-1": rec("node-1", "10.0.0.2"),
        "node-2": rec("node-2", "10.0.0.3", state="TASK_FAILED"),
    }
    assert local_seeds(spec, tasks, replacing_nodes(tasks, {})) == ["10.0.0.2:7000"]
