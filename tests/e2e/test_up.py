"""`cassandra-mesos up` as a user runs it: wait for the contact points, query Cassandra, Ctrl-C, nothing left.

One node on one agent (the 3-node cluster of test_cluster.py covers the rest), every port free.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from cassandra_mesos.up import kill_strays, processes_under
from tests.e2e.realnodes import REPO, connect, wait_for

pytestmark = [pytest.mark.cassandra, pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(900)]

CONTACT = "CQL contact points: "


class UpProcess:
    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cassandra_mesos.cli",
                "up",
                "--nodes",
                "1",
                "--agents",
                "1",
                "--api-port",
                "0",
                "--mesos-port",
                "0",
                "--zk-port",
                "0",
                "--work-dir",
                str(work_dir),
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a signal to the test's group never reaches it by accident
            # As a shell starts a background job: SIGINT inherited ignored. `up` must obey it anyway.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r}; output so far:\n" + "\n".join(self.output))


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    work_dir = tmp_path / "up"
    u = UpProcess(work_dir)
    try:
        yield u
    finally:
        if u.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(u.proc.pid, signal.SIGKILL)
            u.proc.wait(timeout=10)
        kill_strays(work_dir)


def test_up_deploys_a_node_prints_its_contact_point_and_ctrl_c_stops_everything(up: UpProcess) -> None:
    line = up.wait_line(CONTACT, timeout=600)
    points = line.removeprefix(CONTACT).split(",")
    assert len(points) == 1
    # The deploy was shown block by block on the way (one line per change when not a terminal).
    assert any(out.endswith("node-0 COMPLETE TASK_RUNNING, mode NORMAL, CQL ready") for out in up.output), (
        "\n".join(up.output)
    )
    cluster, session = connect(points)
    try:
        row = session.execute("SELECT release_version FROM system.local").one()
        assert row.release_version.startswith("5.0.")
    finally:
        cluster.shutdown()

    started = up.work_dir.resolve()
    pids = processes_under(started)
    cmdlines = " ".join(" ".join(psutil.Process(p).cmdline()) for p in pids if _running(p))
    # What `up` started: ZooKeeper, the localmesos supervisor, the scheduler, the sidecar, Cassandra.
    for what in ("ZooKeeperServerMain", "localmesos", "scheduler --config", "-m sidecar", "CassandraDaemon"):
        assert what in cmdlines, what

    up.proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal does (or kill -INT of a background job)
    up.wait_line("stopped.", timeout=120)
    assert up.proc.wait(timeout=30) == 0
    wait_for("every process `up` started to be gone", lambda: not processes_under(started), timeout=30)
    assert not [p for p in pids if _running(p)]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
