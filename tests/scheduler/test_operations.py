"""Operator operations performed by the scheduler against localmesos with the stand-in node."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localmesos.harness import LocalMesos
from model.operations import UNINSTALL, NodeReplace, Uninstall
from model.records import TaskRecord
from plans.render import render_plan
from plans.status import plan_status
from tests.scheduler.harness import (
    CLUSTER,
    SMALL_NODE,
    InProcessScheduler,
    deploy,
    eventually,
    master_tasks,
)

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(120)]


def reserved_for(master_url: str, role: str) -> list[dict[str, Any]]:
    """Every reserved resource of ``role`` on every agent, as the master reports it."""
    state = httpx.get(f"{master_url}/master/state", timeout=10).json()
    return [
        res
        for agent in state.get("slaves", [])
        for res in agent.get("reserved_resources_full", {}).get(role, [])
    ]


def labelled_with(resources: list[dict[str, Any]], cluster: str) -> list[dict[str, Any]]:
    def labels(res: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in res.get("reservations") or [res.get("reservation") or {}]:
            for label in (r.get("labels") or {}).get("labels", []):
                out[label.get("key", "")] = label.get("value", "")
        return out

    return [res for res in resources if cluster in labels(res).values()]


async def test_uninstall_kills_every_task_releases_every_reservation_and_forgets_the_cluster(
    scheduler: InProcessScheduler, mesos: LocalMesos, role: str
) -> None:
    await deploy(scheduler, nodes=2)
    store, service = scheduler.store, scheduler.service
    assert store is not None and service is not None
    fid = store.get_framework_id()
    assert labelled_with(reserved_for(mesos.master_url, role), CLUSTER), "the deploy reserved nothing?"
    volumes = [r for r in reserved_for(mesos.master_url, role) if (r.get("disk") or {}).get("persistence")]
    assert len(volumes) == 2

    store.put_intent(CLUSTER, UNINSTALL, Uninstall(0.0).to_intents().to_json(), None)
    service.wake()
    seen: list[dict[str, Any]] = []

    def gone() -> bool:
        plans = service.plans(CLUSTER)
        if "uninstall" in plans:
            assert set(plans) == {"uninstall"}, "deploy and recovery must not run while uninstalling"
            plan = render_plan(plans["uninstall"])
            if not seen or seen[-1] != plan:
                seen.append(plan)
        return CLUSTER not in store.list_clusters()

    await eventually("the cluster to be deleted from the store", gone, timeout=60)
    assert seen and [p["name"] for p in seen[0]["phases"]] == ["kill-tasks", "release-resources", "forget"]
    # Nothing of the cluster is left in Mesos: no live task, no reservation, no volume.
    live = [t for t in master_tasks(mesos.master_url, fid) if t["state"] in ("TASK_RUNNING", "TASK_STAGING")]
    assert live == []
    assert labelled_with(reserved_for(mesos.master_url, role), CLUSTER) == []
    assert reserved_for(mesos.master_url, role) == []


async def test_a_node_whose_agent_is_gone_is_replaced_on_another_agent_with_a_new_volume(
    scheduler: InProcessScheduler, mesos: LocalMesos, role: str
) -> None:
    await deploy(scheduler, nodes=2)
    store, service = scheduler.store, scheduler.service
    assert store is not None and service is not None
    old = store.get_tasks(CLUSTER)["node-0"]  # a seed: the replacement must not be its own seed
    (agent,) = [a for a in mesos.agents if a.ip == old.hostname]
    mesos.stop_agent(agent.index)
    try:
        await eventually(
            "node-0's task to be reported unreachable or lost",
            lambda: store.get_tasks(CLUSTER)["node-0"].state not in ("TASK_RUNNING", "TASK_STAGING"),
            timeout=30,
        )
        request = NodeReplace("node-0", 0.0, old.task_id, old.agent_id, old.hostname)
        store.put_intent(CLUSTER, request.plan, request.to_intents().to_json(), None)
        service.wake()
        plan_seen = await eventually(
            "the replace plan to be shown", lambda: service.plans(CLUSTER).get("replace-node-0"), timeout=10
        )
        assert [p.name for p in plan_seen.phases] == ["kill-old-task", "launch", "finish"]

        def replaced() -> TaskRecord | None:
            if request.plan in store.get_intents(CLUSTER):
                return None
            rec = store.get_tasks(CLUSTER)["node-0"]
            health = service.node_health(CLUSTER).get("node-0")
            ready = health is not None and health.is_ready and health.task_id == rec.task_id
            return rec if ready and rec.state == "TASK_RUNNING" else None

        new = await eventually("node-0 replaced, ready, request deleted", replaced, timeout=60)
        assert new.agent_id != old.agent_id and new.hostname != old.hostname
        assert new.extra["replace_address"] == old.hostname and new.extra["bootstrap"] is True
        assert new.extra["persistence_id"] != old.extra["persistence_id"]
        assert new.extra["resource_id"] != old.extra["resource_id"]
        # Same Cassandra rack as the node it replaces: it takes over its token ranges.
        assert new.extra["rack"] == old.extra["rack"]
        # No record refers to the old reservation any more: orphan cleanup may release it.
        refs = {r.extra.get("resource_id") for r in store.get_tasks(CLUSTER).values()}
        assert old.extra["resource_id"] not in refs
        # The rest of the cluster is untouched and the deploy plan is complete again.
        assert store.get_tasks(CLUSTER)["node-1"].launch_count == 1
        await eventually(
            "the deploy plan complete",
            lambda: plan_status(service.plans(CLUSTER)["deploy"]).value == "COMPLETE",
        )
    finally:
        mesos.start_agent(agent.index)


async def test_a_cpus_change_relaunches_the_node_in_place_on_a_resized_reservation(
    scheduler: InProcessScheduler, mesos: LocalMesos, role: str
) -> None:
    await deploy(scheduler, nodes=1)
    store, service = scheduler.store, scheduler.service
    assert store is not None and service is not None
    before = store.get_tasks(CLUSTER)["node-0"]

    def reserved_cpus() -> float:
        return sum(r["scalar"]["value"] for r in reserved_for(mesos.master_url, role) if r["name"] == "cpus")

    assert reserved_cpus() == pytest.approx(SMALL_NODE["cpus"])
    target = store.get_target_versioned(CLUSTER)
    assert target is not None
    store.put_config(CLUSTER, {"nodes": 1, **SMALL_NODE, "cpus": 0.2}, target.version)
    service.wake()

    def relaunched() -> TaskRecord | None:
        rec = store.get_tasks(CLUSTER)["node-0"]
        health = service.node_health(CLUSTER).get("node-0")
        ready = health is not None and health.is_ready and health.task_id == rec.task_id
        return rec if rec.launch_count == 2 and rec.state == "TASK_RUNNING" and ready else None

    after = await eventually("node-0 relaunched with the new config", relaunched, timeout=60)
    assert after.agent_id == before.agent_id
    assert after.extra["persistence_id"] == before.extra["persistence_id"]
    cpus = [r for r in after.task_info["resources"] if r["name"] == "cpus"]
    assert sum(r["scalar"]["value"] for r in cpus) == pytest.approx(0.2)
    assert reserved_cpus() == pytest.approx(0.2)
