"""Outages around a running scheduler: the Mesos master restarts, ZooKeeper goes away and comes back."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.config import parse_config
from localmesos.harness import LocalMesos
from model.records import TaskRecord
from tests.scheduler.harness import CLUSTER, InProcessScheduler, config_dict, deploy, eventually, volume_lines

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(150)]


def framework_state(mesos: LocalMesos, fid: str) -> dict[str, Any] | None:
    state = httpx.get(f"{mesos.master_url}/master/state", timeout=10).json()
    for fw in state.get("frameworks", []):
        if fw.get("id") == fid:
            return dict(fw)
    return None


def active_tasks(mesos: LocalMesos, fid: str) -> dict[str, str]:
    fw = framework_state(mesos, fid) or {}
    return {
        t["id"]: t["state"]
        for t in fw.get("tasks", [])
        if t["state"] in ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING")
    }


async def test_after_a_master_restart_the_scheduler_resubscribes_and_reconciles(
    scheduler: InProcessScheduler, mesos: LocalMesos
) -> None:
    await deploy(scheduler)
    service, store = scheduler.service, scheduler.store
    assert service is not None and store is not None and service.driver is not None
    fid = store.get_framework_id()
    assert fid is not None
    tasks = {n: r.task_id for n, r in store.get_tasks(CLUSTER).items()}
    subscriptions = service.driver.subscriptions

    mesos.restart_master()

    def reconciled_again() -> bool:
        driver, reconciler = service.driver, service.reconciler
        return (
            driver is not None
            and reconciler is not None
            and driver.subscriptions > subscriptions
            and service.mesos_state() == "subscribed"
            and reconciler.reconciled
        )

    await eventually("re-subscription and reconciliation", reconciled_again, timeout=60)
    # ``reconciled`` was reset by the new SUBSCRIBED: every live task has answered again since.
    records = store.get_tasks(CLUSTER)
    assert {n: r.task_id for n, r in records.items()} == tasks
    assert all(r.state == "TASK_RUNNING" for r in records.values())
    assert store.get_framework_id() == fid
    await eventually(
        "the master to know the tasks again", lambda: set(active_tasks(mesos, fid)) == set(tasks.values())
    )
    plan = service.plans(CLUSTER)["deploy"]
    assert all(b.status.value == "COMPLETE" for p in plan.phases for b in p.blocks)


async def test_while_zookeeper_is_down_the_scheduler_stops_acting_and_resumes_cleanly(
    mesos: LocalMesos, own_zookeeper: ZooKeeperServer, role: str
) -> None:
    config = parse_config(config_dict(mesos.master_url, own_zookeeper.hosts, "/cassandra-mesos", role))
    async with InProcessScheduler(config) as s:
        await deploy(s)
        service, store = s.service, s.store
        assert service is not None and store is not None
        fid = store.get_framework_id()
        assert fid is not None
        before = store.get_tasks(CLUSTER)

        own_zookeeper.stop()
        await eventually(
            "the scheduler to step down",
            lambda: not service.is_leader() and service.mesos_state() == "standby",
        )
        await eventually(
            "Mesos to see the framework disconnected",
            lambda: not (framework_state(mesos, fid) or {}).get("active", True),
        )
        assert service.zookeeper_state() == "suspended"

        # A node dies during the outage: nobody may relaunch it while the store cannot record it.
        (line,) = volume_lines(mesos, before["node-1"])
        os.kill(line["pid"], signal.SIGKILL)
        await eventually(
            "the master to see node-1's task end",
            lambda: before["node-1"].task_id not in active_tasks(mesos, fid),
        )
        assert not any(tid.startswith(f"{CLUSTER}__node-1__") for tid in active_tasks(mesos, fid))

        restarted_at = time.time()
        own_zookeeper.start()

        def recovered() -> TaskRecord | None:
            try:
                rec = store.get_tasks(CLUSTER)["node-1"]
            except Exception:
                return None
            health = service.node_health(CLUSTER).get("node-1")
            if (
                rec.launch_count != 2
                or health is None
                or not health.is_ready
                or health.task_id != rec.task_id
            ):
                return None
            return rec

        after = await eventually("node-1 relaunched after ZooKeeper came back", recovered, timeout=60)
        assert service.is_leader() and service.mesos_state() == "subscribed" and service.terms == 2
        assert store.get_framework_id() == fid
        assert after.agent_id == before["node-1"].agent_id
        lines = volume_lines(mesos, after)
        assert [e["task"] for e in lines] == [before["node-1"].task_id, after.task_id]
        assert lines[-1]["t"] >= restarted_at
        # Exactly one task per node, the others untouched.
        records = store.get_tasks(CLUSTER)
        assert set(active_tasks(mesos, fid)) == {r.task_id for r in records.values()}
        assert all(records[n].task_id == before[n].task_id for n in ("node-0", "node-2"))
