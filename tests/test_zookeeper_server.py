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


def test_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A test runner or `up` killed without cleanup leaves no ZooKeeper behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from cassandra_mesos.zookeeper_server import ZooKeeperServer\n"
        f"zk = ZooKeeperServer(Path({str(tmp_path / 'zk')!r}), fsync=False).start()\n"
        "print(zk.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        zk_pid = int(parent.stdout.readline())
        os.kill(zk_pid, 0)  # running
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(zk_pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(zk_pid, signal.SIGKILL)
        pytest.fail("ZooKeeper outlived the process that started it")
    finally:
        parent.kill()
