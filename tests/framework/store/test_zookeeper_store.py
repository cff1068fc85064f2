"""Behaviour particular to ZooKeeperStore (the contract suite covers what all stores share)."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.zookeeper import ZooKeeperStore
from model.errors import InvalidInput
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


def test_digest_store_is_closed_to_other_identities(zookeeper_server: ZooKeeperServer, zk_root: str) -> None:
    root = f"{zk_root}/secured"
    with ZooKeeperStore(zookeeper_server.hosts, root, digest="scheduler:s3cret") as store:
        store.put_config("demo", SPEC, None)
        stranger = KazooClient(zookeeper_server.hosts)
        stranger.start(timeout=10)
        try:
            with pytest.raises(NoAuthError):
                stranger.get(f"{root}/clusters/demo/target")
            with pytest.raises(NoAuthError):
                stranger.delete(f"{root}/schema")
            # The shared parent stays open: another instance with other credentials fits beside.
            stranger.create(f"{zk_root}/other-instance")
        finally:
            stranger.stop()
            stranger.close()
        election = store.election("a")
        election.start(lambda: None, lambda: None)
        assert election.wait_leader(10)
        assert election.leader() == "a"
        election.stop()
    with ZooKeeperStore(zookeeper_server.hosts, root, digest="scheduler:s3cret") as again:
        assert again.get_target("demo") is not None
    with pytest.raises(InvalidInput, match="user:password"):
        ZooKeeperStore(zookeeper_server.hosts, root, digest="no-colon")
