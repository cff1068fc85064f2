"""Leader election: of several scheduler instances exactly one leads; losing it hands over."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.leader import LeaderElection
from framework.store.zookeeper import ZooKeeperStore
from tests.framework.store.test_contract import wait_until

pytestmark = pytest.mark.zookeeper


class Contender:
    def __init__(self, server: ZooKeeperServer, root: str, name: str) -> None:
        self.store = ZooKeeperStore(server.hosts, root)
        self.election = LeaderElection(self.store.client, self.store.leader_path, name)
        self.elected, self.lost = threading.Event(), threading.Event()

    def start(self) -> Contender:
        self.election.start(on_elected=self.elected.set, on_lost=self.lost.set)
        return self

    def close(self) -> None:
        self.election.stop()
        self.store.close()


@pytest.fixture
def contenders(zookeeper_server: ZooKeeperServer, zk_root: str) -> Iterator[list[Contender]]:
    made = [Contender(zookeeper_server, zk_root, name) for name in ("a", "b")]
    try:
        yield made
    finally:
        for c in made:
            c.close()


def test_only_one_leads_and_a_dead_leader_hands_over(contenders: list[Contender]) -> None:
    a, b = contenders
    a.start()
    assert a.elected.wait(10)
    b.start()
    assert wait_until(lambda: len(a.store.client.get_children(a.store.leader_path)) == 2)
    assert (a.election.is_leader(), b.election.is_leader()) == (True, False)
    assert b.election.leader() == "a"

    a.store.client.stop()  # the leader's process dies: its session ends
    assert a.lost.wait(10), "the old leader was not told it lost"
    assert b.elected.wait(20), "the standby did not take over"
    assert b.election.leader() == "b"
    assert not a.election.is_leader()


def test_resigning_leader_hands_over_and_nobody_leads_twice(contenders: list[Contender]) -> None:
    a, b = contenders
    a.start()
    assert a.elected.wait(10)
    b.start()
    assert wait_until(
        lambda: b.election.leader() == "a" and len(a.store.client.get_children(a.store.leader_path)) == 2
    )
    a.election.stop()
    assert a.lost.is_set()
    assert b.elected.wait(10)
    assert b.election.leader() == "b"
    b.election.stop()
    assert b.lost.is_set() and not b.election.is_leader()
    assert b.election.leader() is None


def expire_session(client: KazooClient, hosts: str) -> None:
    """Expire ``client``'s session on the server the way ZooKeeper's own tests do: attach a second
    connection to the same session and close it."""
    killer = KazooClient(hosts, client_id=client.client_id)
    killer.start(timeout=10)
    killer.stop()
    killer.close()


def test_an_expired_session_costs_leadership_and_the_store_recovers(
    zookeeper_server: ZooKeeperServer, zk_root: str
) -> None:
    store = ZooKeeperStore(zookeeper_server.hosts, zk_root)
    election = LeaderElection(store.client, store.leader_path, "a")
    elected, lost = threading.Event(), threading.Event()
    states: list[bool] = []
    store.add_state_listener(states.append)
    try:
        election.start(on_elected=elected.set, on_lost=lost.set)
        assert elected.wait(10)
        store.put_config("demo", {"nodes": 3}, None)
        elected.clear()
        old_session = store.client.client_id[0]

        expire_session(store.client, zookeeper_server.hosts)

        assert lost.wait(15), "leadership kept after the session expired"
        assert wait_until(lambda: store.is_writable() and store.client.client_id[0] != old_session, 20)
        assert False in states
        assert elected.wait(20), "not elected again on the new session"
        assert store.get_target("demo") is not None
        store.put_config("demo", {"nodes": 4}, 0)
        assert election.leader() == "a"
        # Exactly one contender znode: the one of the new session.
        assert len(store.client.get_children(store.leader_path)) == 1
    finally:
        election.stop()
        store.close()
