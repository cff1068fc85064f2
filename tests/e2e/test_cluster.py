"""One real 3-node Cassandra cluster through the whole stack, shared by the tests of this module.

ZooKeeper, localmesos (3 process agents), the scheduler as a process with its API, and real
sidecars running Cassandra 5.0.8 (512 MB heaps). The fixture creates cluster ``demo`` and
SIGKILLs the scheduler in the middle of the deploy; the tests then check the cluster and break
it one node at a time, in an order that keeps it usable: a Cassandra JVM killed, a sidecar
killed, an agent restarted — each time the node must come back in place with its data while
every row stays readable at QUORUM. Last, a fourth node joins the cluster that now holds data:
it bootstraps (streams its ranges) and ends UN, with every row still readable.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cassandra.cluster import Cluster, Session

from cassandra_mesos.up import LocalStack, demo_spec, wait_deployed
from tests.e2e.realnodes import (
    QuorumReader,
    api_json,
    cassandra_pid,
    connect,
    e2e_settings,
    expected_rows,
    master_tasks,
    node_config,
    nodes,
    nodetool_status,
    read_rows,
    sandbox_of,
    sidecar_process,
    wait_for,
    write_rows,
)

pytestmark = [pytest.mark.cassandra, pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(1200)]

CLUSTER = "demo"
# Generous: a shared 2-core machine under heavy load starts Cassandra in minutes, not seconds.
DEPLOY_TIMEOUT = 900.0
RECOVERY_TIMEOUT = 480.0


@dataclass
class Demo:
    stack: LocalStack
    contact_points: list[str]
    # What the master ran when the scheduler was SIGKILLed mid-deploy, and the plan at that moment.
    tasks_at_kill: list[dict[str, Any]]
    plan_at_kill: dict[str, Any]
    cluster: Cluster | None = None
    session: Session | None = None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # A fourth agent stays free for the scale-out test (one node per agent).
    with LocalStack(e2e_settings(tmp_path_factory.mktemp("e2e"), agents=4)) as s:
        yield s


def _node_launched(stack: LocalStack) -> list[dict[str, Any]] | None:
    running = [t for t in master_tasks(stack) if t["state"] == "TASK_RUNNING"]
    return running or None


@pytest.fixture(scope="module")
def demo(stack: LocalStack) -> Iterator[Demo]:
    r = stack.api("PUT", f"/v1/clusters/{CLUSTER}", demo_spec(3))
    assert r.status_code == 202, r.text
    # Mid-deploy: some node task runs, the plan is not complete. Then the scheduler dies hard.
    wait_for("a first node task running", lambda: _node_launched(stack), timeout=120, interval=0.2)
    plan_at_kill = api_json(stack, f"/v1/clusters/{CLUSTER}/plans/deploy")
    tasks_at_kill = master_tasks(stack)
    stack.kill_scheduler()
    stack.start_scheduler()
    points = wait_deployed(stack, CLUSTER, 3, timeout=DEPLOY_TIMEOUT)
    d = Demo(stack, points, tasks_at_kill, plan_at_kill)
    d.cluster, d.session = connect(points)
    try:
        yield d
    finally:
        d.cluster.shutdown()


def _sandbox(stack: LocalStack, node: str) -> Path:
    return sandbox_of(stack, nodes(stack, CLUSTER)[node]["task_id"])


def _host_id(stack: LocalStack, node: str) -> str | None:
    detail = api_json(stack, f"/v1/clusters/{CLUSTER}/nodes/{node}")
    return detail.get("host_id")


def _back_in_place(stack: LocalStack, node: str, before: dict[str, Any]) -> dict[str, Any] | None:
    """The node runs a new task on the same agent, is NORMAL, and the deploy plan is complete again."""
    now = nodes(stack, CLUSTER)[node]
    if now["task_id"] == before["task_id"] or now["state"] != "TASK_RUNNING":
        return None
    detail = api_json(stack, f"/v1/clusters/{CLUSTER}/nodes/{node}")
    if detail.get("mode") != "NORMAL":
        return None
    if api_json(stack, f"/v1/clusters/{CLUSTER}/plans/deploy")["status"] != "COMPLETE":
        return None
    return {**now, "host_id": detail.get("host_id")}


def test_deploy_finishes_after_a_scheduler_kill_mid_deploy_with_no_duplicate_node(demo: Demo) -> None:
    assert demo.plan_at_kill["status"] != "COMPLETE", "the scheduler was to be killed mid-deploy"
    running = [t for t in master_tasks(demo.stack) if t["state"] == "TASK_RUNNING"]
    names = sorted(t["id"].split("__")[1] for t in running)
    assert names == ["node-0", "node-1", "node-2"], [t["id"] for t in running]
    # One node per agent, and every task launched before the kill is still the one running.
    assert len({t["slave_id"] for t in running}) == 3
    ids = {t["id"] for t in running}
    assert {t["id"] for t in demo.tasks_at_kill if t["state"] == "TASK_RUNNING"} <= ids
    # Nothing else was ever launched: every task the master knows is one of these three.
    assert {t["id"] for t in master_tasks(demo.stack)} == ids
    assert len(demo.contact_points) == 3


def test_three_nodes_up_normal_and_1000_rows_at_quorum(demo: Demo) -> None:
    assert demo.session is not None
    write_rows(demo.session)
    assert read_rows(demo.session) == expected_rows()
    addresses = {p.rsplit(":", 1)[0] for p in demo.contact_points}
    for node in ("node-0", "node-1", "node-2"):
        ring = nodetool_status(_sandbox(demo.stack, node))
        assert [m.code for m in ring] == ["UN", "UN", "UN"], (node, ring)
        assert {m.address.rsplit(":", 1)[0] for m in ring} == addresses


def _kill_and_recover(demo: Demo, node: str, kill: Any) -> None:
    assert demo.session is not None
    stack = demo.stack
    before = nodes(stack, CLUSTER)[node]
    # Live status comes from nodetool behind the sidecar, which a loaded machine answers slowly.
    host_id = wait_for(f"{node}'s host id from its sidecar", lambda: _host_id(stack, node), timeout=90)
    with QuorumReader(demo.session) as reader:
        wait_for("a first read", lambda: reader.reads >= 1, timeout=60)
        kill(_sandbox(stack, node))
        after = wait_for(
            f"{node} relaunched in place and NORMAL",
            lambda: _back_in_place(stack, node, before),
            timeout=RECOVERY_TIMEOUT,
            interval=2.0,
        )
        reads_until_back = reader.reads
        wait_for("one more read after the recovery", lambda: reader.reads > reads_until_back, timeout=60)
    assert reader.failures == [], reader.failures
    assert reader.reads >= 3
    # Same agent, same ports, same data: the host id lives in the node's system keyspace on its volume.
    assert after["agent_id"] == before["agent_id"] and after["ports"] == before["ports"]
    assert after["host_id"] == host_id
    assert read_rows(demo.session) == expected_rows()


def test_kill_9_of_a_cassandra_jvm_relaunches_the_node_in_place_with_its_data(demo: Demo) -> None:
    def kill_jvm(sandbox: Path) -> None:
        os.kill(cassandra_pid(sandbox), signal.SIGKILL)

    _kill_and_recover(demo, "node-1", kill_jvm)


def test_kill_9_of_a_sidecar_relaunches_the_node_in_place_with_its_data(demo: Demo) -> None:
    def kill_sidecar(sandbox: Path) -> None:
        jvm_pid = cassandra_pid(sandbox)
        sidecar_process(sandbox).kill()
        # The JVM dies with its sidecar (PR_SET_PDEATHSIG): nothing holds the volume or ports.
        wait_for("the JVM to die with its sidecar", lambda: not _alive(jvm_pid), timeout=30, interval=0.2)

    _kill_and_recover(demo, "node-2", kill_sidecar)


def test_a_restarted_agent_brings_its_node_back_with_its_data(demo: Demo) -> None:
    assert demo.session is not None
    stack = demo.stack
    assert stack.mesos is not None
    node = "node-0"
    before = nodes(stack, CLUSTER)[node]
    host_id = wait_for(f"{node}'s host id from its sidecar", lambda: _host_id(stack, node), timeout=90)
    index = next(a.index for a in stack.mesos.agents if a.ip == before["hostname"])
    with QuorumReader(demo.session) as reader:
        wait_for("a first read", lambda: reader.reads >= 1, timeout=60)
        stack.mesos.restart_agent(index)

        def node_normal_again() -> dict[str, Any] | None:
            now = nodes(stack, CLUSTER)[node]
            detail = api_json(stack, f"/v1/clusters/{CLUSTER}/nodes/{node}")
            plan = api_json(stack, f"/v1/clusters/{CLUSTER}/plans/deploy")["status"]
            if now["state"] == "TASK_RUNNING" and detail.get("mode") == "NORMAL" and plan == "COMPLETE":
                return {**now, "host_id": detail.get("host_id")}
            return None

        after = wait_for(
            f"{node} NORMAL after the agent restart", node_normal_again, timeout=RECOVERY_TIMEOUT
        )
    assert reader.failures == [], reader.failures
    assert after["agent_id"] == before["agent_id"]
    assert after["host_id"] == host_id
    assert read_rows(demo.session) == expected_rows()
    ring = nodetool_status(_sandbox(stack, node))
    assert [m.code for m in ring] == ["UN", "UN", "UN"], ring


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_node_added_to_a_cluster_with_data_bootstraps_and_joins_up_normal(demo: Demo) -> None:
    assert demo.session is not None
    stack = demo.stack
    r = stack.api("POST", f"/v1/clusters/{CLUSTER}/scale", {"nodes": 4})
    assert r.status_code == 202, r.text
    with QuorumReader(demo.session) as reader:
        wait_for("a first read", lambda: reader.reads >= 1, timeout=60)

        def joined() -> dict[str, Any] | None:
            node = nodes(stack, CLUSTER).get("node-3")
            if node is None or node["state"] != "TASK_RUNNING":
                return None
            plan = api_json(stack, f"/v1/clusters/{CLUSTER}/plans/deploy")
            return node if plan["status"] == "COMPLETE" else None

        node = wait_for("node-3 to join", joined, timeout=RECOVERY_TIMEOUT, interval=2.0)
    assert reader.failures == [], reader.failures
    sandbox = sandbox_of(stack, node["task_id"])
    assert node_config(sandbox).auto_bootstrap is True
    system_log = (sandbox / "logs" / "system.log").read_text(errors="replace")
    assert "Starting to bootstrap" in system_log
    ring = nodetool_status(sandbox)
    assert [m.code for m in ring] == ["UN"] * 4, ring
    assert read_rows(demo.session) == expected_rows()
