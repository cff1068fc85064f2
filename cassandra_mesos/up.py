"""``cassandra-mesos up``: a whole local deployment in the foreground, for development and demos.

It starts, in order, a ZooKeeper server (the pinned jars), localmesos (a master and N process
agents, one loopback address each), and the scheduler (``cassandra-mesos scheduler --config``
as a subprocess, so it can be restarted or killed on its own) with its REST API; then it PUTs
cluster ``--cluster`` through the API, shows the deploy plan block by block, and prints the web
URL and the CQL contact points. SIGINT/SIGTERM stop everything it started, in reverse order,
and a final sweep kills any JVM left under its work dir.

``LocalStack`` is the same machinery without the display: the end-to-end tests and the cluster
creation benchmark use it to run the real stack (real sidecars, real Cassandra).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import httpx
import psutil
import yaml
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cassandra_mesos.zookeeper_server import ZooKeeperServer, free_port
from framework.config import parse_config
from jvm import CASSANDRA_VERSION, JarsNotFound, JavaNotFound, cassandra_lib, find_java17
from localmesos.harness import HarnessError, LocalMesos
from model.cluster import VERSION_PLACEHOLDER
from model.node_config import DEV_CASSANDRA_YAML, FAST_START_JVM_OPTIONS

# Enough for a few 512 MB-heap nodes per agent.
AGENT_RESOURCES = "cpus:4;mem:8192;disk:65536"
# Each agent gets its own port range below the kernel's ephemeral ports: agents here share
# 127.0.0.1, where Cassandra binds its local JMX port, so equal ranges would collide.
PORTS_PER_AGENT = 100
# Ports every agent offers: storage and ssl_storage of up to 10 clusters.
SHARED_PORTS = 20
MAX_AGENTS = 100
# Deadlines for each process to come up; generous because a loaded 2-core machine is slow.
STARTUP_TIMEOUT_S = 180.0
REPO = Path(__file__).resolve().parent.parent


class UpError(RuntimeError):
    """Something `up` needs is missing or did not start; the message says what and where to look."""


@dataclass(frozen=True)
class StackSettings:
    """What a local stack looks like. Port 0 means "pick a free one"."""

    work_dir: Path
    api_port: int = 9000
    mesos_port: int = 5050
    zk_port: int = 2181
    agents: int = 3
    agent_resources: str = AGENT_RESOURCES
    port_base: int = 20000
    role: str = "cassandra"
    # Short intervals: one machine, nothing to protect from load.
    timing: Mapping[str, float] = field(
        default_factory=lambda: {
            "cycle_interval_s": 1.0,
            "health_interval_s": 2.0,
            # nodetool behind the sidecar's /status is a JVM per call: seconds on a laptop, and
            # over 20 s on an oversubscribed one (a node CQL-ready for minutes stayed UNKNOWN).
            "health_timeout_s": 60.0,
            "reconcile_retry_s": 3.0,
            "driver_backoff_initial_s": 0.2,
            "driver_backoff_max_s": 2.0,
            "refuse_seconds": 5.0,
        }
    )
    kill_grace_period_s: float = 30.0
    # Extra environment of node tasks (PYTHONPATH when the project is not installed).
    node_environment: Mapping[str, str] = field(default_factory=dict)


def agent_resources(settings: StackSettings) -> list[str]:
    """Per-agent resources: the same cpus/mem/disk; a distinct port range each, so ports bound on
    127.0.0.1 (Cassandra's local JMX) never meet; and above them one block all agents offer, where
    a cluster's nodes take the storage ports they must share (each agent has its own IP)."""
    shared_low = settings.port_base + settings.agents * PORTS_PER_AGENT
    shared = f"{shared_low}-{shared_low + SHARED_PORTS - 1}"
    ranges = []
    for i in range(settings.agents):
        low = settings.port_base + i * PORTS_PER_AGENT
        ranges.append(f"{settings.agent_resources};ports:[{low}-{low + PORTS_PER_AGENT - 1},{shared}]")
    return ranges


def demo_spec(nodes: int, heap_mb: int = 512) -> dict[str, Any]:
    """The cluster `up` creates: small nodes that fit a laptop, development Cassandra sizing."""
    return {
        "nodes": nodes,
        "cpus": 0.5,
        "mem_mb": 1536,
        "heap_mb": heap_mb,
        "disk_mb": 2048,
        "cassandra_yaml": dict(DEV_CASSANDRA_YAML),
    }


def lib_template(lib: Path) -> str:
    """The jar cache's lib dir of the pinned release with the release replaced by ``{version}``,
    so a cluster whose spec names another 5.0 release runs that release's jars (when cached)."""
    pinned = f"cassandra-{CASSANDRA_VERSION}"
    if lib.parent.name == pinned:
        return str(lib.parent.parent / f"cassandra-{VERSION_PLACEHOLDER}" / lib.name)
    return str(lib)


def scheduler_config(
    settings: StackSettings,
    master_url: str,
    zk_hosts: str,
    api_port: int,
    cassandra_lib_dir: Path,
    java_home: Path,
) -> dict[str, Any]:
    """The scheduler's config file for a local stack: the real sidecar as the node command."""
    return {
        "masters": [master_url],
        "zookeeper": {
            "hosts": zk_hosts,
            "root": "/cassandra-mesos",
            "instance": "dc1",
            "session_timeout_s": 6.0,
        },
        "framework": {"name": "cassandra", "role": settings.role, "principal": "cassandra"},
        "api": {"host": "127.0.0.1", "port": api_port},
        "node": {
            # Agents run tasks with a Mesos-exact environment (no HOME, a default PATH): name the
            # interpreter, the jars and the JDK explicitly.
            "command": f"{sys.executable} -m sidecar",
            "environment": dict(settings.node_environment),
            "cassandra_lib": lib_template(cassandra_lib_dir),
            "java_home": str(java_home),
            "kill_grace_period_s": settings.kill_grace_period_s,
            "jvm_options": list(FAST_START_JVM_OPTIONS),
        },
        "timing": dict(settings.timing),
    }


def _port_or_free(port: int) -> int:
    return port if port else free_port()


def _check_port_free(port: int, what: str, flag: str) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UpError(
                f"{what} port {port} is already in use: pick another with {flag} (0 = any free port)"
            ) from None


def _java_home() -> Path:
    return find_java17().resolve().parent.parent


class LocalStack:
    """ZooKeeper + localmesos + a scheduler process: ``with LocalStack(StackSettings(d)) as s: ...``."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.work_dir = settings.work_dir.resolve()
        self.zookeeper: ZooKeeperServer | None = None
        self.mesos: LocalMesos | None = None
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.api_port = 0
        self.config_file = self.work_dir / "scheduler.yaml"
        self.scheduler_log = self.work_dir / "scheduler.log"

    # ------------------------------------------------------------------ lifecycle

    def start(self, on_step: Callable[[str], None] = lambda _: None) -> LocalStack:
        s = self.settings
        try:
            lib, java_home = cassandra_lib(), _java_home()
        except (JarsNotFound, JavaNotFound) as exc:
            raise UpError(str(exc)) from None
        for port, what, flag in (
            (s.zk_port, "ZooKeeper", "--zk-port"),
            (s.mesos_port, "Mesos master", "--mesos-port"),
            (s.api_port, "API", "--api-port"),
        ):
            if port:
                _check_port_free(port, what, flag)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            on_step("starting ZooKeeper")
            self.zookeeper = ZooKeeperServer(
                self.work_dir / "zookeeper", port=_port_or_free(s.zk_port), start_timeout=STARTUP_TIMEOUT_S
            )
            self.zookeeper.start()
            on_step(f"starting localmesos: a master and {s.agents} agents")
            self.mesos = LocalMesos(
                self.work_dir,
                agents=s.agents,
                agent_resources=agent_resources(s),
                attributes=[f"rack:rack{i + 1}" for i in range(s.agents)],
                allocation_interval=0.5,
                heartbeat_interval=2.0,
                agent_ping_timeout=2.0,
                max_agent_ping_timeouts=5,
                startup_timeout=STARTUP_TIMEOUT_S,
            )
            # The harness always asks for an ephemeral port; `up` honours --mesos-port.
            self.mesos.argv[self.mesos.argv.index("--port") + 1] = str(s.mesos_port)
            self.mesos.__enter__()
            self.api_port = _port_or_free(s.api_port)
            config = scheduler_config(
                s, self.mesos.master_url, self.zookeeper.hosts, self.api_port, lib, java_home
            )
            parse_config(config)  # a bad config fails here with its reason, not in the child
            self.config_file.write_text(yaml.safe_dump(config))
            on_step("starting the scheduler and its API")
            self.start_scheduler()
        except BaseException:
            self.close()
            raise
        return self

    def start_scheduler(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Start the scheduler process (again) and wait until its API answers /v1/health."""
        if self.scheduler is not None and self.scheduler.poll() is None:
            return
        with self.scheduler_log.open("ab") as out:
            self.scheduler = subprocess.Popen(
                [sys.executable, "-m", "cassandra_mesos.cli", "scheduler", "--config", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: a terminal's Ctrl-C reaches `up` alone, which stops things in order.
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self._api_answers():
            if self.scheduler.poll() is not None:
                raise UpError(
                    f"the scheduler exited with {self.scheduler.returncode}; log {self.scheduler_log}:\n"
                    + _tail(self.scheduler_log)
                )
            if time.monotonic() > deadline:
                raise UpError(
                    f"the scheduler API did not answer within {timeout:.0f}s; log {self.scheduler_log}"
                )
            time.sleep(0.2)

    def _api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler's process group: no resignation, no clean ZooKeeper close."""
        proc = self.scheduler
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_scheduler(self, timeout: float = 20.0) -> None:
        proc = self.scheduler
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        self.kill_scheduler()

    def close(self) -> None:
        """Stop everything, newest first; then kill any process still running from the work dir."""
        with contextlib.suppress(Exception):
            self.stop_scheduler()
        if self.mesos is not None:
            with contextlib.suppress(Exception):
                self.mesos.close()
        if self.zookeeper is not None:
            with contextlib.suppress(Exception):
                self.zookeeper.stop()
        kill_strays(self.work_dir)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ what callers use

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> httpx.Response:
        return httpx.request(method, f"{self.api_url}{path}", json=body, timeout=timeout)

    def pids(self) -> set[int]:
        """Every live process this stack started, tasks and their JVMs included."""
        found = processes_under(self.work_dir)
        if self.scheduler is not None and self.scheduler.poll() is None:
            found.add(self.scheduler.pid)
        return found


def processes_under(work_dir: Path) -> set[int]:
    """Live processes whose command line or working directory lies under ``work_dir``.

    Cassandra JVMs run in their own sessions, so process groups alone do not find them; their
    command lines name their sandbox (config files, data dirs), which lies under the work dir.
    """
    root = str(work_dir.resolve())
    found: set[int] = set()
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "cwd", "status"]):
        info = proc.info
        if info["pid"] == me or info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(info.get("cmdline") or ())
        cwd = info.get("cwd") or ""
        if root in cmdline or cwd.startswith(root):
            found.add(info["pid"])
    return found


def kill_strays(work_dir: Path, timeout: float = 10.0) -> set[int]:
    """SIGKILL whatever still runs from ``work_dir``; returns the pids it had to kill."""
    strays = processes_under(work_dir)
    for pid in strays:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while strays and time.monotonic() < deadline and processes_under(work_dir) & strays:
        time.sleep(0.1)
    return strays


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------- the progress display

_STATUS_STYLE = {
    "COMPLETE": "green",
    "STARTED": "cyan",
    "STARTING": "cyan",
    "PREPARED": "cyan",
    "PENDING": "dim",
    "WAITING": "yellow",
    "ERROR": "red",
}


def plan_table(cluster: str, plan: Mapping[str, Any] | None, elapsed_s: float) -> Table:
    """The deploy plan as a table: one row per block, with its status and message."""
    status = str(plan.get("status", "?")) if plan else "waiting for the plan"
    table = Table(title=f"cluster {cluster}: deploy {status} ({elapsed_s:.0f}s)", title_justify="left")
    table.add_column("phase")
    table.add_column("block")
    table.add_column("status")
    table.add_column("message", overflow="fold")
    for phase in (plan or {}).get("phases", []):
        for block in phase.get("blocks", []):
            st = str(block.get("status", ""))
            table.add_row(
                str(phase.get("name", "")),
                str(block.get("name", "")),
                Text(st, style=_STATUS_STYLE.get(st, "")),
                str(block.get("message") or ""),
            )
    return table


def _get_json(stack: LocalStack, path: str) -> Any:
    try:
        r = stack.api("GET", path, timeout=5)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def contact_points(stack: LocalStack, cluster: str) -> list[str]:
    answer = _get_json(stack, f"/v1/clusters/{cluster}/connection")
    return [str(a) for a in answer.get("address", [])] if isinstance(answer, dict) else []


def wait_deployed(
    stack: LocalStack,
    cluster: str,
    nodes: int,
    on_plan: Callable[[Mapping[str, Any] | None], None] = lambda _: None,
    timeout: float = 900.0,
) -> list[str]:
    """Poll the deploy plan until COMPLETE with ``nodes`` CQL contact points; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        plan = _get_json(stack, f"/v1/clusters/{cluster}/plans/deploy")
        on_plan(plan)
        if isinstance(plan, dict) and plan.get("status") == "COMPLETE":
            points = contact_points(stack, cluster)
            if len(points) >= nodes:
                return points
        if stack.scheduler is not None and stack.scheduler.poll() is not None:
            raise UpError(f"the scheduler exited; log {stack.scheduler_log}:\n{_tail(stack.scheduler_log)}")
        if time.monotonic() > deadline:
            raise UpError(f"cluster {cluster} was not deployed within {timeout:.0f}s")
        time.sleep(1.0)


def block_lines(plan: Mapping[str, Any] | None) -> list[str]:
    """One line per block, ``phase/block STATUS message``: the progress when output is not a terminal."""
    return [
        f"{phase.get('name')}/{block.get('name')} {block.get('status')}"
        + (f" {block['message']}" if block.get("message") else "")
        for phase in (plan or {}).get("phases", [])
        for block in phase.get("blocks", [])
    ]


def _deploy_with_progress(
    stack: LocalStack, cluster: str, nodes: int, out: Console, started: float
) -> list[str]:
    if out.is_terminal:
        with Live(plan_table(cluster, None, 0), console=out, refresh_per_second=2) as live:
            return wait_deployed(
                stack,
                cluster,
                nodes,
                on_plan=lambda plan: live.update(plan_table(cluster, plan, time.monotonic() - started)),
            )
    shown: set[str] = set()

    def print_changes(plan: Mapping[str, Any] | None) -> None:
        for line in block_lines(plan):
            if line not in shown:
                shown.add(line)
                out.print(f"[{time.monotonic() - started:5.0f}s] {line}", highlight=False, markup=False)

    return wait_deployed(stack, cluster, nodes, on_plan=print_changes)


class _Stop(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """SIGINT and SIGTERM unwind into the clean stop. Installed explicitly: a process started in
    the background of a non-interactive shell inherits SIGINT ignored, and `up` must still obey it."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_up(
    work_dir: Path | None,
    api_port: int,
    mesos_port: int,
    zk_port: int,
    agents: int,
    nodes: int,
    cluster: str,
    console: Console | None = None,
) -> int:
    """The `up` command; returns the exit code (0 after a clean Ctrl-C, 1 when something failed)."""
    if console is None and hasattr(sys.stdout, "reconfigure"):
        # Piped output (a script waiting for the contact points line) must not sit in a buffer.
        sys.stdout.reconfigure(line_buffering=True)
    out = console or Console(soft_wrap=True)  # a contact points line must stay one line
    if agents < 1:
        out.print("error: --agents must be at least 1")
        return 2
    if nodes < 0:
        out.print("error: --nodes must be 0 or more")
        return 2
    if agents > MAX_AGENTS:
        out.print(f"error: --agents {agents} is too many for one machine (at most {MAX_AGENTS})")
        return 2
    if nodes > agents:
        out.print(f"error: --nodes {nodes} needs as many agents (one node per agent); got --agents {agents}")
        return 2
    keep = work_dir is not None
    if work_dir is not None:
        if work_dir.exists() and (not work_dir.is_dir() or any(work_dir.iterdir())):
            out.print(f"error: --work-dir {work_dir} is not an empty directory; give a new or empty one")
            return 2
        base = work_dir
    else:
        base = Path(tempfile.mkdtemp(prefix="cassandra-mesos-up-"))
    settings = StackSettings(
        work_dir=base, api_port=api_port, mesos_port=mesos_port, zk_port=zk_port, agents=agents
    )
    stack = LocalStack(settings)
    code = 0
    with _signals_unwind():
        try:
            stack.start(on_step=lambda step: out.print(f"[bold]up[/bold]: {step}"))
            assert stack.mesos is not None and stack.zookeeper is not None
            out.print(f"ZooKeeper  {stack.zookeeper.hosts}")
            out.print(
                f"Mesos      {stack.mesos.master_url}  ({agents} agents: "
                + ", ".join(a.ip for a in stack.mesos.agents)
                + ")"
            )
            out.print(f"API        {stack.api_url}   logs: {stack.work_dir}")
            if nodes:
                r = stack.api("PUT", f"/v1/clusters/{cluster}", demo_spec(nodes))
                if r.status_code != 202:
                    raise UpError(f"creating cluster {cluster} was refused: HTTP {r.status_code} {r.text}")
                started = time.monotonic()
                points = _deploy_with_progress(stack, cluster, nodes, out, started)
                out.print(
                    f"cluster {cluster}: {nodes} node(s) UN and answering CQL "
                    f"after {time.monotonic() - started:.0f}s"
                )
                out.print(f"CQL contact points: {','.join(points)}", highlight=False)
            out.print(f"Web UI: {stack.api_url}/", highlight=False)
            out.print("Ready. Press Ctrl-C to stop everything.", highlight=False)
            while True:
                if stack.scheduler is not None and stack.scheduler.poll() is not None:
                    raise UpError(
                        f"the scheduler exited; log {stack.scheduler_log}:\n{_tail(stack.scheduler_log)}"
                    )
                time.sleep(1.0)
        except (KeyboardInterrupt, _Stop):
            out.print("stopping: scheduler, Cassandra nodes, localmesos, ZooKeeper ...")
        except (UpError, HarnessError) as exc:
            out.print(f"error: {exc}", highlight=False, markup=False)
            code = 1
        finally:
            # A second Ctrl-C or SIGTERM while stopping must not cut the stop short and leave JVMs.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            stack.close()
            if not keep:
                shutil.rmtree(base, ignore_errors=True)
            out.print("stopped.")
    return code


__all__ = [
    "LocalStack",
    "StackSettings",
    "UpError",
    "agent_resources",
    "block_lines",
    "contact_points",
    "demo_spec",
    "kill_strays",
    "plan_table",
    "processes_under",
    "run_up",
    "scheduler_config",
    "wait_deployed",
]
