"""MOUNT disks: a cluster with ``disk_type: MOUNT`` takes whole MOUNT disks, keeps its data on
them across a relaunch, and gives them back whole on uninstall (real scheduler, localmesos)."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.config import parse_config
from localmesos.harness import LocalMesos
from model.operations import UNINSTALL, Uninstall
from tests.scheduler.harness import CLUSTER, SMALL_NODE, InProcessScheduler, config_dict, eventually
from tests.scheduler.standin_node import LOG_NAME

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(120)]

AGENTS = 2
MOUNT_MB = 2048


def agent_resources(mounts: Path, index: int) -> str:
    """Ordinary resources plus two MOUNT disks: a small one and one the nodes fit on."""
    plain = [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 8192}},
        {"name": "disk", "type": "SCALAR", "scalar": {"value": 65536}},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31099}]}},
    ]  # fmt: skip
    disks = []
    for name, mb in (("small", 256), ("data", MOUNT_MB)):
        root = mounts / f"agent{index}" / name
        root.mkdir(parents=True)
        disks.append(
            {"name": "disk", "type": "SCALAR", "scalar": {"value": mb},
             "disk": {"source": {"type": "MOUNT", "mount": {"root": str(root)}}}}
        )  # fmt: skip
    return json.dumps(plain + disks)


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mnt")


@pytest.fixture(scope="module")
def mesos(tmp_path_factory: pytest.TempPathFactory, mounts: Path) -> Iterator[LocalMesos]:
    with LocalMesos(
        tmp_path_factory.mktemp("lm"),
        agents=AGENTS,
        agent_resources=[agent_resources(mounts, i) for i in range(AGENTS)],
        allocation_interval=0.1,
        heartbeat_interval=1.0,
    ) as lm:
        yield lm


@pytest.fixture
async def scheduler(
    mesos: LocalMesos,
    zookeeper_server: ZooKeeperServer,
    zk_root: str,
) -> AsyncIterator[InProcessScheduler]:
    role = f"cass-{uuid.uuid4().hex[:8]}"
    config = parse_config(config_dict(mesos.master_url, zookeeper_server.hosts, zk_root, role))
    async with InProcessScheduler(config) as s:
        yield s


def unreserved_mount_disks(master_url: str) -> list[dict[str, Any]]:
    state = httpx.get(f"{master_url}/master/state", timeout=10).json()
    out = []
    for agent in state.get("slaves", []):
        for res in agent.get("unreserved_resources_full", []):
            if ((res.get("disk") or {}).get("source") or {}).get("type") == "MOUNT":
                out.append(res)
    return out


async def test_mount_nodes_live_on_whole_mount_disks_and_give_them_back(
    scheduler: InProcessScheduler, mesos: LocalMesos, mounts: Path
) -> None:
    store, service = scheduler.store, scheduler.service
    assert store is not None and service is not None
    store.put_config(
        CLUSTER, {**SMALL_NODE, "nodes": 2, "seeds": 1, "disk_mb": 1024, "disk_type": "MOUNT"}, None
    )
    service.wake()

    def running_with_data() -> bool:
        tasks = store.get_tasks(CLUSTER)
        return (
            len(tasks) == 2
            and all(r.state == "TASK_RUNNING" for r in tasks.values())
            and all((mounts / f"agent{i}" / "data" / LOG_NAME).exists() for i in range(AGENTS))
        )

    await eventually(
        "both nodes running with their data on the 2 GB MOUNT disks", running_with_data, timeout=60
    )
    # The 256 MB disks are too small for disk_mb 1024: untouched.
    assert [list((mounts / f"agent{i}" / "small").iterdir()) for i in range(AGENTS)] == [[]] * AGENTS
    # Each data disk is reserved and used whole (no remainder of it is offered or unreserved).
    assert {r["scalar"]["value"] for r in unreserved_mount_disks(mesos.master_url)} == {256}

    # A node killed in place comes back on the same MOUNT disk, its data still there.
    record = store.get_tasks(CLUSTER)["node-0"]
    (log,) = [
        log
        for log in (mounts / f"agent{i}" / "data" / LOG_NAME for i in range(AGENTS))
        if json.loads(log.read_text().splitlines()[-1])["node"] == "node-0"
    ]
    lines_before = len(log.read_text().splitlines())
    os.kill(int(json.loads(log.read_text().splitlines()[-1])["pid"]), signal.SIGKILL)

    def relaunched() -> bool:
        rec = store.get_tasks(CLUSTER)["node-0"]
        return (
            rec.launch_count > record.launch_count
            and rec.state == "TASK_RUNNING"
            and (len(log.read_text().splitlines()) > lines_before)
        )

    await eventually("node-0 relaunched on its MOUNT disk", relaunched, timeout=60)

    # Uninstall: the volumes are destroyed (the mount emptied, not removed) and the disks unreserved.
    store.put_intent(CLUSTER, UNINSTALL, Uninstall(0.0).to_intents().to_json(), None)
    service.wake()

    def released() -> bool:
        return (
            store.get_target(CLUSTER) is None and len(unreserved_mount_disks(mesos.master_url)) == 2 * AGENTS
        )

    await eventually("the cluster gone and every MOUNT disk unreserved", released, timeout=60)
    assert sorted(r["scalar"]["value"] for r in unreserved_mount_disks(mesos.master_url)) == [
        256,
        256,
        MOUNT_MB,
        MOUNT_MB,
    ]
    for i in range(AGENTS):
        data = mounts / f"agent{i}" / "data"
        assert data.is_dir() and not any(data.iterdir()), list(data.iterdir())
