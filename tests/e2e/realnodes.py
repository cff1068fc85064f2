"""What the end-to-end tests need to look at real nodes of a ``LocalStack``: sandboxes, pids, nodetool, CQL.

Everything is found the way an operator would: the node list from the REST API, the task's
sandbox on its agent, the sidecar's own configuration from its environment, nodetool over the
node's local JMX, and cassandra-driver for CQL.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.connection import DefaultEndPoint
from cassandra.policies import RetryPolicy, RoundRobinPolicy

import jvm
from cassandra_mesos.up import LocalStack, StackSettings
from model.node_config import NodeConfig
from sidecar.config import NodePaths, nodetool_command
from sidecar.nodetool import RingMember, parse_status

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def e2e_settings(work_dir: Path, agents: int = 3) -> StackSettings:
    """Every port picked free or random: runs never collide with each other or with `make up`."""
    return StackSettings(
        work_dir=work_dir,
        api_port=0,
        mesos_port=0,
        zk_port=0,
        agents=agents,
        # Distinct per-agent ranges below the ephemeral ports; random so parallel suites do not meet.
        port_base=random.randrange(20000, 32000 - 100 * (agents + 1), 100),
        kill_grace_period_s=20.0,
        node_environment={"PYTHONPATH": str(REPO)},
    )


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except Exception as exc:  # a node coming up refuses connections: keep polling
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def api_json(stack: LocalStack, path: str) -> Any:
    r = stack.api("GET", path, timeout=20)
    r.raise_for_status()
    return r.json()


def nodes(stack: LocalStack, cluster: str) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in api_json(stack, f"/v1/clusters/{cluster}/nodes")}


def plan_status(stack: LocalStack, cluster: str, plan: str) -> str:
    return str(api_json(stack, f"/v1/clusters/{cluster}/plans/{plan}")["status"])


def master_tasks(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.mesos is not None
    state = stack.mesos.state()
    return [t for fw in state.get("frameworks", []) for t in fw.get("tasks", [])]


def sandbox_of(stack: LocalStack, task_id: str) -> Path:
    """The latest run directory of a task's sandbox on its localmesos agent."""
    runs = sorted(
        (
            p
            for p in (stack.work_dir / "localmesos" / "agents").glob(
                f"*/slaves/*/frameworks/*/executors/{task_id}/runs/*"
            )
            if p.is_dir() and not p.is_symlink()
        ),
        key=lambda p: p.stat().st_mtime,
    )
    if not runs:
        raise AssertionError(f"no sandbox for task {task_id}")
    return runs[-1]


def sidecar_process(sandbox: Path) -> psutil.Process:
    # The sandbox may be reached through the agent's `slaves/latest` link; a process's cwd never is.
    real = str(sandbox.resolve())
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        cmd = proc.info.get("cmdline") or []
        if proc.info.get("cwd") == real and "sidecar" in cmd and "-m" in cmd:
            return proc
    raise AssertionError(f"no sidecar process runs in {sandbox}")


def cassandra_pid(sandbox: Path) -> int:
    return int((sandbox / "cassandra.pid").read_text().strip())


def node_config(sandbox: Path) -> NodeConfig:
    """The NodeConfig the scheduler gave this task, read from the sidecar's environment."""
    return NodeConfig.from_env(sidecar_process(sandbox).environ())


