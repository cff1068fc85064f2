"""Behaviour particular to ZooKeeperStore (the contract suite covers what all stores share)."""

from __future__ import annotations

import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.zookeeper import ZooKeeperStore
from tests.framework.store.test_contract import SPEC, task

pytestmark = pytest.mark.zookeeper


def test_store_under_a_chroot_of_the_connection_string(
    zookeeper_server: ZooKeeperServer, zk_root: str
) -> None:
    with ZooKeeperStore(zookeeper_server.hosts, zk_root) as outside:
        outside.put_config("marker", SPEC, None)  # creates zk_root, the chroot below
    with ZooKeeperStore(f"{zookeeper_server.hosts}{zk_root}", "/cm") as store:
        store.put_config("demo", SPEC, None)
        for i in range(3):
            store.put_task(task("demo", f"node-{i}"), None)
        snap = store.snapshot()
        assert sorted(snap.clusters["demo"].tasks) == ["node-0", "node-1", "node-2"]
        assert store.get_tasks("demo")["node-1"] == task("demo", "node-1")
    with ZooKeeperStore(zookeeper_server.hosts, f"{zk_root}/cm") as same:
        assert list(same.snapshot().clusters) == ["demo"]
