"""Schedulers for the scenario tests: in-process (views at hand) or as real processes (to kill -9).

Both run the production composition (ZooKeeper store, leader election, MesosDriver, reconciler)
against a real localmesos and a real ZooKeeper; node tasks run the stand-in node
(tests/scheduler/standin_node.py) instead of the sidecar, and every interval is short.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from cassandra_mesos.zookeeper_server import free_port
from framework.config import SchedulerConfig, parse_config
from framework.service import SchedulerService
from framework.store.leader import LeaderElection
from framework.store.zookeeper import ZooKeeperStore
from localmesos.harness import LocalMesos
from model.records import TaskRecord
from plans.render import render_plan
from tests.scheduler.standin_node import LOG_NAME

REPO = Path(__file__).resolve().parents[2]
STANDIN_COMMAND = f"{sys.executable} -m tests.scheduler.standin_node"
# Small enough that a few clusters fit next to each other on the test agents.
SMALL_NODE = {"cpus": 0.1, "mem_mb": 300, "heap_mb": 256, "disk_mb": 16}

CLUSTER = "c1"

T = TypeVar("T")


def config_dict(master_url: str, zk_hosts: str, zk_root: str, role: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "masters": [master_url],
        "zookeeper": {"hosts": zk_hosts, "root": zk_root, "instance": "dc1", "session_timeout_s": 2.0},
        "framework": {"name": f"cassandra-{role}", "role": role, "principal": "cassandra-test"},
        "api": {"host": "127.0.0.1", "port": free_port()},
        "node": {
            "command": STANDIN_COMMAND,
            "environment": {"PYTHONPATH": str(REPO)},
            "kill_grace_period_s": 2.0,
        },
        "timing": {
            "cycle_interval_s": 0.5,
            "health_interval_s": 0.3,
            "health_timeout_s": 0.5,
            "reconcile_retry_s": 2.0,
            "driver_backoff_initial_s": 0.1,
            "driver_backoff_max_s": 1.0,
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


async def eventually(
    what: str, check: Callable[[], Awaitable[T | None] | T | None], timeout: float = 30.0
) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        last = result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(0.1)


class InProcessScheduler:
    """``async with InProcessScheduler(config) as s: s.service.plans(...)``."""

    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        self.store: ZooKeeperStore | None = None
        self.service: SchedulerService | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> InProcessScheduler:
        zk = self.config.zookeeper
        self.store = await asyncio.to_thread(
            ZooKeeperStore, zk.hosts, zk.store_root, session_timeout=zk.session_timeout_s
        )
        election = LeaderElection(self.store.client, self.store.leader_path, f"in-process-{os.getpid()}")
        self.service = SchedulerService(self.config, self.store, election)
        self._task = asyncio.create_task(self.service.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.service is not None:
            self.service.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                async with asyncio.timeout(20):
                    await self._task
        if self.store is not None:
            await asyncio.to_thread(self.store.close)


class SchedulerProcess:
    """``cassandra-mesos scheduler --config FILE`` as a real process, in its own process group."""

    def __init__(self, config: dict[str, Any], work_dir: Path, name: str) -> None:
        self.config = config
        self.work_dir = work_dir
        self.name = name
        self.config_file = work_dir / f"{name}.yaml"
        self.log_file = work_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.config['api']['port']}"

    def start(self) -> SchedulerProcess:
        self.config_file.write_text(yaml.safe_dump(self.config))
        parse_config(self.config)  # fail here, not in the child, on a bad test config
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cassandra_mesos.cli", "scheduler", "--config", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=REPO,
            )
        return self

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no resignation, no clean ZooKeeper close, no TEARDOWN."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        self.kill()

    def get(self, path: str) -> Any:
        try:
            r = httpx.get(self.api + path, timeout=2)
        except httpx.HTTPError:
            return None
        return r.json() if r.status_code == 200 else None


def master_tasks(master_url: str, framework_id: str | None = None) -> list[dict[str, Any]]:
    """Tasks the master knows (active frameworks), optionally of one framework."""
    state = httpx.get(f"{master_url}/master/state", timeout=10).json()
    tasks = [t for fw in state.get("frameworks", []) for t in fw.get("tasks", [])]
    if framework_id is not None:
        tasks = [t for t in tasks if t.get("framework_id") == framework_id]
    return tasks


def volume_lines(mesos: LocalMesos, record: TaskRecord) -> list[dict[str, Any]]:
    """The stand-in's lines on the node's persistent volume, read from the agent's volume directory."""
    pid = record.extra["persistence_id"]
    for agent in mesos.agents:
        for log in agent.work_dir.rglob(LOG_NAME):
            if pid in str(log):
                return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return []


async def deploy(s: InProcessScheduler, nodes: int = 3) -> list[dict[str, Any]]:
    """Submit a cluster and wait for the deploy plan to complete; returns every distinct plan JSON seen."""
    assert s.store is not None and s.service is not None
    s.store.put_config(CLUSTER, {"nodes": nodes, **SMALL_NODE}, None)
    s.service.wake()
    seen: list[dict[str, Any]] = []

    def complete() -> bool:
        plan = render_plan(s.service.plans(CLUSTER)["deploy"])  # type: ignore[union-attr]
        if not seen or seen[-1] != plan:
            seen.append(plan)
        return plan["status"] == "COMPLETE"

    await eventually("the deploy plan to complete", complete, timeout=60)
    return seen