def nodetool_status(sandbox: Path) -> list[RingMember]:
    config = node_config(sandbox)
    paths = NodePaths.for_sandbox(config, sandbox, jvm.cassandra_lib(), jvm.find_java17())
    out = subprocess.run(
        nodetool_command(paths, config.ports.jmx, ("-pp", "status")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"nodetool status failed ({out.returncode}): {out.stdout}{out.stderr}"
    return parse_status(out.stdout)


class PatientRetryPolicy(RetryPolicy):
    """Retries a timed-out idempotent request up to three times, as a production client would.

    A timeout with enough replicas alive means a slow node (two cores shared by several JVMs, one
    of them starting), not lost availability; an Unavailable answer keeps the driver's default (one
    try on the next host, then fail), so a test still fails when too few replicas are up.
    ``timeouts_retried`` counts the retries, for the test's report.
    """

    def __init__(self, attempts: int = 3) -> None:
        self.attempts = attempts
        self.timeouts_retried = 0

    def _retry(self, retry_num: int, consistency: Any) -> tuple[int, Any]:
        if retry_num >= self.attempts:
            return self.RETHROW, None
        self.timeouts_retried += 1
        return self.RETRY_NEXT_HOST, consistency

    def on_read_timeout(
        self, query: Any, consistency: Any, required_responses: int, received_responses: int,
        data_retrieved: bool, retry_num: int,
    ) -> tuple[int, Any]:  # fmt: skip
        return self._retry(retry_num, consistency)

    def on_write_timeout(
        self, query: Any, consistency: Any, write_type: Any, required_responses: int,
        received_responses: int, retry_num: int,
    ) -> tuple[int, Any]:  # fmt: skip
        if query is not None and not getattr(query, "is_idempotent", False):
            return self.RETHROW, None
        return self._retry(retry_num, consistency)


def connect(contact_points: list[str]) -> tuple[Cluster, Session]:
    """A driver session over every node (each has its own native port here)."""
    endpoints = []
    for point in contact_points:
        host, port = point.rsplit(":", 1)
        endpoints.append(DefaultEndPoint(host, int(port)))
    profile = ExecutionProfile(
        load_balancing_policy=RoundRobinPolicy(),
        consistency_level=ConsistencyLevel.QUORUM,
        request_timeout=60,
        retry_policy=PatientRetryPolicy(),
    )
    cluster = Cluster(
        contact_points=endpoints,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=10,
        control_connection_timeout=10,
        idle_heartbeat_interval=5,
    )
    return cluster, cluster.connect()


KEYSPACE = "e2e"
ROWS = 1000


def write_rows(session: Session, data_center: str = "dc1") -> None:
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = "
        f"{{'class': 'NetworkTopologyStrategy', '{data_center}': 3}}"
    )
    # A replica killed with -9 never answers the reads it already got: with speculative retry
    # ALWAYS the coordinator asks all three replicas and needs any two, so QUORUM reads do not
    # wait out the read timeout while the failure detector has not noticed yet.
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k int PRIMARY KEY, v text) "
        "WITH speculative_retry = 'ALWAYS'"
    )
    insert = session.prepare(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (?, ?)")
    insert.consistency_level = ConsistencyLevel.QUORUM
    futures = [session.execute_async(insert, (i, f"value-{i}")) for i in range(ROWS)]
    for f in futures:
        f.result()


def read_rows(session: Session) -> dict[int, str]:
    """Every row, each read on its own at QUORUM (partition reads; the driver may retry them
    on another coordinator when one dies, since they are idempotent)."""
    select = session.prepare(f"SELECT v FROM {KEYSPACE}.kv WHERE k = ?")
    select.consistency_level = ConsistencyLevel.QUORUM
    select.is_idempotent = True
    futures = {k: session.execute_async(select, (k,), timeout=60) for k in range(ROWS)}
    rows: dict[int, str] = {}
    for k, future in futures.items():
        row = future.result().one()
        if row is not None:
            rows[k] = row.v
    return rows


def expected_rows() -> dict[int, str]:
    return {i: f"value-{i}" for i in range(ROWS)}


@dataclass
class QuorumReader:
    """Reads every row at QUORUM in a loop on a thread; records each read that failed or came back short."""

    session: Session
    reads: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> QuorumReader:
        self._thread = threading.Thread(target=self._run, name="quorum-reader", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        want = expected_rows()
        while not self._stop.is_set():
            try:
                got = read_rows(self.session)
                if got != want:
                    self.failures.append(
                        f"read {len(got)} rows, {sum(got.get(k) == v for k, v in want.items())} right"
                    )
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self.reads += 1
            self._stop.wait(1.0)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=90)
