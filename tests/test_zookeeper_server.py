"""The ZooKeeper launcher that `cassandra-mesos up` and the tests use."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from cassandra_mesos.zookeeper_server import ZooKeeperServer, ZooKeeperStartError, four_letter_word

pytestmark = pytest.mark.zookeeper


def test_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ZooKeeperServer(tmp_path, port=port)
        with pytest.raises(ZooKeeperStartError, match=f"127.0.0.1:{port} is already in use"):
            server.start()
        assert not server.running


def test_restart_keeps_port_and_data_and_stop_ends_the_process(tmp_path: Path) -> None:
    with ZooKeeperServer(tmp_path / "zk", fsync=False) as zk:
        client = KazooClient(zk.hosts)
        client.start(timeout=10)
        try:
            client.create("/kept", b"data")
            port, pid = zk.port, zk.pid
            zk.restart()
            assert (zk.port, zk.running) == (port, True)
            assert zk.pid != pid
            client.ensure_path("/")  # waits for kazoo to reconnect
            assert client.get("/kept")[0] == b"data"
        finally:
            client.stop()
            client.close()
    assert not zk.running
    assert four_letter_word("127.0.0.1", port, "ruok") == ""


def test_port_zero_means_a_free_port_chosen_up_front(tmp_path: Path) -> None:
    server = ZooKeeperServer(tmp_path, port=0)
    assert server.port > 0
    assert server.hosts == f"127.0.0.1:{server.port}"
