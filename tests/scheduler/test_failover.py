"""Schedulers as real processes, killed with SIGKILL: restart and hand-over without duplicate tasks.

The cluster is submitted and its plan read through the scheduler's own REST API, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.zookeeper import ZooKeeperStore
from localmesos.harness import LocalMesos
from tests.scheduler.harness import SMALL_NODE, SchedulerProcess, config_dict, eventually, master_tasks

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(150)]

CLUSTER = "c1"


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    try:
        yield started
    finally:
        for p in started:
            p.stop()


@pytest.fixture
def store(zookeeper_server: ZooKeeperServer, zk_root: str) -> Iterator[ZooKeeperStore]:
    with ZooKeeperStore(zookeeper_server.hosts, f"{zk_root}/dc1") as s:
        yield s


def start(
    processes: list[SchedulerProcess],
    tmp_path: Path,
    mesos: LocalMesos,
    zk: ZooKeeperServer,
    zk_root: str,
    role: str,
) -> SchedulerProcess:
    proc = SchedulerProcess(
        config_dict(mesos.master_url, zk.hosts, zk_root, role), tmp_path, f"scheduler{len(processes)}"
    )
    processes.append(proc.start())
    return proc


async def leader_of(procs: list[SchedulerProcess]) -> SchedulerProcess:
    def find() -> SchedulerProcess | None:
        for p in procs:
            if p.proc is not None and p.proc.poll() is None:
                h = p.get("/v1/health")
                if h and h.get("leader") and h.get("mesos") == "subscribed":
                    return p
        return None

    return await eventually("a subscribed leader", find, timeout=40)


def submit(proc: SchedulerProcess, nodes: int = 3) -> None:
    r = httpx.put(f"{proc.api}/v1/clusters/{CLUSTER}", json={"nodes": nodes, **SMALL_NODE}, timeout=10)
    assert r.status_code in (200, 201, 202), r.text


async def deploy_complete(proc: SchedulerProcess, timeout: float = 60) -> dict[str, Any]:
    def complete() -> dict[str, Any] | None:
        plan = proc.get(f"/v1/clusters/{CLUSTER}/plans/deploy")
        return plan if plan and plan["status"] == "COMPLETE" else None

    try:
        return await eventually("the deploy plan to complete", complete, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{proc.name} log:\n{proc.log_tail()}") from None


def frameworks(mesos: LocalMesos, name: str) -> list[dict[str, Any]]:
    state = mesos.state()
    return [f for f in state.get("frameworks", []) if f.get("name") == name]


def running_tasks(mesos: LocalMesos, fid: str) -> set[str]:
    return {t["id"] for t in master_tasks(mesos.master_url, fid) if t["state"] == "TASK_RUNNING"}


async def test_a_killed_scheduler_restarts_with_the_same_framework_id_and_relaunches_nothing(
    processes: list[SchedulerProcess],
    tmp_path: Path,
    mesos: LocalMesos,
    zookeeper_server: ZooKeeperServer,
    zk_root: str,
    role: str,
    store: ZooKeeperStore,
) -> None:
    first = start(processes, tmp_path, mesos, zookeeper_server, zk_root, role)
    await leader_of([first])
    submit(first)
    # Kill it mid-deploy, as soon as one node runs: the rest must resume, not restart.
    await eventually(
        "a node running",
        lambda: any(r.state == "TASK_RUNNING" for r in store.get_tasks(CLUSTER).values()),
        timeout=40,
    )
    fid = store.get_framework_id()
    assert fid is not None
    before = {n: r.task_id for n, r in store.get_tasks(CLUSTER).items() if r.state == "TASK_RUNNING"}
    first.kill()

    second = start(processes, tmp_path, mesos, zookeeper_server, zk_root, role)
    await leader_of([second])
    plan = await deploy_complete(second)
    assert all(b["status"] == "COMPLETE" for p in plan["phases"] for b in p["blocks"])

    assert store.get_framework_id() == fid
    (framework,) = frameworks(mesos, f"cassandra-{role}")
    assert framework["id"] == fid and framework["active"]
    records = store.get_tasks(CLUSTER)
    assert all(r.launch_count == 1 for r in records.values()), {n: r.launch_count for n, r in records.items()}
    assert {n: records[n].task_id for n in before} == before
    assert running_tasks(mesos, fid) == {r.task_id for r in records.values()}


async def test_killing_the_leader_hands_over_to_the_standby_without_duplicate_tasks(
    processes: list[SchedulerProcess],
    tmp_path: Path,
    mesos: LocalMesos,
    zookeeper_server: ZooKeeperServer,
    zk_root: str,
    role: str,
    store: ZooKeeperStore,
) -> None:
    a = start(processes, tmp_path, mesos, zookeeper_server, zk_root, role)
    b = start(processes, tmp_path, mesos, zookeeper_server, zk_root, role)
    leader = await leader_of([a, b])
    standby = b if leader is a else a
    health = await eventually("the standby's API", lambda: standby.get("/v1/health"), timeout=30)
    assert health["leader"] is False and health["mesos"] == "standby"

    submit(leader)
    await deploy_complete(leader)
    fid = store.get_framework_id()
    assert fid is not None
    tasks = {n: r.task_id for n, r in store.get_tasks(CLUSTER).items()}

    leader.kill()
    assert await leader_of([standby]) is standby
    plan = await deploy_complete(standby)
    assert plan["status"] == "COMPLETE"
    assert store.get_framework_id() == fid
    (framework,) = frameworks(mesos, f"cassandra-{role}")
    assert framework["id"] == fid and framework["active"]
    assert {n: r.task_id for n, r in store.get_tasks(CLUSTER).items()} == tasks
    # Reconciled under the new leader, still exactly one task per node.
    assert running_tasks(mesos, fid) == set(tasks.values())
