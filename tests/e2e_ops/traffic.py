"""Background observers for rolling operations: QUORUM traffic and a watch on the node list."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from cassandra import ConsistencyLevel
from cassandra.cluster import Session

from cassandra_mesos.up import LocalStack
from tests.e2e.realnodes import KEYSPACE, REPO, expected_rows

WRITES_PER_ROUND = 10
# A slice of the seeded rows per round, rotating: the whole 1,000 each round costs a loaded
# 2-core machine enough CPU to slow the nodes' own health checks (a nodetool JVM each).
READS_PER_ROUND = 100


@dataclass
class QuorumTraffic:
    """On a thread: each round writes 10 new rows and reads 100 seeded rows, all at QUORUM.

    Records every failed or short read and every failed write; the rows it wrote are readable
    afterwards through ``written``.
    """

    session: Session
    rounds: int = 0
    written: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> QuorumTraffic:
        self.session.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.traffic (k int PRIMARY KEY, v text)")
        self._thread = threading.Thread(target=self._run, name="quorum-traffic", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        insert = self.session.prepare(f"INSERT INTO {KEYSPACE}.traffic (k, v) VALUES (?, ?)")
        insert.consistency_level = ConsistencyLevel.QUORUM
        insert.is_idempotent = True
        select = self.session.prepare(f"SELECT v FROM {KEYSPACE}.kv WHERE k = ?")
        select.consistency_level = ConsistencyLevel.QUORUM
        select.is_idempotent = True
        want = expected_rows()
        while not self._stop.is_set():
            try:
                start = self.written
                futures = [
                    self.session.execute_async(insert, (k, f"t-{k}"), timeout=30)
                    for k in range(start, start + WRITES_PER_ROUND)
                ]
                for f in futures:
                    f.result()
                self.written += WRITES_PER_ROUND
                first = (self.rounds * READS_PER_ROUND) % len(want)
                keys = range(first, first + READS_PER_ROUND)
                reads = [(k, self.session.execute_async(select, (k,), timeout=30)) for k in keys]
                for k, f in reads:
                    row = f.result().one()
                    if row is None or row.v != want[k]:
                        self.failures.append(f"row {k}: read {row!r}, want {want[k]!r}")
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self.rounds += 1
            self._stop.wait(1.0)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    @property
    def timeouts_retried(self) -> int:
        """Requests the driver retried after a server-side timeout (see PatientRetryPolicy)."""
        policy = self.session.cluster.profile_manager.default.retry_policy
        return int(getattr(policy, "timeouts_retried", 0))

    def written_rows_readable(self) -> bool:
        select = self.session.prepare(f"SELECT k FROM {KEYSPACE}.traffic WHERE k = ?")
        select.consistency_level = ConsistencyLevel.QUORUM
        futures = [self.session.execute_async(select, (k,), timeout=60) for k in range(self.written)]
        return all(f.result().one() is not None for f in futures)


@dataclass
class NodeWatch:
    """On a thread: reads the node list every half second and keeps the most nodes ever seen not
    ready at once (task not running, or mode not NORMAL), with the sample that showed it."""

    stack: LocalStack
    cluster: str
    most_down: int = 0
    worst: list[str] = field(default_factory=list)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> NodeWatch:
        self._thread = threading.Thread(target=self._run, name="node-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                r = httpx.get(f"{self.stack.api_url}/v1/clusters/{self.cluster}/nodes", timeout=10)
                if r.status_code == 200:
                    down = [
                        f"{n['name']} {n['state']} {n.get('mode')}"
                        for n in r.json()
                        if n["state"] != "TASK_RUNNING" or n.get("mode") != "NORMAL"
                    ]
                    self.samples += 1
                    if len(down) > self.most_down:
                        self.most_down, self.worst = len(down), down
            except httpx.HTTPError:
                pass
            self._stop.wait(0.5)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cassandra_mesos.cli", *args]


def cli_env(stack: LocalStack) -> dict[str, str]:
    return {**os.environ, "CM_API": stack.api_url, "COLUMNS": "200", "PYTHONPATH": str(REPO)}


def run_cli(stack: LocalStack, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """`cassandra-mesos ARGS` as a user runs it: a process, its exit code, stdout and stderr."""
    return subprocess.run(
        cli_command(*args), env=cli_env(stack), capture_output=True, text=True, timeout=timeout, check=False
    )


def describe(proc: subprocess.CompletedProcess[str] | Any) -> str:
    return f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
