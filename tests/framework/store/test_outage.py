"""ZooKeeper goes away for a while: the scheduler's store and leadership stop acting, then resume."""

from __future__ import annotations

import threading

import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer, free_port
from framework.store.leader import LeaderElection
from framework.store.zookeeper import ZooKeeperStore
from model.errors import StoreUnavailable
from tests.framework.store.test_contract import SPEC, status, task, wait_until

pytestmark = pytest.mark.zookeeper


def test_writes_are_refused_during_an_outage_and_resume_with_data_intact(
    own_zookeeper: ZooKeeperServer,
) -> None:
    store = ZooKeeperStore(own_zookeeper.hosts, "/cassandra-mesos/outage", session_timeout=10)
    try:
        states: list[bool] = []
        store.add_state_listener(states.append)
        wakes = threading.Event()
        store.watch(wakes.set)
        election = LeaderElection(store.client, store.leader_path, "scheduler-a")
        lost, elected = threading.Event(), threading.Event()
        election.start(on_elected=elected.set, on_lost=lost.set)
        assert elected.wait(10), "the only contender was not elected"

        store.set_framework_id("fw-1")
        store.put_config("demo", SPEC, None)
        record = task("demo", "node-0")
        store.put_task(record, None)
        before = store.snapshot()

        own_zookeeper.stop()
        assert wait_until(lambda: not store.is_writable(), timeout=15), "store still claims to be writable"
        assert lost.wait(10), "leadership not given up when ZooKeeper went away"
        assert not election.is_leader()
        wakes.clear()
        elected.clear()
        for write in (
            lambda: store.put_config("demo", {**SPEC, "nodes": 5}, 0),
            lambda: store.put_task(task("demo", "node-1"), None),
            lambda: store.update_status("demo", "node-0", status(record, "TASK_RUNNING")),
            lambda: store.put_intent("demo", "deploy", {"interrupted": True}),
            lambda: store.delete_cluster("demo"),
            lambda: store.set_framework_id("fw-2"),
        ):
            with pytest.raises(StoreUnavailable, match="not connected"):
                write()
        with pytest.raises(StoreUnavailable):
            store.snapshot()
        with pytest.raises(StoreUnavailable):
            election.leader()  # a health endpoint asking must get an answer, not hang

        own_zookeeper.start()  # same port, same data dir
        assert store.wait_writable(30), "store did not come back after ZooKeeper did"
        assert wakes.wait(10), "watchers were not woken when the store came back"
        assert states[-1] is True and False in states
        # Nothing of the refused writes surfaced later, nothing written before was lost.
        assert store.snapshot() == before
        assert elected.wait(20), "not leader again after the outage"
        assert election.leader() == "scheduler-a"
        # Writes resume where they left off (the target is still at version 0).
        store.put_config("demo", {**SPEC, "nodes": 5}, 0)
        assert store.update_status("demo", "node-0", status(record, "TASK_RUNNING"))
        assert store.get_tasks("demo")["node-0"].state == "TASK_RUNNING"
        election.stop()
    finally:
        store.close()


def test_connecting_to_no_zookeeper_is_a_clear_error() -> None:
    hosts = f"127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match=f"cannot connect to ZooKeeper at {hosts}"):
        ZooKeeperStore(hosts, connect_timeout=1)
