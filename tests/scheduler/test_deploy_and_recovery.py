"""A scheduler in this process against localmesos and ZooKeeper: deploy, plan JSON, relaunch in place."""

from __future__ import annotations

import os
import signal

import pytest

from localmesos.harness import LocalMesos
from model.records import TaskRecord
from tests.scheduler.harness import (
    CLUSTER,
    InProcessScheduler,
    deploy,
    eventually,
    master_tasks,
    volume_lines,
)

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(120)]


async def test_three_node_deploy_completes_and_the_plan_shows_each_blocks_progress(
    scheduler: InProcessScheduler, mesos: LocalMesos
) -> None:
    seen = await deploy(scheduler)
    final = seen[-1]
    assert [p["name"] for p in final["phases"]] == ["reconciliation", "seeds", "nodes"]
    blocks = {b["name"]: b for p in final["phases"] for b in p["blocks"]}
    assert set(blocks) == {"reconciliation", "node-0", "node-1", "node-2"}
    assert all(b["status"] == "COMPLETE" for b in blocks.values())
    # Progress was visible on the way: every node block was seen pending or under way before COMPLETE.
    for node in ("node-0", "node-1", "node-2"):
        statuses = [
            b["status"] for plan in seen for p in plan["phases"] for b in p["blocks"] if b["name"] == node
        ]
        assert statuses[0] != "COMPLETE" and statuses[-1] == "COMPLETE", statuses

    assert scheduler.store is not None and scheduler.service is not None
    records = scheduler.store.get_tasks(CLUSTER)
    fid = scheduler.store.get_framework_id()
    running = {t["id"]: t for t in master_tasks(mesos.master_url, fid) if t["state"] == "TASK_RUNNING"}
    assert set(running) == {r.task_id for r in records.values()}
    # One node per agent, racks from the agents' attributes, ports from the agents' ranges.
    assert len({r.agent_id for r in records.values()}) == 3
    assert {r.extra["rack"] for r in records.values()} == {"r1", "r2", "r3"}
    for r in records.values():
        assert set(r.ports) == {"storage", "ssl_storage", "native_transport", "jmx", "sidecar"}
        assert all(31000 <= p <= 32000 for p in r.ports.values())
        assert len(volume_lines(mesos, r)) == 1
    health = scheduler.service.node_health(CLUSTER)
    assert all(health[n].is_ready for n in records)
    assert scheduler.service.mesos_state() == "subscribed" and scheduler.service.is_leader()


async def test_a_killed_node_is_relaunched_in_place_with_its_data(
    scheduler: InProcessScheduler, mesos: LocalMesos
) -> None:
    await deploy(scheduler)
    assert scheduler.store is not None
    before = scheduler.store.get_tasks(CLUSTER)["node-1"]
    (line,) = volume_lines(mesos, before)
    os.kill(line["pid"], signal.SIGKILL)

    def relaunched_and_ready() -> TaskRecord | None:
        rec = scheduler.store.get_tasks(CLUSTER)["node-1"]  # type: ignore[union-attr]
        health = scheduler.service.node_health(CLUSTER).get("node-1")  # type: ignore[union-attr]
        if health is None or not health.is_ready or health.task_id != rec.task_id:
            return None
        return rec if rec.launch_count == 2 and rec.state == "TASK_RUNNING" else None

    after = await eventually("node-1 relaunched and ready", relaunched_and_ready, timeout=60)
    assert after.node == "node-1" and after.task_id != before.task_id
    assert after.agent_id == before.agent_id
    assert after.ports == before.ports
    assert after.extra["persistence_id"] == before.extra["persistence_id"]
    assert after.extra["launch_reason"] in ("relaunch", "recovery")
    # The same volume: the first launch's line is still there, the relaunch appended its own.
    lines = volume_lines(mesos, after)
    assert [entry["task"] for entry in lines] == [before.task_id, after.task_id]
    # No other node was touched.
    others = scheduler.store.get_tasks(CLUSTER)
    assert all(others[n].launch_count == 1 for n in ("node-0", "node-2"))
